import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { createModel, defaultForward } from '../../src/models/index.js';
import { exportOnnx } from '../../src/io/export.js';
import { ensembleOnnx } from '../../src/io/onnx_ensemble.js';
import type { Tensor } from '../../src/graph/index.js';
import { Rng } from '../helpers/rng.js';

async function exported(model: string, seed: number, classes = 6): Promise<Uint8Array> {
  const h = await createModel(model, { numClasses: classes, inputSize: [3, 24, 24], seed });
  return exportOnnx({ model: h.model, state: h.state, inputShape: [3, 24, 24], forward: (m: typeof h.model, x: Tensor) => defaultForward(h.info, m, { input: x }) });
}

async function runOnnx(bytes: Uint8Array, x: Float32Array, batch: number): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    const r = await s.run({ input: new ort.Tensor('float32', x, [batch, 3, 24, 24]) });
    return r[s.outputNames[0]!]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

test('ensembleOnnx: outputs are the mean of the members (different architectures, dynamic batch)', async () => {
  const members = [await exported('tiny_vit', 1), await exported('tiny_cnn', 2), await exported('tiny_vit', 3)];
  const ens = ensembleOnnx(members.map((bytes, i) => ({ name: `m${i}.onnx`, bytes })), { docString: 'three members' });
  const decoded = onnxProto.onnx.ModelProto.decode(ens);
  assert.equal(decoded.docString, 'three members');
  assert.deepEqual(decoded.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 17]]);
  // Each member's weights are present once, under its own prefix.
  const inits = decoded.graph!.initializer!.map((t) => t.name!);
  assert.equal(new Set(inits).size, inits.length);
  for (const p of ['m0/', 'm1/', 'm2/']) assert.ok(inits.some((n) => n.startsWith(p)), p);
  for (const batch of [1, 3]) {
    const x = new Rng(batch).normalArray(batch * 3 * 24 * 24);
    const outs = await Promise.all(members.map((m) => runOnnx(m, x, batch)));
    const mean = await runOnnx(ens, x, batch);
    assert.equal(mean.length, batch * 6);
    for (let i = 0; i < mean.length; i++) {
      const want = (outs[0]![i]! + outs[1]![i]! + outs[2]![i]!) / 3;
      assert.ok(Math.abs(mean[i]! - want) < 1e-5, `batch ${batch}, ${i}: ${mean[i]} vs ${want}`);
    }
    // Not trivially one member's output.
    for (const o of outs) assert.ok(o.some((v, i) => Math.abs(v - mean[i]!) > 1e-3));
  }
});

test('ensembleOnnx: clear errors for too few members, bad bytes and disagreeing outputs', async () => {
  const a = await exported('tiny_vit', 1);
  assert.throws(() => ensembleOnnx([{ name: 'a.onnx', bytes: a }]), /needs at least 2 models, got 1/);
  assert.throws(() => ensembleOnnx([{ name: 'a.onnx', bytes: a }, { name: 'junk.onnx', bytes: Uint8Array.of(0xff, 0xff, 0xff) }]), /junk\.onnx is not an ONNX model/);
  const b = await exported('tiny_vit', 2, 5);
  assert.throws(
    () => ensembleOnnx([{ name: 'a.onnx', bytes: a }, { name: 'five.onnx', bytes: b }]),
    /five\.onnx has outputs \(.*5\]\) but a\.onnx has \(.*6\]\); members must agree/,
  );
});
