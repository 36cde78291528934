import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { gridFor, mapsFromAttention, normaliseMap, renderAttentionPng, rollout, windowQueryMap, windowRollout } from '../../src/attention/render.js';
import { panelSize } from '../../src/image/panel.js';
import { SwinBlock } from '../../src/attention/swin.js';
import { collectAttention } from '../../src/attention/capture.js';
import { ModelState } from '../../src/nn/state.js';
import { ConstantBinding } from '../../src/nn/binding.js';
import { withBinding } from '../../src/nn/module.js';
import { Graph } from '../../src/graph/graph.js';
import { CompiledGraph } from '../../src/runtime/session.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

test('attention maps: grid factoring, per-query row selection and rollout', () => {
  assert.deepEqual(gridFor(12, 0.75), [3, 4]);
  assert.deepEqual(gridFor(49, 1), [7, 7]);
  // [B=1, N=4, N=4] attention where query i attends only to key 3 - i.
  const a = new Float32Array(16);
  for (let i = 0; i < 4; i++) a[i * 4 + (3 - i)] = 1;
  const { maps, matrix } = mapsFromAttention('t', a, [1, 4, 4], 1, [0, 0]); // query 0 (top-left)
  assert.deepEqual([...maps[0]!.values], [0, 0, 0, 1]);
  assert.equal(matrix!.n, 4);
  // Rollout of one uniform layer: 0.5 * uniform + 0.5 * I.
  const u = new Float32Array(4).fill(0.5);
  const r = rollout([u], 2);
  assert.deepEqual([...r].map((v) => Math.round(v * 100) / 100), [0.75, 0.25, 0.25, 0.75]);
  // Rows of a rollout stay distributions.
  const r2 = rollout([a, u.length === 4 ? new Float32Array(16).fill(0.25) : a], 4);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(r2.subarray(i * 4, i * 4 + 4).reduce((s, v) => s + v, 0) - 1) < 1e-6);
});

test('attnvision attention renders a PNG for an attention model', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'attnvision-attn-'));
  const img = path.join(dir, 'in.png');
  await sharp({ create: { width: 40, height: 30, channels: 3, background: '#3a6' } }).png().toFile(img);
  const out = path.join(dir, 'attn.png');
  const r = spawnSync(process.execPath, [cli, 'attention', 'tiny_vit', img, '--size', '16', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /1 attention modules \(attn\)/);
  const meta = await sharp(out).metadata();
  assert.equal(meta.width, 512, 'input panel + one attention panel');
  assert.ok((await stat(out)).size > 500);
  const none = spawnSync(process.execPath, [cli, 'attention', 'tiny_cnn', img, '--size', '16', '--out', out], { encoding: 'utf8' });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no attention modules/);
});

test('window attention maps: the query window is found in the shifted grid and keys go back to their positions', async () => {
  // 8x8 grid, window 4, shift 2: original token (1,1) sits at (7,7) of the rolled grid, i.e. window
  // (1,1) = index 3, position 15 in it; its key 0 is rolled-grid (4,4) = original (6,6).
  const layout = { height: 8, width: 8, paddedHeight: 8, paddedWidth: 8, window: 4, shiftH: 2, shiftW: 2 };
  const heads = 2;
  const a = new Float32Array(4 * heads * 16 * 16);
  for (let h = 0; h < heads; h++) a[((3 * heads + h) * 16 + 15) * 16 + 0] = 1;
  const m = windowQueryMap('blk', a, [4, heads, 16, 16], layout, [1.5 / 8, 1.5 / 8]);
  assert.deepEqual([m.rows, m.cols], [8, 8]);
  assert.deepEqual([...m.values.keys()].filter((i) => m.values[i]! > 0), [6 * 8 + 6]);
  assert.match(m.title, /blk \(query 19%,19%, shifted windows\)/);
  // Padding: a 6x6 grid padded to 8x8; keys in the padding are dropped, not wrapped onto the image.
  const padded = { ...layout, height: 6, width: 6, shiftH: 0, shiftW: 0 };
  const b = new Float32Array(4 * 16 * 16).fill(1 / 16);
  const pm = windowQueryMap('pad', b, [4, 1, 16, 16], padded, [0.9, 0.9]); // token (5,5): window 3
  const hot = [...pm.values.keys()].filter((i) => pm.values[i]! > 0);
  assert.deepEqual(hot, [4 * 6 + 4, 4 * 6 + 5, 5 * 6 + 4, 5 * 6 + 5]);
  assert.throws(() => windowQueryMap('bad', b, [4, 1, 9, 9], padded, [0, 0]), /bad: window attention of shape \[4, 1, 9, 9\] does not match window 4/);

  // A real shifted Swin block: the captured layout says where its windows are, and the rendered
  // map of the centre query is nonzero only inside the centre token's shifted window.
  const blk = new SwinBlock(8, 2, { windowSize: 4, shiftSize: 2, returnAttention: true });
  const state = ModelState.init(blk, 3);
  const graph = new Graph();
  const captured = graph.run(() => {
    const x = graph.input('x', [1, 8, 8, 8]);
    withBinding(new ConstantBinding(graph, state), () => blk.call(x));
    return collectAttention(blk);
  });
  assert.deepEqual(captured[0]!.windows, layout);
  const run = await CompiledGraph.compile(graph, [captured[0]!.tensor], { outputNames: ['a'] });
  const res = await run.run({ x: Float32Array.from({ length: 512 }, (_, i) => Math.sin(i)) });
  const real = windowQueryMap('attn', res.a!.data as Float32Array, captured[0]!.tensor.shape, captured[0]!.windows!, [4.5 / 8, 4.5 / 8]);
  // Token (4,4) -> rolled (2,2): window 0, whose rolled rows/cols 0..3 are original 2..5.
  const inside = (i: number) => Math.floor(i / 8) >= 2 && Math.floor(i / 8) <= 5 && i % 8 >= 2 && i % 8 <= 5;
  const nonzero = [...real.values.keys()].filter((i) => real.values[i]! > 0);
  assert.ok(nonzero.length >= 15 && nonzero.every(inside), `nonzero at ${nonzero}`);
});

test('Swin rollout through window layers and patch merging equals the dense matrix product', () => {
  // Three layers: 6x6 grid (window 4, padded to 8x8) unshifted and shifted by 2, then patch merging
  // to 3x3 (one window of 3). Random row-stochastic attention within each window.
  let seed = 5;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const layouts = [
    { height: 6, width: 6, paddedHeight: 8, paddedWidth: 8, window: 4, shiftH: 0, shiftW: 0 },
    { height: 6, width: 6, paddedHeight: 8, paddedWidth: 8, window: 4, shiftH: 2, shiftW: 2 },
    { height: 3, width: 3, paddedHeight: 3, paddedWidth: 3, window: 3, shiftH: 0, shiftW: 0 },
  ];
  const heads = 2;
  const layers = layouts.map((layout) => {
    const n = layout.window ** 2;
    const nW = (layout.paddedHeight / layout.window) * (layout.paddedWidth / layout.window);
    const data = new Float32Array(nW * heads * n * n);
    for (let r = 0; r < nW * heads * n; r++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += data[r * n + k] = rand() + 0.01;
      for (let k = 0; k < n; k++) data[r * n + k]! /= s;
    }
    return { data, shape: [nW, heads, n, n], layout };
  });
  // Dense reference, built from the other direction: original grid position -> rolled position -> window.
  const dense = (l: (typeof layers)[number]): number[][] => {
    const { height: H, width: W, paddedHeight: Hp, paddedWidth: Wp, window: m, shiftH, shiftW } = l.layout;
    const n = m * m;
    const loc = (i: number) => {
      const ry = (Math.floor(i / W) - shiftH + Hp) % Hp;
      const rx = ((i % W) - shiftW + Wp) % Wp;
      return { win: Math.floor(ry / m) * (Wp / m) + Math.floor(rx / m), local: (ry % m) * m + (rx % m) };
    };
    const A = Array.from({ length: H * W }, (_, q) => Array.from({ length: H * W }, (_, k) => {
      const a = loc(q);
      const b = loc(k);
      if (a.win !== b.win) return 0;
      let v = 0;
      for (let h = 0; h < heads; h++) v += l.data[((a.win * heads + h) * n + a.local) * n + b.local]! / heads;
      return 0.5 * v + (q === k ? 0.5 : 0);
    }));
    return A.map((row) => row.map((v) => v / row.reduce((s, x) => s + x, 0)));
  };
  const matmul = (a: number[][], b: number[][]) => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
  // Merge [Hc*Wc, Hf*Wf]: coarse token (y, x) spreads evenly over the fine tokens (2y..2y+1, 2x..2x+1) that exist.
  const merge = (Hf: number, Wf: number) => {
    const Hc = Math.ceil(Hf / 2);
    const Wc = Math.ceil(Wf / 2);
    return Array.from({ length: Hc * Wc }, (_, c) => {
      const kids = Array.from({ length: Hf * Wf }, (_, f) => Math.floor(Math.floor(f / Wf) / 2) === Math.floor(c / Wc) && Math.floor((f % Wf) / 2) === c % Wc);
      const n = kids.filter(Boolean).length;
      return kids.map((k) => (k ? 1 / n : 0));
    });
  };
  const R = matmul(matmul(matmul(dense(layers[2]!), merge(6, 6)), dense(layers[1]!)), dense(layers[0]!)); // [9, 36]
  const u = Float32Array.from({ length: 9 }, (_, i) => (i === 4 ? 0.7 : 0.3 / 8));
  const want = R[0]!.map((_, j) => R.reduce((s, row, i) => s + u[i]! * row[j]!, 0));
  const got = windowRollout(layers, u);
  assert.deepEqual([got.rows, got.cols], [6, 6]);
  want.forEach((w, j) => assert.ok(Math.abs(got.values[j]! - w) < 1e-5, `token ${j}: ${got.values[j]} vs ${w}`));
  assert.ok(Math.abs(got.values.reduce((s, v) => s + v, 0) - 1) < 1e-5, 'a distribution over the first grid');
  // Default: uniform over the last grid's tokens.
  const uniform = windowRollout(layers);
  const wantU = R[0]!.map((_, j) => R.reduce((s, row) => s + row[j]! / 9, 0));
  wantU.forEach((w, j) => assert.ok(Math.abs(uniform.values[j]! - w) < 1e-5));
  // An odd grid (5x5, window 3 padded to 6x6) merges into 3x3, whose last row and column have fewer fine tokens.
  const odd = [{ height: 5, width: 5, paddedHeight: 6, paddedWidth: 6, window: 3, shiftH: 1, shiftW: 1 }, layouts[2]!].map((layout) => {
    const n = layout.window ** 2;
    const nW = (layout.paddedHeight / layout.window) * (layout.paddedWidth / layout.window);
    const data = Float32Array.from({ length: nW * heads * n * n }, () => rand() + 0.01);
    for (let r = 0; r < nW * heads * n; r++) {
      const row = data.subarray(r * n, (r + 1) * n);
      const sum = row.reduce((a, b) => a + b, 0);
      row.forEach((v, k) => (row[k] = v / sum));
    }
    return { data, shape: [nW, heads, n, n], layout };
  });
  const Ro = matmul(matmul(dense(odd[1]!), merge(5, 5)), dense(odd[0]!)); // [9, 25]
  const gotOdd = windowRollout(odd);
  Ro[0]!.forEach((_, j) => assert.ok(Math.abs(gotOdd.values[j]! - Ro.reduce((s, row) => s + row[j]! / 9, 0)) < 1e-5, `odd grid token ${j}`));
  // Grids that do not merge 2x2, and wrong query sizes, are named.
  assert.throws(() => windowRollout([layers[0]!, { ...layers[2]!, layout: { ...layouts[2]!, height: 2, width: 2, paddedHeight: 3, paddedWidth: 3 } }]), /layer 0 grid 6x6 does not merge 2x2 into layer 1 grid 2x2/);
  assert.throws(() => windowRollout(layers, new Float32Array(4)), /expected 9 query weights but received 4/);
  assert.throws(() => windowRollout([]), /no window attention layers/);
});

test('attnvision attention on a Swin model renders the cross-stage rollout', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'attnvision-attn-swin-'));
  const img = path.join(dir, 'in.png');
  await sharp({ create: { width: 48, height: 48, channels: 3, background: '#a63' } }).png().toFile(img);
  const out = path.join(dir, 'attn.png');
  const r = spawnSync(process.execPath, [cli, 'attention', 'swin_micro_patch2_window4_96', img, '--size', '32', '--classes', '3', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [, maps, modules] = /wrote .*: (\d+) maps from (\d+) attention modules/.exec(r.stdout)!;
  assert.equal(Number(maps), Number(modules) + 2, 'one map per window layer plus two rollouts');
  const meta = await sharp(out).metadata();
  // Panels: the input and every map, 4 per row, each 256 x (256 + 20 caption) for a square image.
  assert.deepEqual([meta.width, meta.height], [1024, Math.ceil((Number(maps) + 1) / 4) * 276]);
  assert.match(r.stdout, /attention modules \(.*layers\.\d+\.blocks\.\d+/);
  assert.ok((await stat(out)).size > 500);
});

test('attention maps of a tall image keep its aspect (narrow panels, as heatmaps), never squash it', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'attnvision-tall-'));
  const img = path.join(dir, 'tall.png');
  await sharp({ create: { width: 20, height: 400, channels: 3, background: '#36a' } }).png().toFile(img);
  const out = path.join(dir, 'attn.png');
  await renderAttentionPng(img, [{ title: 'map', rows: 2, cols: 1, values: Float32Array.of(1, 0) }], out, 256);
  const { pw, ph } = panelSize(20, 400, 256);
  assert.deepEqual([pw, ph], [26, 520]);
  const meta = await sharp(out).metadata();
  assert.deepEqual([meta.width, meta.height], [2 * 160, ph + 20], 'two cells of the caption width, one panel tall plus its title');
});

test('normaliseMap: min -> 0 and max -> 1; a constant positive map (one-token window) is uniform attention, not a blank panel', () => {
  assert.deepEqual(Array.from(normaliseMap(Float32Array.of(0.2, 0.6, 1))), [0, 0.5, 1].map((v) => Math.fround(v)));
  assert.deepEqual(Array.from(normaliseMap(Float32Array.of(1))), [1]);
  assert.deepEqual(Array.from(normaliseMap(Float32Array.of(0.25, 0.25, 0.25, 0.25))), [1, 1, 1, 1]);
  assert.deepEqual(Array.from(normaliseMap(Float32Array.of(0, 0))), [0, 0]);
});
