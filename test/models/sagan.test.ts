/**
 * SAGAN generator / projection discriminator: output shapes, image range, self-attention on the
 * 32x32 (S = 32, 64) or 64x64 (S = 128) feature maps, and class conditioning changes the output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/graph/index.js';
import { createModel } from '../../src/models/index.js';
import { SaganDiscriminator, SaganGenerator } from '../../src/models/sagan.js';
import { ConstantBinding, withBinding } from '../../src/nn/index.js';
import { Predictor } from '../../src/train/infer.js';
import { Rng } from '../helpers/rng.js';

for (const [size, res] of [
  [32, 32],
  [64, 32],
  [128, 64],
] as const) {
  test(`sagan ${size} px: attention over ${res}x${res} maps in G and D, output shapes`, async () => {
    const h = await createModel(`sagan_generator_${size}`, { numClasses: 5, ch: 4, returnAttention: true });
    const hd = await createModel(`sagan_discriminator_${size}`, { numClasses: 5, ch: 4, returnAttention: true });
    const g = h.model.eval() as SaganGenerator;
    const d = hd.model.eval() as SaganDiscriminator;
    const graph = new Graph();
    graph.run(() => {
      const z = graph.input('z', [2, 128], 'float32');
      const y = graph.input('y', [2], 'int64');
      const img = withBinding(new ConstantBinding(graph, h.state), () => g.call(z, y));
      assert.deepEqual(img.shape, [2, 3, size, size]);
      const logits = withBinding(new ConstantBinding(graph, hd.state), () => d.call(img, y));
      assert.deepEqual(logits.shape, [2, 1]);
    });
    assert.deepEqual(g.attn.lastAttention?.shape, [2, res * res, res * res]);
    assert.deepEqual(d.attn.lastAttention?.shape, [2, res * res, res * res]);
  });
}

test('sagan_generator_32: images in [-1, 1], class label changes the image', async () => {
  const h = await createModel('sagan_generator_32', { numClasses: 10, ch: 8, seed: 2 });
  h.model.eval();
  const pred = await Predictor.build({
    model: h.model,
    state: h.state,
    inputs: h.info.inputs!(2, h.inputSize, 10),
    forward: (m, ins) => h.info.forward!(m, ins),
    weights: 'fed',
  });
  const z = new Rng(1).normalArray(128);
  const zz = new Float32Array(256);
  zz.set(z, 0);
  zz.set(z, 128);
  const out = await pred.run({ z: { data: zz, shape: [2, 128], dtype: 'float32' }, y: { data: BigInt64Array.from([1n, 7n]), shape: [2], dtype: 'int64' } });
  const img = out.images!.data as Float32Array;
  assert.equal(img.length, 2 * 3 * 32 * 32);
  assert.ok(img.every((v) => v >= -1 && v <= 1));
  const half = img.length / 2;
  let diff = 0;
  for (let i = 0; i < half; i++) diff = Math.max(diff, Math.abs(img[i]! - img[half + i]!));
  // Conditional BN gains start at 1 for every class; perturb the state so the classes differ.
  assert.ok(diff === 0, 'same z and identical class embeddings at init give the same image');
  const sd = h.state.stateDict();
  const gamma = sd.get('blocks.0.cbn1.gamma_embed')!;
  const C = gamma.shape[1]!;
  for (let i = 7 * C; i < 8 * C; i++) gamma.data[i] = 2;
  const pred2 = await Predictor.build({ model: h.model, state: h.state, inputs: h.info.inputs!(2, h.inputSize, 10), forward: (m, ins) => h.info.forward!(m, ins), weights: 'fed' });
  const out2 = await pred2.run({ z: { data: zz, shape: [2, 128], dtype: 'float32' }, y: { data: BigInt64Array.from([1n, 7n]), shape: [2], dtype: 'int64' } });
  const img2 = out2.images!.data as Float32Array;
  let diff2 = 0;
  for (let i = 0; i < half; i++) diff2 = Math.max(diff2, Math.abs(img2[i]! - img2[half + i]!));
  assert.ok(diff2 > 1e-4, `class 7 gain changes its image (${diff2})`);
});
