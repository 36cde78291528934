/**
 * Reductions (sum, mean, max, argmax): forward values against loops, FD gradients over axes,
 * negative axes and keepdims, and shape errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../src/graph/index.js';
import type { Tensor } from '../../src/graph/index.js';
import { grad } from '../../src/autodiff/index.js';
import { gradCheck } from '../helpers/gradcheck.js';
import { Rng, distinctArray } from '../helpers/rng.js';
import { assertClose, assertShapeError, evaluate, f32, sizeOf, stridesOf, unravel } from './util.js';

/** Reference reduction over `axes` (normalised) of x with `shape`. */
function refReduce(x: ArrayLike<number>, shape: number[], axes: number[], kind: 'sum' | 'mean' | 'max' | 'argmax'): number[] {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out: number[] = [];
  const st = stridesOf(shape);
  const redShape = axes.map((a) => shape[a]!);
  for (let o = 0; o < sizeOf(outShape); o++) {
    const idx = unravel(o, outShape);
    let sum = 0;
    let best = -Infinity;
    let arg = 0;
    for (let r = 0; r < sizeOf(redShape); r++) {
      const ri = unravel(r, redShape);
      const full = [...idx];
      axes.forEach((a, k) => (full[a] = ri[k]!));
      const v = x[full.reduce((s, d, i) => s + d * st[i]!, 0)]!;
      sum += v;
      if (v > best) [best, arg] = [v, r];
    }
    out.push(kind === 'sum' ? sum : kind === 'mean' ? sum / sizeOf(redShape) : kind === 'max' ? best : arg);
  }
  return out;
}

test('reductions: forward values, keepdims, negative and omitted axes', async () => {
  const rng = new Rng(1);
  const shape = [2, 3, 4];
  const x = distinctArray(rng, sizeOf(shape), 0.25);
  const cases: { axes: number[] | undefined; norm: number[]; keepdims: boolean; out: number[] }[] = [
    { axes: [1], norm: [1], keepdims: false, out: [2, 4] },
    { axes: [-1, 0], norm: [0, 2], keepdims: true, out: [1, 3, 1] },
    { axes: undefined, norm: [0, 1, 2], keepdims: false, out: [] },
    { axes: [2], norm: [2], keepdims: true, out: [2, 3, 1] },
    // an empty axis list reduces nothing (ONNX would read it as "all axes")
    { axes: [], norm: [], keepdims: false, out: [2, 3, 4] },
  ];
  const outs = await evaluate([f32(shape, x)], (t) =>
    cases.flatMap(({ axes, keepdims }) => [F.reduceSum(t, axes, keepdims), F.reduceMean(t, axes, keepdims), F.reduceMax(t, axes, keepdims)]),
  );
  cases.forEach(({ norm, out }, i) => {
    for (const [k, kind] of (['sum', 'mean', 'max'] as const).entries()) {
      const got = outs[3 * i + k]!;
      assert.deepEqual([...got.shape], out, `${kind} axes ${norm}: shape`);
      assertClose(got, refReduce(x, shape, norm, kind), `${kind} axes ${norm}`, 1e-5);
    }
  });
  const [am, amKeep] = await evaluate([f32(shape, x)], (t) => [F.argmax(t, -1), F.argmax(t, 1, true)]);
  assert.deepEqual([...am!.shape], [2, 3]);
  assertClose(am!, refReduce(x, shape, [2], 'argmax'), 'argmax -1');
  assert.deepEqual([...amKeep!.shape], [2, 1, 4]);
  assertClose(amKeep!, refReduce(x, shape, [1], 'argmax'), 'argmax 1 keepdims');
});

test('reductions: gradients over axes and keepdims', async () => {
  const rng = new Rng(2);
  const configs: { shape: number[]; axes: number[] | number | undefined; keepdims: boolean }[] = [
    { shape: [2, 3, 4], axes: [1], keepdims: false },
    { shape: [2, 3, 4], axes: [-1, 0], keepdims: true },
    { shape: [3, 4], axes: undefined, keepdims: false },
    { shape: [2, 1, 3], axes: -2, keepdims: false },
    { shape: [2, 2], axes: [], keepdims: true },
  ];
  for (const { shape, axes, keepdims } of configs) {
    const label = `${shape} axes ${String(axes)} keepdims ${keepdims}`;
    await gradCheck(`reduce_sum ${label}`, [{ shape }], (x) => F.reduceSum(x, axes, keepdims));
    await gradCheck(`reduce_mean ${label}`, [{ shape }], (x) => F.reduceMean(x, axes, keepdims));
    await gradCheck(`reduce_max ${label}`, [{ shape, data: distinctArray(rng, sizeOf(shape), 0.1) }], (x) => F.reduceMax(x, axes, keepdims));
  }
});

test('reduce_max: ties share the gradient evenly', async () => {
  const [g] = await evaluate([f32([2, 3], [1, 3, 3, 5, 2, 1])], (x) => grad(F.reduceSum(F.reduceMax(x, 1)), [x]) as Tensor[]);
  assertClose(g!, [0, 0.5, 0.5, 1, 0, 0], 'reduce_max tie gradient');
});

test('reduction shape errors', () => {
  assertShapeError((g) => F.reduceSum(g.input('x', [2, 3]), 2), ['reduce_sum [2,3]', 'axis 2 out of range for rank 2']);
  assertShapeError((g) => F.reduceMean(g.input('x', [2, 3]), [1, -1]), ['reduce_mean [2,3]', 'axis -1 repeated']);
  assertShapeError((g) => F.argmax(g.input('x', [2, 3]), -3), ['argmax [2,3]', 'axis -3 out of range']);
});
