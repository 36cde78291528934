/**
 * Batched matmul with batch broadcasting: forward values against a triple loop, FD gradients over
 * broadcast batch shapes, and the inner-dimension error message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../src/graph/index.js';
import { gradCheck } from '../helpers/gradcheck.js';
import { Rng } from '../helpers/rng.js';
import { assertClose, assertShapeError, bcastAt, evaluate, f32, sizeOf, unravel } from './util.js';

function refMatmul(a: Float32Array, as: number[], b: Float32Array, bs: number[]): { shape: number[]; data: number[] } {
  const [n, k] = as.slice(-2) as [number, number];
  const m = bs[bs.length - 1]!;
  const ab = as.slice(0, -2);
  const bb = bs.slice(0, -2);
  const rank = Math.max(ab.length, bb.length);
  const batch = Array.from({ length: rank }, (_, i) => Math.max(ab[i - (rank - ab.length)] ?? 1, bb[i - (rank - bb.length)] ?? 1));
  const shape = [...batch, n, m];
  const data = Array.from({ length: sizeOf(shape) }, (_, o) => {
    const idx = unravel(o, shape);
    const bi = idx.slice(0, rank);
    const [i, j] = idx.slice(rank) as [number, number];
    let acc = 0;
    for (let p = 0; p < k; p++) acc += bcastAt(a, as, [...bi, i, p]) * bcastAt(b, bs, [...bi, p, j]);
    return acc;
  });
  return { shape, data };
}

const CONFIGS: [number[], number[]][] = [
  [[3, 4], [4, 2]],
  [[2, 3, 4], [4, 5]],
  [[2, 1, 3, 4], [3, 4, 2]],
  [[3, 4], [2, 4, 3]],
  [[1, 2, 3], [2, 3, 2]],
];

test('matmul: forward values with batch broadcasting', async () => {
  const rng = new Rng(4);
  for (const [as, bs] of CONFIGS) {
    const a = rng.normalArray(sizeOf(as));
    const b = rng.normalArray(sizeOf(bs));
    const [y] = await evaluate([f32(as, a), f32(bs, b)], (x, w) => F.matmul(x, w));
    const ref = refMatmul(a, as, b, bs);
    assert.deepEqual([...y!.shape], ref.shape, `${as} x ${bs}`);
    assertClose(y!, ref.data, `matmul ${as} x ${bs}`, 1e-5);
  }
});

test('matmul: gradients with batch broadcasting on both sides', async () => {
  for (const [i, [as, bs]] of CONFIGS.entries()) {
    await gradCheck(`matmul ${as} x ${bs}`, [{ shape: as }, { shape: bs }], (a, b) => F.matmul(a, b), { seed: i + 1 });
  }
  await gradCheck('linear', [{ shape: [2, 3] }, { shape: [4, 3] }, { shape: [4] }], (x, w, b) => F.linear(x, w, b));
});

test('matmul shape errors', () => {
  // the exact form of every shape error: <module path>: <op> <input shapes>: <reason>
  assert.throws(
    () => F.Graph.trace((g) => g.withScope('stages.2.blocks.1.attn.qkv', () => F.matmul(g.input('a', [4, 49, 96]), g.input('b', [128, 288])))),
    { name: 'ShapeError', message: 'stages.2.blocks.1.attn.qkv: matmul [4,49,96] x [128,288]: inner dims 96 != 128' },
  );
  assertShapeError((g) => F.matmul(g.input('a', [4, 49, 96]), g.input('b', [128, 288])), ['matmul [4,49,96] x [128,288]', 'inner dims 96 != 128']);
  assertShapeError((g) => F.matmul(g.input('a', [2, 3, 4]), g.input('b', [3, 4, 5])), ['matmul [2,3,4] x [3,4,5]', 'batch dims [2] and [3] do not broadcast']);
  assertShapeError((g) => F.matmul(g.input('a', [4]), g.input('b', [4, 2])), ['matmul [4] x [4,2]', 'rank >= 2']);
});
