/**
 * The fast conv weight gradient (im2col + GEMM) equals the plain reference (grouped conv with
 * stride and dilation swapped) over strides, padding, dilation, groups, 1x1 and 1-3 spatial dims.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/graph/index.js';
import { convAttrs, convWeightGrad, convWeightGradReference, conv } from '../../src/graph/ops/conv.js';
import { CompiledGraph } from '../../src/runtime/index.js';
import { Rng } from '../helpers/rng.js';

const cases: { x: number[]; w: number[]; stride?: number; padding?: number; dilation?: number; groups?: number }[] = [
  { x: [2, 4, 9, 9], w: [6, 4, 1, 1] },
  { x: [2, 4, 9, 8], w: [6, 4, 1, 1], stride: 2 },
  { x: [2, 4, 9, 9], w: [6, 4, 3, 3], padding: 1 },
  { x: [2, 4, 11, 10], w: [6, 2, 3, 3], stride: 2, padding: 1, groups: 2 },
  { x: [1, 6, 9, 9], w: [6, 1, 5, 5], padding: 2, groups: 6 },
  { x: [2, 3, 12, 12], w: [5, 3, 3, 3], padding: 2, dilation: 2 },
  { x: [2, 3, 15, 13], w: [4, 3, 7, 7], stride: 2, padding: 3 },
  { x: [2, 3, 10], w: [4, 3, 3], stride: 2, padding: 1 },
  { x: [1, 2, 4, 6, 6], w: [3, 2, 3, 3, 3], padding: 1 },
];

test('conv weight gradient: fast path matches the reference path', async () => {
  const rng = new Rng(11);
  for (const c of cases) {
    const { graph, result } = Graph.trace((g) => {
      const x = g.input('x', c.x);
      const w = g.input('w', c.w);
      const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
      const y = conv(x, w, null, opts);
      const gy = g.input('gy', y.shape);
      const a = convAttrs(opts, c.x.length - 2);
      return { outs: [convWeightGrad(x, gy, c.w, a), convWeightGradReference(x, gy, c.w, a)], gyShape: y.shape };
    });
    const run = await CompiledGraph.compile(graph, result.outs);
    const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
    const r = await run.run({ x: rng.normalArray(size(c.x)), w: rng.normalArray(size(c.w)), gy: rng.normalArray(size(result.gyShape)) });
    const fast = r.out0!.data as Float32Array;
    const ref = r.out1!.data as Float32Array;
    assert.equal(fast.length, size(c.w));
    for (let i = 0; i < fast.length; i++) assert.ok(Math.abs(fast[i]! - ref[i]!) < 1e-4 * (1 + Math.abs(ref[i]!)), `${JSON.stringify(c)} [${i}]: ${fast[i]} vs ${ref[i]}`);
  }
});
