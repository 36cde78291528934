/**
 * NN functions: softmax / log-softmax, layer / batch / group norm, dropout and drop-path, one-hot,
 * cross-entropy (label smoothing, soft targets) and BCE with logits. Forward values against closed
 * forms, FD gradients, statistical tests of the seeded masks, and shape errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../src/graph/index.js';
import { Graph } from '../../src/graph/index.js';
import { CompiledGraph } from '../../src/runtime/index.js';
import { gradCheck } from '../helpers/gradcheck.js';
import { Rng } from '../helpers/rng.js';
import { assertClose, assertShapeError, evaluate, f32, i64, sizeOf } from './util.js';

/** Applies `f` to each row of length `n` (the trailing `n` elements) of `x`. */
function rows(x: ArrayLike<number>, n: number, f: (row: number[]) => number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < x.length; i += n) out.push(...f(Array.from(x).slice(i, i + n)));
  return out;
}
const softmaxRow = (r: number[]) => {
  const m = Math.max(...r);
  const e = r.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const meanOf = (r: number[]) => r.reduce((a, b) => a + b, 0) / r.length;
const normRow = (r: number[], eps: number) => {
  const m = meanOf(r);
  const v = meanOf(r.map((x) => (x - m) ** 2));
  return r.map((x) => (x - m) / Math.sqrt(v + eps));
};

test('softmax, log_softmax, layer_norm, group_norm: forward values', async () => {
  const rng = new Rng(61);
  const x = rng.normalArray(2 * 3 * 4, 2);
  const w = rng.normalArray(12);
  const b = rng.normalArray(12);
  const gw = rng.normalArray(4);
  const gb = rng.normalArray(4);
  const [sm, lsm, sm0, ln1, ln2, gn] = await evaluate([f32([2, 3, 4], x), f32([3, 4], w), f32([3, 4], b), f32([4], gw), f32([4], gb)], (t, wt, bt, gwt, gbt) => [
    F.softmax(t, -1),
    F.logSoftmax(t, 2),
    F.softmax(t, 0),
    F.layerNorm(t, F.narrow(F.reshape(wt, [12]), 0, 0, 4), F.narrow(F.reshape(bt, [12]), 0, 0, 4)),
    F.layerNorm(t, wt, bt, 1e-3),
    F.groupNorm(F.reshape(t, [2, 4, 3]), 2, gwt, gbt),
  ]);
  assertClose(sm!, rows(x, 4, softmaxRow), 'softmax -1', 1e-6);
  assertClose(lsm!, rows(x, 4, (r) => softmaxRow(r).map(Math.log)), 'log_softmax 2', 1e-5);
  const sm0ref = Array.from({ length: 12 }, (_, k) => softmaxRow([x[k]!, x[k + 12]!]));
  assertClose(sm0!, [...sm0ref.map((p) => p[0]!), ...sm0ref.map((p) => p[1]!)], 'softmax 0', 1e-6);
  assertClose(ln1!, rows(x, 4, (r) => normRow(r, 1e-5).map((v, i) => v * w[i]! + b[i]!)), 'layer_norm last dim', 1e-4);
  assertClose(ln2!, rows(x, 12, (r) => normRow(r, 1e-3).map((v, i) => v * w[i]! + b[i]!)), 'layer_norm last two dims', 1e-4);
  // group norm: [2, 4, 3] in 2 groups of 2 channels -> rows of 6, channel = (k / 3) % 4
  assertClose(gn!, rows(x, 6, (r) => normRow(r, 1e-5)).map((v, k) => v * gw[Math.floor(k / 3) % 4]! + gb[Math.floor(k / 3) % 4]!), 'group_norm', 1e-4);
});

test('batch_norm: train-mode output and running statistics, eval mode', async () => {
  const rng = new Rng(62);
  const shape = [3, 2, 2, 2];
  const x = rng.normalArray(sizeOf(shape), 1.5);
  const w = Float32Array.of(0.5, -2);
  const b = Float32Array.of(1, 0.25);
  const rm = Float32Array.of(0.1, -0.3);
  const rv = Float32Array.of(0.9, 1.7);
  const [y, newMean, newVar, yEval] = await evaluate([f32(shape, x), f32([2], w), f32([2], b), f32([2], rm), f32([2], rv)], (t, wt, bt, m, v) => {
    const r = F.batchNorm(t, wt, bt, m, v, { training: true, momentum: 0.2, eps: 1e-3 });
    return [r.y, r.runningMean!, r.runningVar!, F.batchNorm(t, wt, bt, m, v, { training: false, eps: 1e-3 }).y];
  });
  const chan = (c: number) => Array.from(x).filter((_, k) => Math.floor(k / 4) % 2 === c);
  const stats = [0, 1].map((c) => {
    const vals = chan(c);
    const m = meanOf(vals);
    const v = meanOf(vals.map((u) => (u - m) ** 2));
    return { m, v, unbiased: (v * vals.length) / (vals.length - 1) };
  });
  const yRef = Array.from(x, (u, k) => {
    const c = Math.floor(k / 4) % 2;
    return ((u - stats[c]!.m) / Math.sqrt(stats[c]!.v + 1e-3)) * w[c]! + b[c]!;
  });
  assertClose(y!, yRef, 'batch_norm train y', 1e-4);
  assertClose(newMean!, [0, 1].map((c) => 0.8 * rm[c]! + 0.2 * stats[c]!.m), 'running mean', 1e-5);
  assertClose(newVar!, [0, 1].map((c) => 0.8 * rv[c]! + 0.2 * stats[c]!.unbiased), 'running var (unbiased)', 1e-5);
  const yEvalRef = Array.from(x, (u, k) => {
    const c = Math.floor(k / 4) % 2;
    return ((u - rm[c]!) / Math.sqrt(rv[c]! + 1e-3)) * w[c]! + b[c]!;
  });
  assertClose(yEval!, yEvalRef, 'batch_norm eval', 1e-4);
});

test('one_hot, cross_entropy (label smoothing, soft targets), bce_with_logits: forward values', async () => {
  const logits = [1, 2, 0.5, -1, 0, 3];
  const labels = [1, 2];
  const soft = [0.2, 0.5, 0.3, 0, 0.1, 0.9];
  const t = [1, 0, 0.3, 1, 0, 0.5];
  const wts = [1, 2, 0.5, 1, 1, 0];
  const [oh, ce, ceSmooth, ceSoft, bce, bceW] = await evaluate([f32([2, 3], logits), i64([2], labels), f32([2, 3], soft), f32([2, 3], t), f32([2, 3], wts)], (lg, lb, st, tt, wt) => [
    F.oneHot(lb, 3),
    F.crossEntropy(lg, lb),
    F.crossEntropy(lg, lb, 0.1),
    F.crossEntropy(lg, st),
    F.bceWithLogits(lg, tt),
    F.bceWithLogits(lg, tt, wt),
  ]);
  assertClose(oh!, [0, 1, 0, 0, 0, 1], 'one_hot');
  const logp = rows(logits, 3, (r) => softmaxRow(r).map(Math.log));
  const ceOf = (target: number[]) => -(target.reduce((s, p, k) => s + p * logp[k]!, 0) / 2);
  const onehot = [0, 1, 0, 0, 0, 1];
  assertClose(ce!, [ceOf(onehot)], 'cross_entropy', 1e-5);
  assertClose(ceSmooth!, [ceOf(onehot.map((p) => 0.9 * p + 0.1 / 3))], 'cross_entropy smoothing 0.1', 1e-5);
  assertClose(ceSoft!, [ceOf(soft)], 'cross_entropy soft targets', 1e-5);
  const bceEl = logits.map((x, k) => -(t[k]! * Math.log(1 / (1 + Math.exp(-x))) + (1 - t[k]!) * Math.log(1 - 1 / (1 + Math.exp(-x)))));
  assertClose(bce!, [meanOf(bceEl)], 'bce_with_logits', 1e-5);
  assertClose(bceW!, [meanOf(bceEl.map((v, k) => v * wts[k]!))], 'bce_with_logits weighted', 1e-5);
});

test('softmax, log_softmax, layer_norm, group_norm: gradients', async () => {
  await gradCheck('softmax axis -1', [{ shape: [2, 3, 4] }], (x) => F.softmax(x, -1));
  await gradCheck('softmax axis 1', [{ shape: [2, 3, 2] }], (x) => F.softmax(x, 1));
  await gradCheck('log_softmax axis -1', [{ shape: [3, 5] }], (x) => F.logSoftmax(x, -1));
  await gradCheck('log_softmax axis 0', [{ shape: [4, 2, 2] }], (x) => F.logSoftmax(x, 0));
  await gradCheck('layer_norm last dim', [{ shape: [2, 3, 5] }, { shape: [5] }, { shape: [5] }], (x, w, b) => F.layerNorm(x, w, b));
  await gradCheck('layer_norm last two dims', [{ shape: [2, 3, 4] }, { shape: [3, 4] }, { shape: [3, 4] }], (x, w, b) => F.layerNorm(x, w, b, 1e-3));
  await gradCheck('group_norm', [{ shape: [2, 4, 3] }, { shape: [4] }, { shape: [4] }], (x, w, b) => F.groupNorm(x, 2, w, b));
});

test('batch_norm: gradients in train mode (y and running statistics) and eval mode', async () => {
  const bn = (x: F.Tensor, w: F.Tensor, b: F.Tensor, m: F.Tensor, v: F.Tensor) => F.batchNorm(x, w, b, m, v, { training: true, momentum: 0.3 });
  await gradCheck('batch_norm train nchw', [{ shape: [3, 2, 2, 2] }, { shape: [2] }, { shape: [2] }, { shape: [2], fixed: true }, { shape: [2], fixed: true }], (x, w, b, m, v) => bn(x, w, b, m, v).y);
  await gradCheck('batch_norm train [N, C]', [{ shape: [5, 3] }, { shape: [3] }, { shape: [3] }, { shape: [3], fixed: true }, { shape: [3], fixed: true }], (x, w, b, m, v) => bn(x, w, b, m, v).y);
  // running statistics are differentiable functions of x and the old statistics too
  await gradCheck('batch_norm running stats', [{ shape: [4, 2, 3] }, { shape: [2] }, { shape: [2], data: Float32Array.of(0.5, 1.5) }], (x, m, v) => {
    const r = F.batchNorm(x, null, null, m, v, { training: true, momentum: 0.3 });
    return F.concat([r.runningMean!, r.runningVar!], 0);
  });
  const positive = Float32Array.of(0.7, 1.3, 2.1);
  await gradCheck('batch_norm eval', [{ shape: [2, 3, 2] }, { shape: [3] }, { shape: [3] }, { shape: [3] }, { shape: [3], data: positive }], (x, w, b, m, v) => F.batchNorm(x, w, b, m, v, { training: false }).y);
});

test('losses: gradients (cross-entropy with smoothing and soft targets, BCE with logits)', async () => {
  const labels = { shape: [4], fixed: true, dtype: 'int64' as const, int64: BigInt64Array.of(2n, 0n, 1n, 2n) };
  await gradCheck('cross_entropy labels', [{ shape: [4, 3] }, labels], (x, t) => F.crossEntropy(x, t));
  await gradCheck('cross_entropy label smoothing 0.2', [{ shape: [4, 3] }, labels], (x, t) => F.crossEntropy(x, t, 0.2));
  await gradCheck('cross_entropy soft targets (logits and targets)', [{ shape: [3, 4] }, { shape: [3, 4], data: new Rng(1).uniformArray(12) }], (x, t) => F.crossEntropy(x, t, 0.1));
  const tgt = new Rng(2).uniformArray(6);
  await gradCheck('bce_with_logits', [{ shape: [2, 3] }, { shape: [2, 3], data: tgt }], (x, t) => F.bceWithLogits(x, t));
  await gradCheck('bce_with_logits weighted', [{ shape: [2, 3] }, { shape: [2, 3], data: tgt, fixed: true }, { shape: [2, 3] }], (x, t, w) => F.bceWithLogits(x, t, w));
});

test('dropout and drop_path: gradients through a fixed seeded mask', async () => {
  await gradCheck('dropout p=0.4', [{ shape: [4, 5] }], (x) => F.dropout(x, 0.4, true));
  await gradCheck('drop_path p=0.5', [{ shape: [6, 2, 2] }], (x) => F.dropPath(x, 0.5, true));
});

/** Compiles `fn` over an input of ones and returns a runner for (seed, step). */
async function maskRunner(shape: number[], fn: (x: F.Tensor) => F.Tensor): Promise<(seed: number, step: number) => Promise<Float32Array>> {
  const { graph, result } = Graph.trace((g) => fn(g.input('x', shape)));
  const compiled = await CompiledGraph.compile(graph, [result]);
  const ones = new Float32Array(sizeOf(shape)).fill(1);
  return async (seed, step) => (await compiled.run({ x: ones }, { seed, step })).out0!.data as Float32Array;
}

test('dropout: keep rate, 1/(1-p) scaling, seed/step determinism, eval identity', async () => {
  const p = 0.3;
  const run = await maskRunner([100, 200], (x) => F.dropout(x, p, true));
  const a = await run(7, 3);
  const kept = a.filter((v) => v !== 0);
  assert.ok(a.every((v) => v === 0 || Math.abs(v - 1 / (1 - p)) < 1e-6), 'kept values are scaled by 1/(1-p)');
  assert.ok(Math.abs(kept.length / a.length - (1 - p)) < 0.015, `keep rate ${kept.length / a.length} vs ${1 - p}`);
  assert.ok(Math.abs(a.reduce((s, v) => s + v, 0) / a.length - 1) < 0.03, 'the mean is preserved');
  assert.deepEqual(await run(7, 3), a, 'same seed and step give the same mask');
  const other = await run(7, 4);
  const otherSeed = await run(8, 3);
  const differing = (u: Float32Array) => u.filter((v, i) => v !== a[i]).length / a.length;
  // two independent masks differ in 2 p (1 - p) = 42% of positions
  assert.ok(Math.abs(differing(other) - 2 * p * (1 - p)) < 0.03, `a different step gives an independent mask (${differing(other)})`);
  assert.ok(Math.abs(differing(otherSeed) - 2 * p * (1 - p)) < 0.03, `a different seed gives an independent mask (${differing(otherSeed)})`);
  // eval mode and p = 0 are the identity: no node, no random input
  Graph.trace((g) => {
    const x = g.input('x', [2, 3]);
    assert.equal(F.dropout(x, p, false), x);
    assert.equal(F.dropout(x, 0, true), x);
    assert.equal(F.dropPath(x, p, false), x);
    assert.equal(g.nodes.length, 0);
    assert.equal(F.listRandomInputs(g).length, 0);
  });
  assert.throws(() => Graph.trace((g) => F.dropout(g.input('x', [2]), 1, true)), /dropout: expected a probability in \[0, 1\) for p but received 1/);
});

test('drop_path: whole samples are dropped, keep rate and scaling', async () => {
  const p = 0.25;
  const run = await maskRunner([2000, 3, 2], (x) => F.dropPath(x, p, true));
  const a = await run(1, 0);
  let keptSamples = 0;
  for (let s = 0; s < 2000; s++) {
    const vals = a.slice(6 * s, 6 * s + 6);
    assert.ok(vals.every((v) => v === vals[0]), `sample ${s} is dropped or kept as a whole`);
    assert.ok(vals[0] === 0 || Math.abs(vals[0]! - 1 / (1 - p)) < 1e-6);
    if (vals[0] !== 0) keptSamples++;
  }
  assert.ok(Math.abs(keptSamples / 2000 - (1 - p)) < 0.04, `sample keep rate ${keptSamples / 2000}`);
  assert.deepEqual(await run(1, 0), a);
  assert.notDeepEqual(await run(1, 1), a);
});

test('random_uniform / random_normal: seeded runtime-filled inputs with the right distribution', async () => {
  const { graph, result } = Graph.trace(() => [F.randomUniform([50, 100]), F.randomNormal([50, 101])]);
  assert.deepEqual(
    F.listRandomInputs(graph).map((r) => [r.name, r.kind]),
    [
      ['rng_0', 'uniform'],
      ['rng_1', 'normal'],
    ],
  );
  const compiled = await CompiledGraph.compile(graph, result);
  assert.deepEqual(compiled.feedNames, []);
  const out = await compiled.run({}, { seed: 3, step: 9 });
  const u = out.out0!.data as Float32Array;
  const z = out.out1!.data as Float32Array;
  const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(u.every((v) => v >= 0 && v < 1), 'uniform values in [0, 1)');
  assert.ok(Math.abs(mean(u) - 0.5) < 0.02, `uniform mean ${mean(u)}`);
  assert.ok(Math.abs(mean(u.map((v) => v * v)) - 1 / 3) < 0.02, 'uniform second moment 1/3');
  assert.ok(Math.abs(mean(z)) < 0.06, `normal mean ${mean(z)}`);
  assert.ok(Math.abs(mean(z.map((v) => v * v)) - 1) < 0.08, `normal variance ${mean(z.map((v) => v * v))}`);
  assert.ok(Math.abs(z.filter((v) => Math.abs(v) < 1).length / z.length - 0.6827) < 0.03, 'normal: 68% within one sigma');
  const again = await compiled.run({}, { seed: 3, step: 9 });
  assert.deepEqual(again.out1!.data, z, 'same seed and step, same values');
  const next = await compiled.run({}, { seed: 3, step: 10 });
  assert.notDeepEqual(next.out0!.data, u, 'next step, new values');
});

test('nn-function shape errors name the op, the shapes and the module path', () => {
  assertShapeError((g) => F.layerNorm(g.input('x', [2, 3, 4]), g.input('w', [3]), g.input('b', [3])), ['layer_norm [2,3,4] x [3] x [3]', 'weight/bias must have shape [4]']);
  assertShapeError((g) => F.softmax(g.input('x', [2, 3]), 2), ['softmax [2,3]', 'axis 2 out of range for rank 2']);
  assertShapeError((g) => F.crossEntropy(g.input('x', [4, 10]), g.input('t', [4, 9])), ['cross_entropy [4,10] x [4,9]', 'target must be int labels [4] or probabilities [4,10]']);
  assertShapeError((g) => F.crossEntropy(g.input('x', [4, 10]), g.input('t', [5], 'int64')), ['cross_entropy [4,10] x [5]', 'target must be']);
  assertShapeError((g) => F.bceWithLogits(g.input('x', [4, 2]), g.input('t', [4])), ['bce_with_logits [4,2] x [4]', 'targets must have the shape of the logits']);
  assertShapeError(
    (g) => F.batchNorm(g.input('x', [2, 3, 4, 4]), g.input('w', [4]), null, g.input('m', [3]), g.input('v', [3]), { training: true }),
    ['batch_norm [2,3,4,4] x [4] x [3] x [3]', 'must have shape [3]'],
  );
  assertShapeError((g) => F.groupNorm(g.input('x', [2, 6, 4]), 4, g.input('w', [6]), g.input('b', [6])), ['group_norm [2,6,4]', '6 channels are not divisible into 4 groups']);
  assertShapeError((g) => F.oneHot(g.input('t', [4]), 3), ['one_hot [4]', 'labels must be int64/int32']);
});

test('cross_entropy/one_hot: labels outside [0, C) are refused (fed at run time, or constant at trace time), never a finite wrong loss', async () => {
  const g = new Graph();
  const loss = g.run(() => F.crossEntropy(g.input('x', [2, 3]), g.input('y', [2], 'int64')));
  const compiled = await CompiledGraph.compile(g, [loss]);
  const x = Float32Array.of(0, 0, Math.log(2), 1, 1, 1);
  const labels = (v: readonly number[]) => BigInt64Array.from(v.map(BigInt));
  const ok = await compiled.run({ x, y: labels([2, 0]) });
  assertClose(ok.out0!, [(Math.log(4) + Math.log(3)) / 2 - Math.log(2) / 2], 'valid labels', 1e-6);
  for (const [bad, at] of [[[0, 3], 'value 3 at position 1'], [[-1, 1], 'value -1 at position 0']] as const) {
    await assert.rejects(compiled.run({ x, y: labels(bad) }), (e: Error) => e.message.includes(`feed "y": ${at} is outside [0, 3)`) && e.message.includes('cross_entropy'));
  }
  const g2 = new Graph();
  assert.throws(() => g2.run(() => F.oneHot(g2.constant(BigInt64Array.of(1n, 4n), [2], 'int64'), 4)), /one_hot: index 4 at position 1 is outside \[0, 4\)/);
  // Labels fed in another layout or integer type and rearranged / cast inside the graph are
  // checked on the feed they come from; a float feed cast to labels is not (its values change).
  const g3 = new Graph();
  const loss3 = g3.run(() => F.crossEntropy(g3.input('x', [2, 3]), F.cast(F.reshape(g3.input('y32', [1, 2], 'int32'), [2]), 'int64')));
  const c3 = await CompiledGraph.compile(g3, [loss3]);
  assertClose((await c3.run({ x, y32: Int32Array.of(2, 0) })).out0!, [(Math.log(4) + Math.log(3)) / 2 - Math.log(2) / 2], 'valid labels through reshape and cast', 1e-6);
  await assert.rejects(c3.run({ x, y32: Int32Array.of(2, 3) }), (e: Error) => e.message.includes('feed "y32": value 3 at position 1 is outside [0, 3)') && e.message.includes('cross_entropy'));
  const g4 = new Graph();
  g4.run(() => F.oneHot(F.cast(g4.input('f', [2]), 'int64'), 4));
  assert.equal(g4.indexBounds.size, 0, 'a float feed cast to indices carries no bound');
});

test('batch_normalize: closed-form gradient of the normalised output and of the batch statistics', async () => {
  const rm = () => F.zeros([3]);
  const rv = () => F.ones([3]);
  await gradCheck('batch_normalize xhat', [{ shape: [4, 3, 3, 2] }, { shape: [3] }, { shape: [3] }], (x, w, b) => F.batchNorm(x, w, b, rm(), rv(), { training: true }).y);
  await gradCheck('batch_normalize 1d stats', [{ shape: [5, 3] }], (x) => F.add(F.batchNorm(x, null, null, rm(), rv(), { training: true, momentum: 0.5 }).runningVar!, F.batchNorm(x, null, null, rm(), rv(), { training: true, momentum: 0.3 }).runningMean!));
});
