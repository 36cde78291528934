import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import * as F from '../../src/graph/index.js';
import { ModelState } from '../../src/nn/index.js';
import { SGD } from '../../src/optim/index.js';
import { TrainStep } from '../../src/train/step.js';
import { Predictor } from '../../src/train/infer.js';
import { TinyCNN, TinyViT } from '../../src/models/toy.js';
import { toyBatch } from '../../src/data/toy.js';
import { saveCheckpoint, loadCheckpoint, exportOnnxFile, decodeSafetensors, encodeSafetensors, fromFloat32, readSafetensorsMetadata } from '../../src/io/index.js';
import { StateDictError } from '../../src/util/errors.js';
import { onnx } from '../../src/graph/emitter.js';

const S = 16;

async function trained(model: TinyCNN | TinyViT) {
  const state = ModelState.init(model, 3);
  const B = 8;
  const step = await TrainStep.build({
    model,
    state,
    inputs: [
      { name: 'x', shape: [B, 1, S, S], dtype: 'float32' },
      { name: 'y', shape: [B], dtype: 'int64' },
    ],
    optimizer: new SGD({ momentum: 0.9 }),
    loss: (m, ins) => ({ loss: F.crossEntropy(m.call(ins.x!), ins.y!) }),
  });
  for (let i = 0; i < 5; i++) {
    const b = toyBatch(B, S, i);
    await step.run({ x: { data: b.images, shape: [B, 1, S, S], dtype: 'float32' }, y: { data: b.labels, shape: [B], dtype: 'int64' } }, { lr: 0.05 });
  }
  return state;
}

async function predict(model: TinyCNN | TinyViT, state: ModelState, x: Float32Array, n: number) {
  const p = await Predictor.build({ model, state, inputs: [{ name: 'x', shape: [n, 1, S, S], dtype: 'float32' }], forward: (m, ins) => ({ logits: m.call(ins.x!) }) });
  return (await p.run({ x: { data: x, shape: [n, 1, S, S], dtype: 'float32' } })).logits!.data as Float32Array;
}

for (const make of [() => new TinyCNN(1, 4), () => new TinyViT(1, 4, S)]) {
  test(`${make().constructor.name}: saved, reloaded and exported models give identical outputs`, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'attnvision-ck-'));
    const model = make();
    const state = await trained(model);
    const ck = path.join(dir, 'model.safetensors');
    await saveCheckpoint(ck, state, { metadata: { model: model.constructor.name } });
    assert.deepEqual((await readdir(dir)).filter((f) => f.includes('.tmp-')), [], 'no temp file left behind');

    const model2 = make();
    const state2 = ModelState.init(model2, 999);
    const { report, metadata } = await loadCheckpoint(ck, state2);
    assert.equal(metadata.model, model.constructor.name);
    assert.equal(report.loaded.length, state.stateDict().size);
    assert.deepEqual(state2.params, state.params);
    assert.deepEqual(state2.buffers, state.buffers);

    const n = 5;
    const x = toyBatch(n, S, 42).images;
    const a = await predict(model, state, x, n);
    const b = await predict(model2, state2, x, n);
    assert.deepEqual(b, a, 'reloaded model gives identical outputs');

    const onnxFile = path.join(dir, 'model.onnx');
    await exportOnnxFile(onnxFile, { model: model2, state: state2, inputShape: [1, S, S] });
    const bytes = await readFile(onnxFile);
    const proto = onnx.ModelProto.decode(bytes);
    assert.ok(proto.graph!.node!.every((nd) => !nd.domain), 'only default-domain ops');
    assert.equal(proto.graph!.input![0]!.name, 'input');
    assert.equal(proto.graph!.input![0]!.type!.tensorType!.shape!.dim![0]!.dimParam, 'batch');
    const sess = await ort.InferenceSession.create(bytes);
    for (const bn of [1, n]) {
      const out = await sess.run({ input: new ort.Tensor('float32', x.slice(0, bn * S * S), [bn, 1, S, S]) });
      const got = out[sess.outputNames[0]!]!.data as Float32Array;
      assert.equal(got.length, bn * 4);
      for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - a[i]!) <= 1e-5 * (1 + Math.abs(a[i]!)), `exported output ${i} at batch ${bn}: ${got[i]} vs ${a[i]}`);
    }
  });
}

test('loading a mismatched checkpoint lists every mismatch', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'attnvision-ck-'));
  const state = ModelState.init(new TinyCNN(1, 4), 1);
  const entries = state.stateDict();
  const tensors = new Map([...entries].filter(([k]) => k !== 'bn1.weight').map(([k, v]) => [k, fromFloat32(v.data, v.shape)]));
  tensors.set('head.weight', fromFloat32(new Float32Array(5 * 32), [5, 32]));
  tensors.set('extra.bias', fromFloat32(new Float32Array(3), [3]));
  const file = path.join(dir, 'bad.safetensors');
  await writeFile(file, encodeSafetensors(tensors));
  await assert.rejects(loadCheckpoint(file, ModelState.init(new TinyCNN(1, 4), 2)), (e: Error) => {
    assert.ok(e instanceof StateDictError);
    assert.match(e.message, /bad\.safetensors/);
    assert.match(e.message, /missing \(1\): bn1\.weight/);
    assert.match(e.message, /unexpected \(1\): extra\.bias/);
    assert.match(e.message, /head\.weight: model \[4,32\], file \[5,32\]/);
    return true;
  });
  const lenient = await loadCheckpoint(file, ModelState.init(new TinyCNN(1, 4), 2), { strict: false });
  assert.deepEqual(lenient.report.missing, ['bn1.weight']);
  assert.deepEqual(lenient.ignored, []);
});

test('integer tensors (PyTorch num_batches_tracked) are left out of the state but listed', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'attnvision-ck-'));
  const state = ModelState.init(new TinyCNN(1, 4), 1);
  const tensors = new Map([...state.stateDict()].map(([k, v]) => [k, fromFloat32(v.data, v.shape)]));
  tensors.set('bn1.num_batches_tracked', { dtype: 'I64', shape: [], bytes: new Uint8Array(8) });
  const file = path.join(dir, 'torch.safetensors');
  await writeFile(file, encodeSafetensors(tensors));
  const ck = await loadCheckpoint(file, ModelState.init(new TinyCNN(1, 4), 2));
  assert.deepEqual(ck.ignored, [{ name: 'bn1.num_batches_tracked', dtype: 'I64', shape: [] }]);
  assert.equal(ck.report.unexpected.length, 0);
  assert.ok(!ck.entries.has('bn1.num_batches_tracked'));
});

test('safetensors: header is 8-byte aligned, round-trips, and corrupt files give a named error', () => {
  const t = new Map([['w', fromFloat32(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3])]]);
  const bytes = encodeSafetensors(t, { a: 'b' });
  const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + hlen) % 8, 0);
  const back = decodeSafetensors(bytes);
  assert.deepEqual(back.metadata, { a: 'b' });
  assert.deepEqual([...new Float32Array(back.tensors.get('w')!.bytes.slice().buffer)], [1, 2, 3, 4, 5, 6]);
  assert.throws(() => decodeSafetensors(bytes.slice(0, 20), 'x.safetensors'), /x\.safetensors: header length/);
  assert.throws(() => decodeSafetensors(new Uint8Array(3), 'y.safetensors'), /y\.safetensors: too short/);
});

test('readSafetensorsMetadata: the metadata from the header alone; bad files named', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'attnvision-stmeta-'));
  const file = path.join(dir, 'ck.safetensors');
  const bytes = encodeSafetensors(new Map([['w', fromFloat32(new Float32Array(1000), [10, 100])]]), { model: 'tiny_cnn', classes: '["a","b"]' });
  await writeFile(file, bytes);
  assert.deepEqual(await readSafetensorsMetadata(file), { model: 'tiny_cnn', classes: '["a","b"]' });
  // The tensor bytes are never read: a file cut right after the header still gives its metadata.
  const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const cut = path.join(dir, 'cut.safetensors');
  await writeFile(cut, bytes.slice(0, 8 + hlen));
  assert.equal((await readSafetensorsMetadata(cut)).model, 'tiny_cnn');
  await writeFile(cut, bytes.slice(0, 20));
  await assert.rejects(readSafetensorsMetadata(cut), /cut\.safetensors: header length \d+ exceeds file size 20/);
  await writeFile(cut, bytes.slice(0, 5));
  await assert.rejects(readSafetensorsMetadata(cut), /cut\.safetensors: too short for a safetensors file \(5 bytes\)/);
  await assert.rejects(readSafetensorsMetadata(path.join(dir, 'missing.safetensors')), /missing\.safetensors: cannot read \(ENOENT\)/);
  await assert.rejects(readSafetensorsMetadata(dir), /cannot read \(EISDIR\)/);
});
