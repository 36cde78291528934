/**
 * Elementwise ops: forward values against closed forms with numpy broadcasting, finite-difference
 * gradients over broadcasting configurations, and build-time shape errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../src/graph/index.js';
import { apply1, getOp, type Tensor } from '../../src/graph/index.js';
import { gradCheck } from '../helpers/gradcheck.js';
import { Rng, distinctArray } from '../helpers/rng.js';
import { assertClose, assertShapeError, evaluate, f32, refBinary, sizeOf } from './util.js';

/** erf to ~1e-7 (Abramowitz & Stegun 7.1.26 is too coarse; use the series / continued fraction). */
function erfRef(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  if (a < 3) {
    // Maclaurin series
    let term = a;
    let sum = a;
    for (let n = 1; n < 60; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    return (s * 2 * sum) / Math.sqrt(Math.PI);
  }
  return s * (1 - Math.exp(-a * a) / (a * Math.sqrt(Math.PI)));
}

const BINARY: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number][] = [
  ['add', F.add, (x, y) => x + y],
  ['sub', F.sub, (x, y) => x - y],
  ['mul', F.mul, (x, y) => x * y],
  ['div', F.div, (x, y) => x / y],
  ['pow', F.pow, (x, y) => Math.pow(x, y)],
  ['maximum', F.maximum, Math.max],
  ['minimum', F.minimum, Math.min],
  ['greater', (a, b) => F.cast(F.greater(a, b), 'float32'), (x, y) => Number(x > y)],
  ['less_equal', (a, b) => F.cast(F.lessEqual(a, b), 'float32'), (x, y) => Number(x <= y)],
  ['equal', (a, b) => F.cast(F.equal(a, b), 'float32'), (x, y) => Number(x === y)],
];

test('binary ops: forward values with broadcasting on both sides', async () => {
  const rng = new Rng(11);
  const as = [2, 1, 3];
  const bs = [4, 1];
  const a = rng.uniformArray(sizeOf(as), 0.5, 2);
  const b = rng.uniformArray(sizeOf(bs), -1.5, 1.5);
  b[1] = a[0]!; // one tie for the comparisons
  const outs = await evaluate([f32(as, a), f32(bs, b)], (x, y) => BINARY.map(([, fn]) => fn(x, y)));
  BINARY.forEach(([name, , ref], i) => {
    const r = refBinary(a, as, b, bs, (x, y) => ref(Math.fround(x), Math.fround(y)));
    assert.deepEqual([...outs[i]!.shape], r.shape, name);
    assertClose(outs[i]!, r.data, name, 1e-5, 1e-5);
  });
});

test('unary ops and activations: forward values', async () => {
  const x = [-2.5, -1, -0.25, 0.3, 1, 2.2];
  const pos = x.map((v) => Math.abs(v) + 0.1);
  const gelu = (v: number) => 0.5 * v * (1 + erfRef(v / Math.SQRT2));
  const cases: [string, (t: Tensor, p: Tensor) => Tensor, (v: number, p: number) => number][] = [
    ['neg', (t) => F.neg(t), (v) => -v],
    ['exp', (t) => F.exp(t), Math.exp],
    ['log', (_t, p) => F.log(p), (_v, p) => Math.log(p)],
    ['sqrt', (_t, p) => F.sqrt(p), (_v, p) => Math.sqrt(p)],
    ['rsqrt', (_t, p) => F.rsqrt(p), (_v, p) => 1 / Math.sqrt(p)],
    ['reciprocal', (t) => F.reciprocal(t), (v) => 1 / v],
    ['abs', (t) => F.abs(t), Math.abs],
    ['relu', (t) => F.relu(t), (v) => Math.max(v, 0)],
    ['sigmoid', (t) => F.sigmoid(t), (v) => 1 / (1 + Math.exp(-v))],
    ['tanh', (t) => F.tanh(t), Math.tanh],
    ['erf', (t) => F.erf(t), erfRef],
    ['gelu', (t) => F.gelu(t), gelu],
    ['silu', (t) => F.silu(t), (v) => v / (1 + Math.exp(-v))],
    ['softplus', (t) => F.softplus(t), (v) => Math.log1p(Math.exp(v))],
    ['leaky_relu', (t) => F.leakyRelu(t, 0.1), (v) => (v > 0 ? v : 0.1 * v)],
    ['square', (t) => F.square(t), (v) => v * v],
    ['sign', (t) => F.sign(t), Math.sign],
    ['floor', (t) => F.floor(t), Math.floor],
    ['clip', (t) => F.clip(t, -1, 0.5), (v) => Math.min(Math.max(v, -1), 0.5)],
    ['clip_lower_only', (t) => F.clip(t, 0), (v) => Math.max(v, 0)],
  ];
  const outs = await evaluate([f32([2, 3], x), f32([2, 3], pos)], (t, p) => cases.map(([, fn]) => fn(t, p)));
  cases.forEach(([name, , ref], i) => assertClose(outs[i]!, x.map((v, k) => ref(Math.fround(v), Math.fround(pos[k]!))), name, 2e-6, 2e-6));
});

test('where and logical ops: forward values', async () => {
  const cond = Uint8Array.from([1, 0, 0, 1, 1, 0]);
  const [w, and, or, not] = await evaluate(
    [{ shape: [2, 3], data: cond }, f32([3], [10, 20, 30])],
    (c, b) => {
      const other = F.greater(b, 15); // [F, T, T] broadcast
      return [F.where(c, b, -1), F.cast(F.logicalAnd(c, other), 'float32'), F.cast(F.logicalOr(c, other), 'float32'), F.cast(F.logicalNot(c), 'float32')];
    },
  );
  assertClose(w!, [10, -1, -1, 10, 20, -1], 'where');
  assertClose(and!, [0, 0, 0, 0, 1, 0], 'logical_and');
  assertClose(or!, [1, 1, 1, 1, 1, 1], 'logical_or');
  assertClose(not!, [0, 1, 1, 0, 0, 1], 'logical_not');
});

test('binary ops: gradients with broadcasting', async () => {
  const rng = new Rng(3);
  const shapes: [number[], number[]][] = [
    [[2, 3, 4], [4]],
    [[3, 1], [1, 4]],
    [[2, 1, 3], [4, 1]],
    [[1], [2, 3]],
  ];
  for (const [i, [as, bs]] of shapes.entries()) {
    const seed = 10 + i;
    await gradCheck(`add ${as}+${bs}`, [{ shape: as }, { shape: bs }], (a, b) => F.add(a, b), { seed });
    await gradCheck(`sub ${as}-${bs}`, [{ shape: as }, { shape: bs }], (a, b) => F.sub(a, b), { seed });
    await gradCheck(`mul ${as}*${bs}`, [{ shape: as }, { shape: bs }], (a, b) => F.mul(a, b), { seed });
    // denominators away from zero
    const den = rng.uniformArray(sizeOf(bs), 0.5, 2).map((v) => (rng.next() < 0.5 ? -v : v));
    await gradCheck(`div ${as}/${bs}`, [{ shape: as }, { shape: bs, data: den }], (a, b) => F.div(a, b), { seed });
    const base = rng.uniformArray(sizeOf(as), 0.5, 2);
    await gradCheck(`pow ${as}^${bs}`, [{ shape: as, data: base }, { shape: bs, data: rng.normalArray(sizeOf(bs), 0.7) }], (a, b) => F.pow(a, b), { seed });
    // maximum/minimum: all values distinct so the selection does not flip under the perturbation
    const all = distinctArray(rng, sizeOf(as) + sizeOf(bs), 0.1);
    const ins = [{ shape: as, data: all.slice(0, sizeOf(as)) }, { shape: bs, data: all.slice(sizeOf(as)) }];
    await gradCheck(`maximum ${as},${bs}`, ins, (a, b) => F.maximum(a, b), { seed, h: 1e-2 });
    await gradCheck(`minimum ${as},${bs}`, ins, (a, b) => F.minimum(a, b), { seed, h: 1e-2 });
  }
});

/** A random pair of numpy-broadcastable shapes (rank 1-3, dims 1-3, size-1 dims on either side). */
function randomBroadcastPair(rng: Rng): [number[], number[]] {
  const rank = 1 + rng.int(3);
  const full = Array.from({ length: rank }, () => 2 + rng.int(2));
  const a = full.map((d) => (rng.next() < 0.3 ? 1 : d));
  const b = full.map((d) => (rng.next() < 0.3 ? 1 : d)).slice(rng.int(rank));
  return [a, b.length ? b : [1]];
}

test('binary ops: gradients over seeded random broadcast shapes', async () => {
  const rng = new Rng(2024);
  for (let trial = 0; trial < 4; trial++) {
    const [as, bs] = trial % 2 ? randomBroadcastPair(rng).reverse() : randomBroadcastPair(rng);
    const vals = distinctArray(rng, sizeOf(as!) + sizeOf(bs!), 0.2);
    const ins = [{ shape: as!, data: vals.slice(0, sizeOf(as!)) }, { shape: bs!, data: vals.slice(sizeOf(as!)) }];
    await gradCheck(`mul random ${as}*${bs}`, ins, (a, b) => F.mul(F.add(a, b), b), { seed: trial, directions: 2 });
    await gradCheck(`maximum random ${as},${bs}`, ins, (a, b) => F.maximum(a, b), { seed: trial, directions: 2 });
  }
});

test('where: gradients to both branches with broadcasting', async () => {
  const rng = new Rng(5);
  const cond = Uint8Array.from({ length: 6 }, () => (rng.next() < 0.5 ? 1 : 0));
  await gradCheck('where [2,3] ? [2,3] : [3]', [{ shape: [2, 3], fixed: true, dtype: 'bool', bool: cond }, { shape: [2, 3] }, { shape: [3] }], (c, a, b) => F.where(c, a, b));
  await gradCheck('where [2,1] ? [1,3] : [2,3]', [{ shape: [2, 1], fixed: true, dtype: 'bool', bool: Uint8Array.of(1, 0) }, { shape: [1, 3] }, { shape: [2, 3] }], (c, a, b) => F.where(c, a, b));
});

test('unary ops: gradients', async () => {
  const rng = new Rng(7);
  const shape = [2, 3, 2];
  const n = sizeOf(shape);
  const positive = () => ({ shape, data: rng.uniformArray(n, 0.5, 2) });
  const distinct = () => ({ shape, data: distinctArray(rng, n, 0.2) });
  await gradCheck('neg', [{ shape }], F.neg);
  await gradCheck('exp', [{ shape }], F.exp);
  await gradCheck('log', [positive()], F.log);
  await gradCheck('sqrt', [positive()], F.sqrt);
  await gradCheck('reciprocal', [positive()], F.reciprocal);
  await gradCheck('abs', [distinct()], F.abs);
  await gradCheck('relu', [distinct()], F.relu);
  await gradCheck('sigmoid', [{ shape }], F.sigmoid);
  await gradCheck('tanh', [{ shape }], F.tanh);
  await gradCheck('erf', [{ shape }], F.erf);
  // clip bounds fall between the distinct values (multiples of 0.2 offset by 0.1)
  await gradCheck('clip [-0.4, 0.6]', [distinct()], (x) => F.clip(x, -0.4, 0.6));
  await gradCheck('clip [0.2, inf)', [distinct()], (x) => F.clip(x, 0.2));
  // composites built from the primitives
  await gradCheck('gelu', [{ shape }], F.gelu);
  await gradCheck('silu', [{ shape }], F.silu);
  await gradCheck('softplus', [distinct()], F.softplus);
  await gradCheck('leaky_relu', [distinct()], (x) => F.leakyRelu(x, 0.2));
  await gradCheck('rsqrt', [positive()], F.rsqrt);
  // float -> float cast passes the gradient through (cast() itself skips no-op casts)
  await gradCheck('cast float32->float32', [{ shape }], (x) => apply1(getOp('cast')!, [x], { to: 'float32' } as never));
});

test('elementwise shape errors name the op, the shapes and the module path', () => {
  assertShapeError((g) => F.add(g.input('a', [2, 3]), g.input('b', [4])), ['add [2,3] x [4]', 'do not broadcast']);
  assertShapeError((g) => F.mul(g.input('a', [4, 1, 3]), g.input('b', [2, 5, 3])), ['mul [4,1,3] x [2,5,3]', 'do not broadcast']);
  assertShapeError((g) => F.add(g.input('a', [2]), g.input('b', [2], 'int64')), ['add [2] x [2]', 'dtypes differ']);
  assertShapeError((g) => F.where(g.input('c', [2]), g.input('a', [2]), 0), ['where', 'condition must be bool']);
  assertShapeError((g) => F.where(g.input('c', [3], 'bool'), g.input('a', [2]), 0), ['where [3] x [2] x []', 'do not broadcast']);
  assertShapeError((g) => F.clip(g.input('a', [2]), 1, 0), ['clip [2]', 'min 1 > max 0']);
  assertShapeError((g) => F.log(g.input('a', [2], 'int64')), ['log [2]', 'expected float32']);
});
