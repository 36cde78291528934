import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { float32ToFloat16 } from '../../src/graph/lower.js';
import { createModel, defaultForward } from '../../src/models/index.js';
import { exportOnnx } from '../../src/io/export.js';
import { Rng } from '../helpers/rng.js';

test('float32 -> float16 conversion: exact values, rounding, subnormals, overflow', () => {
  const h = float32ToFloat16(Float32Array.of(1, -2, 0.5, 65504, 65520, 1e6, 0.1, 6e-8, 1e-9, 0, -0, Infinity, NaN));
  assert.deepEqual([...h].map((v) => v.toString(16)), ['3c00', 'c000', '3800', '7bff', '7c00', '7c00', '2e66', '1', '0', '0', '8000', '7c00', '7e00']);
});

test('export with float16 weights: about half the size, outputs within float16 rounding', async () => {
  const h = await createModel('tiny_cnn', { numClasses: 5, inputSize: [3, 24, 24], seed: 3 });
  const opts = { model: h.model, state: h.state, inputShape: [3, 24, 24], forward: (m: typeof h.model, x: import('../../src/graph/index.js').Tensor) => defaultForward(h.info, m, { input: x }) };
  const full = exportOnnx(opts);
  const half = exportOnnx({ ...opts, halfPrecisionWeights: true });
  assert.ok(half.length < 0.75 * full.length, `${half.length} vs ${full.length} bytes`);
  const x = new Rng(1).normalArray(2 * 3 * 24 * 24);
  const run = async (bytes: Uint8Array) => {
    const s = await ort.InferenceSession.create(bytes);
    const r = (await s.run({ input: new ort.Tensor('float32', x, [2, 3, 24, 24]) }))[s.outputNames[0]!]!.data as Float32Array;
    await s.release();
    return r;
  };
  const a = await run(full);
  const b = await run(half);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 2e-2 * (1 + Math.abs(a[i]!)), `${i}: ${a[i]} vs ${b[i]}`);
});
