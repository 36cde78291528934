/**
 * Bad input to the library API (image, degrade, io, models, train, server): named errors instead of
 * NaN images, silently wrong files, gradient ascent or a crashed service. From an audit of the
 * public functions (session 25).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as F from '../../src/graph/index.js';
import { createImage, encodeJpeg, encodePng, openImagePipeline, readImage, resize, crop, pad, writeImage, type ImageF32 } from '../../src/image/index.js';
import { applyDegradations, defocusBlur, haze, jpeg, lowLight, motionBlur, noise, Rng } from '../../src/degrade/index.js';
import { decodeSafetensors, encodeSafetensors, fromFloat32 } from '../../src/io/safetensors.js';
import { exportOnnx } from '../../src/io/export.js';
import { createModel } from '../../src/models/index.js';
import { ModelState } from '../../src/nn/index.js';
import { AdamW, SGD, cosineWithWarmup, stepDecay } from '../../src/optim/index.js';
import { planTiles } from '../../src/quality/tiling.js';
import { TrainStep } from '../../src/train/step.js';
import { Predictor } from '../../src/train/infer.js';
import { TinyCNN } from '../../src/models/toy.js';
import { toyBatch } from '../../src/data/toy.js';
import { createInspectorServer, type InspectorLike } from '../../src/server/server.js';

const grey = (h = 16, w = 16, c = 3): ImageF32 => createImage(c, h, w, 0.5);

test('images: a data length that does not match the sizes is refused by encoding, resize, crop, pad and the degradations; a NaN by encoding and the degradations', async () => {
  const short: ImageF32 = { data: new Float32Array(5), channels: 3, height: 4, width: 4 };
  const want = /image data but received "5 values"|expected 3 x 4 x 4 = 48 values/;
  await assert.rejects(encodePng(short), want);
  await assert.rejects(writeImage(path.join(await mkdtemp(path.join(tmpdir(), 'av-api-')), 'x.png'), short), want);
  assert.throws(() => resize(short, 2, 2), want);
  assert.throws(() => crop(short, { left: 0, top: 0, width: 2, height: 2 }), want);
  assert.throws(() => pad(grey(), { top: 1 }, 'wrap' as never), /pad: expected constant, edge or reflect for mode/);
  for (const fn of [defocusBlur, motionBlur, noise, haze, lowLight]) assert.throws(() => fn(short, 0.5, new Rng(1)), want, fn.name);
  const nan = grey();
  nan.data[3 * 16 + 5] = Number.NaN;
  await assert.rejects(encodePng(nan), /encodePng: expected a finite number for image value at channel 0, row 3, column 5 but received NaN/);
  assert.throws(() => defocusBlur(nan, 0.5, new Rng(1)), /defocus_blur: expected a finite number for image value at channel 0, row 3, column 5/);
  await assert.rejects(applyDegradations(nan, [{ name: 'noise', severity: 0.5 }], new Rng(1)), /applyDegradations: expected a finite number for image value/);
});

test('degradation parameters: NaN, impossible values and unknown kinds are named, not turned into NaN or untouched images', async () => {
  const img = grey();
  const rng = () => new Rng(3);
  assert.throws(() => haze(img, 0.5, rng(), { beta: Number.NaN }), /haze: expected a finite number for params\.beta but received NaN/);
  assert.throws(() => haze(img, 0.5, rng(), { airlight: 0.5 as never }), /haze: expected an object, an array or null for params\.airlight but received 0\.5/);
  assert.throws(() => haze(img, 0.5, rng(), { airlight: [2, 0, 0] }), /haze: expected \[r, g, b\] in \[0, 1\] for params\.airlight/);
  // null (JSON's NaN), true or "5" where a number belongs: named, never an unchanged image.
  assert.throws(() => haze(img, 0.5, rng(), { beta: null as never }), /haze: expected a number for params\.beta but received null/);
  assert.throws(() => noise(img, 0.5, rng(), { model: 'gaussian', sigma: null as never }), /noise: expected a number for params\.sigma but received null/);
  assert.throws(() => lowLight(img, 0.5, rng(), { exposure: true as never }), /low_light: expected a number for params\.exposure but received true/);
  assert.throws(() => motionBlur(img, 0.5, rng(), { length: '5' as never }), /motion_blur: expected a number for params\.length but received "5"/);
  assert.deepEqual(defocusBlur(img, 0.5, rng(), { subject: undefined }).params, defocusBlur(img, 0.5, rng()).params, 'an undefined override is no override');
  assert.throws(() => noise(img, 0.5, rng(), { model: 'laplace' as never }), /noise: expected "gaussian", "poisson_gaussian", "camera" or "isp" for params\.model but received "laplace"/);
  assert.throws(() => noise(img, 0.5, rng(), { model: 'camera', gains: [0, 1, 1] }), /noise: expected \[r, g, b\] white-balance gains > 0 for params\.gains/);
  assert.throws(() => motionBlur(img, 0.5, rng(), { kind: 'spiral' as never }), /motion_blur: expected "shake" or "linear" for params\.kind/);
  assert.throws(() => motionBlur(img, 0.5, rng(), { length: 0 }), /motion_blur: expected a number > 0 \(px\) for params\.length but received 0/);
  assert.throws(() => defocusBlur(img, 0.5, rng(), { radius: -3 }), /defocus_blur: expected a number > 0 for params\.radius but received -3/);
  assert.throws(() => lowLight(img, 0.5, rng(), { photons: 0 }), /low_light: expected a number > 0 for params\.photons but received 0/);
  await assert.rejects(applyDegradations(img, [{ name: 'noise', severity: 0.5, params: { sigma: Number.NaN } }], rng()), /noise: expected a finite number for params\.sigma/);
  await assert.rejects(applyDegradations(img, [{ name: '__proto__' as never, severity: 0.5 }], rng()), /applyDegradations: expected one of .* for name but received "__proto__"/);
  await assert.rejects(applyDegradations(img, null as never, rng()), /applyDegradations: expected an array of \{ name, severity, params\? \} for recipe/);
  await assert.rejects(applyDegradations(img, [], undefined as never), /applyDegradations: expected an Rng/);
});

test('jpeg keeps the channel count: grey stays grey, RGBA keeps its alpha', async () => {
  for (const c of [1, 3, 4]) {
    const img = createImage(c, 24, 24, 0.3);
    if (c === 4) img.data.fill(0.6, 3 * 24 * 24);
    const out = (await jpeg(img, 0.5, new Rng(2))).image;
    assert.equal(out.channels, c);
    assert.equal(out.data.length, c * 24 * 24);
    if (c === 4) {
      assert.ok(out.data.subarray(3 * 24 * 24).every((v) => Math.abs(v - 0.6) < 1e-6), 'alpha kept');
      // The colour planes go through JPEG as they are: the same as the RGB image's round trip.
      const rgb = (await jpeg({ ...img, channels: 3, data: img.data.slice(0, 3 * 24 * 24) }, 0.5, new Rng(2))).image;
      assert.deepEqual(out.data.subarray(0, 3 * 24 * 24), rgb.data);
    }
  }
});

test('encodeJpeg composites transparency onto white, as images are read', async () => {
  const img = createImage(4, 8, 8, 0);
  const back = await readImage(await encodeJpeg(img));
  assert.ok(back.data.every((v) => v > 0.97), 'fully transparent black reads as white');
});

test('readImage options and inputs of the wrong kind are argument errors', async () => {
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'av-api-')), 'g.png');
  await writeImage(file, grey(8, 8));
  assert.equal((await readImage(file, { maxPixels: Infinity })).width, 8, 'Infinity = no pixel limit');
  await assert.rejects(readImage(file, { maxPixels: 64.5 }), /readImage: expected a positive integer \(or Infinity\) for maxPixels/);
  await assert.rejects(readImage(file, { timeoutSeconds: -1 }), /readImage: expected an integer in \[0, 3600\] \(0: no limit\) for timeoutSeconds but received -1/);
  assert.equal((await openImagePipeline(file, { maxPixels: Infinity })).width, 8, 'openImagePipeline takes Infinity too');
  await assert.rejects(readImage(null as never), /image: expected a file path or a Uint8Array\/Buffer of image bytes for input but received null/);
});

test('safetensors: offsets outside the data, bad shapes, overlaps, non-string metadata and a tensor named __metadata__ are refused', () => {
  const good = encodeSafetensors(new Map([['a', fromFloat32(Float32Array.of(1, 2), [2])], ['b', fromFloat32(Float32Array.of(3, 4), [2])]]), { k: 'v'.repeat(300) });
  const hlen = Number(new DataView(good.buffer).getBigUint64(0, true));
  const withHeader = (header: object) => {
    const json = Buffer.from(JSON.stringify(header).padEnd(hlen, ' '));
    assert.ok(json.length <= hlen);
    const out = good.slice();
    out.set(json, 8);
    return out;
  };
  assert.throws(() => decodeSafetensors(withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }), 'x'), /x: tensor "a" has invalid data offsets \[-4, 0\]/);
  assert.throws(() => decodeSafetensors(withHeader({ a: { dtype: 'F32', shape: [-1, -2], data_offsets: [0, 8] } }), 'x'), /x: tensor "a" has an invalid shape \[-1,-2\]/);
  assert.throws(() => decodeSafetensors(withHeader({ a: null }), 'x'), /x: tensor "a" is not described by an object/);
  assert.throws(() => decodeSafetensors(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }), 'x'), /x: tensors "a" and "b" overlap/);
  assert.throws(() => encodeSafetensors(new Map(), { step: 5 as never }), /metadata "step": expected a string value but received number/);
  assert.throws(() => decodeSafetensors(withHeader({ __metadata__: { step: 5 } }), 'x'), /x: __metadata__ must map names to strings/);
  // An empty tensor occupies no bytes: listed anywhere, it overlaps nothing.
  const d = decodeSafetensors(withHeader({ c: { dtype: 'F32', shape: [2], data_offsets: [8, 16] }, b: { dtype: 'F32', shape: [0], data_offsets: [8, 8] }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }), 'x');
  assert.deepEqual([...d.tensors.keys()].sort(), ['a', 'b', 'c']);
  assert.throws(() => encodeSafetensors(new Map([['__metadata__', fromFloat32(Float32Array.of(1), [1])]])), /cannot be named "__metadata__"/);
});

test('models and export: input sizes of the wrong length, bad names, empty input names and batch 0 are refused', async () => {
  await assert.rejects(createModel('tiny_cnn', { inputSize: [16, 16] }), /tiny_cnn: expected inputSize as 3 positive integers \(like 1x16x16\) but received \[16,16\]/);
  await assert.rejects(createModel(undefined as never), /createModel: expected a model name/);
  await assert.rejects(createModel('sagan_generator_32', { inputSize: [3, 64, 64], init: false }), /sagan_generator_32 makes 3 x 32 x 32 images from a 128-d latent; an input size of 3 x 64 x 64 does not apply/);
  assert.equal((await createModel('sagan_generator_32', { inputSize: [3, 32, 32], init: false })).inputSize.join(), '3,32,32');
  const h = await createModel('tiny_cnn');
  const base = { model: h.model, state: h.state, inputShape: [1, 16, 16], forward: (m: typeof h.model, x: F.Tensor) => ({ logits: (m as unknown as { call(t: F.Tensor): F.Tensor }).call(x) }) };
  assert.throws(() => exportOnnx({ ...base, inputName: '' }), /export: expected a non-empty name .* for inputName/);
  assert.throws(() => exportOnnx({ ...base, dynamicBatch: false, batch: 0 }), /export: expected integer >= 1 for batch but received 0/);
  await assert.rejects(createModel('tiny_cnn', { weights: '' }), /tiny_cnn: expected a weights file path but received ""/);
  // A misspelt option is refused by name with the model's own options listed, not ignored.
  await assert.rejects(createModel('tiny_cnn', { numClass: 3 }), /tiny_cnn: unknown option "numClass" \(known: numClasses, inputSize, seed, weights, init\)/);
  await assert.rejects(createModel('swin_micro_patch2_window4_96', { windowsize: 2, init: false }), /unknown option "windowsize" \(known: numClasses, inputSize, seed, weights, init, patchSize, embedDim, depths, numHeads, windowSize,/);
  assert.equal((await createModel('swin_micro_patch2_window4_96', { windowSize: 2, init: false, dropPathRate: undefined })).info.family, 'swin');
});

test('optimizers and tiling refuse values they cannot use', () => {
  assert.throws(() => new AdamW({ eps: 0 }), /AdamW: expected a finite number > 0 for eps but received 0/);
  assert.throws(() => new SGD({ momentum: 0.9, dampening: 2 }), /SGD: expected finite number in \[0, 1\] for dampening but received 2/);
  assert.throws(() => planTiles(1e5, 1e5, 1, 1e4), /planTiles: expected integer in \[1, 16\] for maxPerSide but received 10000/);
  assert.throws(() => planTiles(Number.NaN, 10, 32, 4), /planTiles: expected integer >= 1 for width but received NaN/);
});

test('training: a NaN or missing learning rate, a clip norm <= 0 and bad schedule options are refused; feeds of another shape too', async () => {
  assert.throws(() => cosineWithWarmup({ baseLr: 0.1, totalSteps: 10, warmupSteps: Number.NaN }), /cosineWithWarmup: expected integer >= 0 for warmupSteps but received NaN/);
  assert.throws(() => cosineWithWarmup({ baseLr: 0.1, totalSteps: 10, minLr: 1 }), /cosineWithWarmup: expected finite number in \[0, 0\.1\] for minLr but received 1/);
  assert.throws(() => stepDecay(Number.NaN, 5), /stepDecay: expected finite number in \[0, Infinity\] for baseLr/);
  const model = new TinyCNN(1, 4);
  const state = ModelState.init(model, 1);
  const spec = { model, state, optimizer: new SGD({ momentum: 0.9 }), inputs: [{ name: 'x', shape: [8, 1, 16, 16], dtype: 'float32' as const }, { name: 'y', shape: [8], dtype: 'int64' as const }], loss: (m: TinyCNN, ins: Record<string, F.Tensor>) => ({ loss: F.crossEntropy(m.call(ins.x!), ins.y!) }) };
  for (const clipNorm of [-1, 0, Number.NaN]) await assert.rejects(TrainStep.build({ ...spec, clipNorm }), /TrainStep\.build: expected a number > 0 \(or no clipNorm for none\) for clipNorm/);
  const step = await TrainStep.build(spec);
  const b = toyBatch(8, 16, 1);
  const feeds = { x: { data: b.images, shape: [8, 1, 16, 16], dtype: 'float32' as const }, y: { data: b.labels, shape: [8], dtype: 'int64' as const } };
  const before = state.params.slice();
  for (const lr of [Number.NaN, undefined, -0.1]) await assert.rejects(step.run(feeds, { lr } as never), /TrainStep\.run: expected a finite number >= 0 for lr/);
  assert.deepEqual(state.params, before, 'the weights are untouched');
  const pred = await Predictor.build({ model, state, inputs: [{ name: 'x', shape: [8, 1, 16, 16], dtype: 'float32' }], forward: (m, ins) => ({ logits: m.call(ins.x!) }) });
  await assert.rejects(pred.run({ x: { data: b.images, shape: [8, 1, 32, 8], dtype: 'float32' } }), /feed "x": expected shape \[8,1,16,16\] but received \[8,1,32,8\]/);
  assert.equal((await pred.run({ x: { data: b.images, shape: [8, 16, 16], dtype: 'float32' } })).logits!.data.length, 8 * 4, 'size-1 dimensions may be left out');
});

test('createInspectorServer: limits that are not positive integers and a log that is not a function are refused; a throwing log does not stop the service', async () => {
  const fake: InspectorLike = { config: { labels: ['noise'], inputSize: 32, mean: [0, 0, 0], std: [1, 1, 1], threshold: 0.5, severityHead: false, model: 'fake', topK: 1, maxTilesPerSide: 1 }, modelPath: '/nowhere/fake.onnx', thresholds: () => [0.5], inspect: async () => { throw new Error('not used'); } } as unknown as InspectorLike;
  for (const maxBytes of [Number.NaN, 0, -1]) assert.throws(() => createInspectorServer(fake, { maxBytes }), /createInspectorServer: expected integer >= 1 for maxBytes/);
  assert.throws(() => createInspectorServer(fake, { requestTimeoutMs: -1 }), /expected integer >= 1 for requestTimeoutMs/);
  assert.equal(createInspectorServer(fake, { requestTimeoutMs: 0 }).server.requestTimeout, 0, '0 = no request timeout');
  assert.throws(() => createInspectorServer(fake, { log: 'yes' as never }), /log must be a function/);
  let calls = 0;
  const service = createInspectorServer(fake, { log: (() => (calls++ % 2 ? Promise.reject(new Error('async logger broke')) : (() => { throw new Error('logger broke'); })())) as never });
  const addr = await service.listen(0);
  try {
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`http://127.0.0.1:${(addr as { port: number }).port}/healthz`);
      assert.equal(r.status, 200, 'still serving after the logger threw or rejected');
    }
    await new Promise((res) => setTimeout(res, 20));
    assert.equal(calls, 2);
    // "//inspect" is a path, not a protocol-relative URL that would route to "/".
    const twice = await fetch(`http://127.0.0.1:${(addr as { port: number }).port}//inspect`, { method: 'POST', body: 'x' });
    assert.equal(twice.status, 404);
    assert.match(((await twice.json()) as { error: string }).error, /no such path \/\/inspect/);
  } finally {
    await service.close();
  }
});

test('Trainer refuses a TrainConfig it cannot run, naming the field, before any work', async () => {
  const { checkTrainConfig } = await import('../../src/train/trainer.js');
  const ok = { model: 'tiny_cnn', epochs: 1, batchSize: 8, imageSize: 16, optimizer: 'sgd' as const, lr: 0.1, weightDecay: 0, warmupEpochs: 0, seed: 1 };
  checkTrainConfig(ok);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ optimizer: 'adam' }, /TrainConfig: expected "sgd" or "adamw" for optimizer but received "adam"/],
    [{ epochs: 1.5 }, /expected integer >= 1 for epochs but received 1\.5/],
    [{ batchSize: 0 }, /for batchSize but received 0/],
    [{ lr: Number.NaN }, /for lr but received NaN/],
    [{ labelSmoothing: 2 }, /for labelSmoothing but received 2/],
    [{ warmupEpochs: -1 }, /for warmupEpochs but received -1/],
    [{ cropMode: 'zoom' }, /for cropMode but received "zoom"/],
    [{ workers: 0 }, /for workers but received 0/],
    [{ clipNorm: -1 }, /for clipNorm \(0: none\) but received -1/],
    [{ pairWeight: 0 }, /pair weight \(--pair-weight\) must be > 0, received 0/],
    [{ pairWeightLabels: ['noise'] }, /pair-weighted labels \(--pair-weight-labels\) need a pair weight/],
    [{ optimizer: 'adamw', lr: 2, weightDecay: 0.5 }, /weight decay \(--wd 0\.5\) times the learning rate \(--lr 2\) is 1: AdamW scales every weight by 1 - lr \* wd per step/],
    [{ negativeWeight: -1 }, /negative weight \(--negative-weight\) must be > 0, received -1/],
    [{ negativeWeightLabels: ['noise'] }, /negative-weighted labels \(--negative-weight-labels\) need a negative weight/],
    [{ negativeWeightPartners: ['noise'] }, /negative-weight partners \(--negative-weight-partners\) need a negative weight/],
    [{ ema: 1 }, /EMA decay \(--ema\) must be in \(0, 1\), received 1/],
  ];
  for (const [bad, want] of cases) assert.throws(() => checkTrainConfig({ ...ok, ...bad } as never), want, JSON.stringify(bad));
});

test('hostTensor and toFloat32 refuse data that does not fill the shape', async () => {
  const { hostTensor } = await import('../../src/runtime/session.js');
  const { toFloat32 } = await import('../../src/io/safetensors.js');
  assert.throws(() => hostTensor(new Float32Array(3), [2, 2]), /hostTensor: 3 values do not fill shape \[2,2\] \(4 values\)/);
  assert.throws(() => toFloat32({ dtype: 'F32', shape: [4], bytes: new Uint8Array(8) }, 'w'), /w: 8 bytes for F32\[4\] \(expected 16\)/);
});

test('GroupNorm names the channel count that groups do not divide', async () => {
  const { GroupNorm } = await import('../../src/nn/index.js');
  assert.throws(() => new GroupNorm(3, 8), /GroupNorm: expected a multiple of groups \(3\) for channels but received 8/);
});

test('baselineScores, panelSize and listen name inputs of the wrong kind', async () => {
  const { baselineScores } = await import('../../src/quality/baselines.js');
  const { panelSize } = await import('../../src/image/panel.js');
  await assert.rejects(baselineScores(grey() as never), /baselineScores: expected an image path or the bytes of an image file \(Buffer\) for input/);
  assert.throws(() => panelSize(0, 10, 320), /panelSize: expected integer >= 1 for width but received 0/);
  const fake = { config: { labels: ['noise'], inputSize: 32, mean: [0, 0, 0], std: [1, 1, 1], threshold: 0.5, severityHead: false, model: 'fake', topK: 1, maxTilesPerSide: 1 }, modelPath: '/nowhere/fake.onnx', thresholds: () => [0.5], inspect: async () => { throw new Error('not used'); } } as unknown as InspectorLike;
  await assert.rejects(createInspectorServer(fake).listen('abc' as never), /listen: expected a port number in \[0, 65535\] but received "abc"/);
});
