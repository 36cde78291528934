/**
 * Swin models: parameter counts and FLOPs within 1% of the paper, and a torchvision state dict
 * (small SwinTransformer from scripts/fixtures/swin.py) loads through the key mapping and gives
 * torchvision's logits, also at a size that needs window padding (36 px).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, summarize } from '../../src/models/index.js';
import { Predictor } from '../../src/train/infer.js';
import { readSafetensors, toFloat32 } from '../../src/io/safetensors.js';
import { swinMapKey, type SwinTransformer } from '../../src/models/swin.js';
import { fixturePath } from '../helpers/golden.js';

for (const name of ['swin_tiny_patch4_window7_224', 'swin_small_patch4_window7_224', 'swin_base_patch4_window7_224']) {
  test(`${name}: params and GFLOPs within 1% of the paper`, async () => {
    const h = await createModel(name);
    const paper = h.info.paper!;
    assert.ok(Math.abs(h.state.numParams / paper.params! - 1) < 0.01, `params ${h.state.numParams} vs ${paper.params}`);
    const s = summarize(h);
    assert.ok(Math.abs(s.gflops / paper.gflops! - 1) < 0.01, `GFLOPs ${s.gflops} vs ${paper.gflops}`);
  });
}

test('swinMapKey maps torchvision and timm names', () => {
  assert.equal(swinMapKey('features.0.0.weight'), 'patch_embed.proj.weight');
  assert.equal(swinMapKey('features.0.2.bias'), 'patch_embed.norm.bias');
  assert.equal(swinMapKey('features.5.17.mlp.3.weight'), 'layers.2.blocks.17.mlp.fc2.weight');
  assert.equal(swinMapKey('features.6.reduction.weight'), 'layers.3.downsample.reduction.weight');
  assert.equal(swinMapKey('features.1.0.attn.relative_position_index'), null);
  assert.equal(swinMapKey('layers.0.blocks.1.attn_mask'), null);
  assert.equal(swinMapKey('head.fc.weight'), 'head.weight');
  assert.equal(swinMapKey('layers.1.downsample.norm.weight'), 'layers.1.downsample.norm.weight');
});

test('torchvision SwinTransformer weights load and reproduce its logits (32 px and padded 36 px)', async (t) => {
  const { tensors } = await readSafetensors(fixturePath('swin/tv_small_logits.safetensors'));
  for (const size of [32, 36]) {
    const h = await createModel('swin_tiny_patch4_window7_224', {
      numClasses: 10,
      inputSize: [3, size, size],
      embedDim: 16,
      depths: [2, 2],
      numHeads: [2, 4],
      windowSize: 4,
      weights: fixturePath('swin/tv_small_state_dict.safetensors'),
    });
    assert.deepEqual(h.loadReport!.missing, []);
    assert.deepEqual(h.loadReport!.unexpected, []);
    h.model.eval();
    const pred = await Predictor.build({
      model: h.model as SwinTransformer,
      state: h.state,
      inputs: [{ name: 'input', shape: [1, 3, size, size], dtype: 'float32' }],
      forward: (m, ins) => ({ logits: m.call(ins.input!) }),
    });
    const x = tensors.get(`x${size}`)!;
    const out = (await pred.run({ input: { data: toFloat32(x), shape: x.shape, dtype: 'float32' } })).logits!.data as Float32Array;
    const want = toFloat32(tensors.get(`logits${size}`)!);
    let err = 0;
    for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(out[i]! - want[i]!));
    assert.ok(err < 1e-4, `max abs error ${err}`);
    t.diagnostic(`${size} px: max abs logit error ${err.toExponential(2)}`);
  }
});
