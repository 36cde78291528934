/**
 * SAGAN self-attention and spectral normalization match PyTorch (torch.nn.utils.spectral_norm),
 * including the power-iteration update of the u / v buffers in train mode
 * (scripts/fixtures/attention_cnn.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SelfAttention2d } from '../../src/attention/sagan.js';
import { SNConv, SNLinear } from '../../src/attention/spectral_norm.js';
import { ModelState } from '../../src/nn/index.js';
import { checkGolden } from '../helpers/golden.js';

test('SAGAN self-attention (eval) matches PyTorch', async () => {
  const r = await checkGolden('attention_cnn/sagan_attn.safetensors', new SelfAttention2d(16));
  assert.ok(r.checked.includes('grad.param.gamma') && r.checked.includes('grad.param.f.weight_orig'));
});

test('SAGAN self-attention (train: power iteration) matches PyTorch, u / v updates included', async () => {
  const r = await checkGolden('attention_cnn/sagan_attn_train.safetensors', new SelfAttention2d(16), { train: true });
  for (const n of ['f', 'g', 'h', 'v']) assert.ok(r.checked.includes(`buffer_out.${n}.weight_u`) && r.checked.includes(`buffer_out.${n}.weight_v`));
});

test('spectral-norm conv (2 power iterations, train) matches PyTorch incl. u / v', async () => {
  const r = await checkGolden('attention_cnn/sn_conv_train.safetensors', new SNConv(4, 6, 3, { padding: 1, nPowerIterations: 2 }), { train: true });
  assert.ok(r.checked.includes('buffer_out.weight_u') && r.checked.includes('grad.param.weight_orig'));
});

test('spectral-norm conv (eval: stored u, v) matches PyTorch', async () => {
  await checkGolden('attention_cnn/sn_conv_eval.safetensors', new SNConv(4, 6, 3, { padding: 1, nPowerIterations: 2 }));
});

test('spectral-norm linear (train) matches PyTorch incl. u / v', async () => {
  const r = await checkGolden('attention_cnn/sn_linear_train.safetensors', new SNLinear(7, 5), { train: true });
  assert.ok(r.checked.includes('buffer_out.weight_v'));
});

test('SelfAttention2d: C/8 projections, gamma starts at 0, u / v are unit buffers', () => {
  const sa = new SelfAttention2d(64);
  const st = ModelState.init(sa, 0).stateDict();
  assert.deepEqual(st.get('f.weight_orig')!.shape, [8, 64, 1, 1]);
  assert.deepEqual([...st.get('gamma')!.data], [0]);
  const u = st.get('f.weight_u')!.data;
  assert.ok(Math.abs(Math.hypot(...u) - 1) < 1e-5);
});
