import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createModel, defaultForward } from '../../src/models/index.js';
import { exportOnnxFile } from '../../src/io/export.js';
import { readOnnxWeights } from '../../src/io/onnx_weights.js';
import { ArgumentError } from '../../src/util/errors.js';

test('weights read back from an exported ONNX model (float32 and float16 initializers) and fine-tuning from it', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'attnvision-onnxw-'));
  const h = await createModel('tiny_cnn', { numClasses: 6, inputSize: [3, 32, 32], seed: 2 });
  const own = h.state.stateDict();
  for (const half of [false, true]) {
    const file = path.join(dir, `m${half ? 16 : 32}.onnx`);
    await exportOnnxFile(file, { model: h.model, state: h.state, inputShape: [3, 32, 32], forward: (m, x) => defaultForward(h.info, m, { input: x }), halfPrecisionWeights: half });
    const w = await readOnnxWeights(file, own.keys());
    assert.equal(w.size, own.size, 'every state entry found');
    for (const [k, v] of own) {
      const got = w.get(k)!;
      assert.deepEqual(got.shape, [...v.shape], k);
      let maxRel = 0;
      for (let i = 0; i < v.data.length; i++) maxRel = Math.max(maxRel, Math.abs(got.data[i]! - v.data[i]!) / Math.max(1e-3, Math.abs(v.data[i]!)));
      assert.ok(maxRel <= (half ? 1e-3 : 0), `${k}: relative error ${maxRel} (${half ? 'float16' : 'float32'})`);
    }
    // A model created with the file as initial weights holds the same values.
    const again = await createModel(h.info.name, { numClasses: 6, inputSize: [3, 32, 32], seed: 9, weights: file });
    const a = again.state.stateDict();
    for (const [k, v] of w) assert.deepEqual(a.get(k)!.data, v.data, k);
  }
  const bad = path.join(dir, 'bad.onnx');
  await writeFile(bad, Buffer.from('not a model at all'));
  await assert.rejects(readOnnxWeights(bad, own.keys()), ArgumentError);
});
