/**
 * SAN10/15/19 (pairwise and patchwise): parameter counts within 1% of the paper, and GFLOPs counted
 * as the paper's counter does (`sanPaperGflops`) equal to the paper's one-decimal figures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, summarize } from '../../src/models/index.js';
import { sanPaperGflops, type SAN } from '../../src/models/san.js';

for (const depth of ['san10', 'san15', 'san19']) {
  for (const kind of ['pairwise', 'patchwise']) {
    const name = `${depth}_${kind}`;
    test(`${name}: params within 1% and GFLOPs to the paper's precision`, async (t) => {
      const h = await createModel(name);
      const paper = h.info.paper!;
      assert.ok(Math.abs(h.state.numParams / paper.params! - 1) < 0.01, `params ${h.state.numParams} vs ${paper.params}`);
      const s = summarize(h);
      const g = sanPaperGflops(h.model as SAN, s);
      t.diagnostic(`params ${h.state.numParams}, GFLOPs ${g.toFixed(3)} (conv/matmul only ${s.gflops.toFixed(3)})`);
      // The paper prints one decimal: ours must round to the same value.
      assert.equal(g.toFixed(1), paper.gflops!.toFixed(1), `GFLOPs ${g} vs ${paper.gflops}`);
    });
  }
}
