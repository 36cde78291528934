import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WeightEma, withSwapped } from '../../src/optim/ema.js';

test('WeightEma: each update blends with the warm-up decay min(d, (1+t)/(10+t))', () => {
  const ema = new WeightEma(0.5, Float32Array.of(0, 10), Float32Array.of(4));
  // t = 0: decay min(0.5, 1/10) = 0.1; t = 20: min(0.5, 21/30) = 0.5.
  assert.equal(ema.decayAt(0), 0.1);
  assert.equal(ema.decayAt(20), 0.5);
  ema.update(Float32Array.of(10, 0), Float32Array.of(8), 0);
  assert.deepEqual([...ema.params], [Math.fround(0.1 * 0 + 0.9 * 10), Math.fround(0.1 * 10)]);
  assert.deepEqual([...ema.buffers], [Math.fround(0.1 * 4 + 0.9 * 8)]);
  const before = [...ema.params];
  ema.update(Float32Array.of(1, 1), Float32Array.of(0), 20);
  assert.deepEqual([...ema.params], before.map((v) => Math.fround(0.5 * v + 0.5)));
});

test('WeightEma: the average starts as a copy, not a view, of the weights', () => {
  const p = Float32Array.of(1, 2);
  const ema = new WeightEma(0.9, p, new Float32Array(0));
  p[0] = 100;
  assert.equal(ema.params[0], 1);
});

test('WeightEma: bad decay, sizes and checkpoints are named errors', () => {
  assert.throws(() => new WeightEma(1, new Float32Array(1), new Float32Array(0)), /EMA decay \(--ema\) must be in \(0, 1\), received 1/);
  assert.throws(() => new WeightEma(0, new Float32Array(1), new Float32Array(0)), /received 0/);
  const ema = new WeightEma(0.9, new Float32Array(3), new Float32Array(2));
  assert.throws(() => ema.update(new Float32Array(4), new Float32Array(2), 0), /EMA parameters: 4 values, the average holds 3/);
  assert.throws(() => ema.restore(undefined, new Float32Array(2), 'run/last.safetensors'), /run\/last.safetensors: EMA parameters missing or of the wrong size \(expected 3, found none\)/);
  assert.throws(() => ema.restore(new Float32Array(3), new Float32Array(1), 'f'), /f: EMA buffers of the wrong size \(expected 2, found 1\)/);
  ema.restore(Float32Array.of(1, 2, 3), Float32Array.of(4, 5), 'f');
  assert.deepEqual([...ema.params, ...ema.buffers], [1, 2, 3, 4, 5]);
});

test('withSwapped: the values are in place during the call and the originals come back, also after a throw', async () => {
  const w = Float32Array.of(1, 2);
  const seen = await withSwapped([[w, Float32Array.of(7, 8)]], async () => [...w]);
  assert.deepEqual(seen, [7, 8]);
  assert.deepEqual([...w], [1, 2]);
  await assert.rejects(withSwapped([[w, Float32Array.of(9, 9)]], async () => { throw new Error('boom'); }), /boom/);
  assert.deepEqual([...w], [1, 2]);
});
