/**
 * Global Context block and the simplified non-local variant match PyTorch references
 * (scripts/fixtures/attention_cnn.py); a new block is the identity (zero-initialised last conv).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GlobalContext } from '../../src/attention/global_context.js';
import { createAttn } from '../../src/attention/create_attn.js';
import { ModelState } from '../../src/nn/index.js';
import { checkGolden } from '../helpers/golden.js';

test('GlobalContext (gc, r = 8) matches PyTorch (values and gradients)', async () => {
  const r = await checkGolden('attention_cnn/gc.safetensors', new GlobalContext(32, { rdRatio: 8 }));
  assert.ok(r.checked.includes('grad.param.channel_add_conv.1.weight'), 'LayerNorm gradient compared');
});

test('GlobalContext (snl, simplified non-local) matches PyTorch', async () => {
  const r = await checkGolden('attention_cnn/gc_snl.safetensors', createAttn('snl', 16));
  assert.ok(r.checked.includes('grad.param.conv_mask.weight'));
});

test('GlobalContext starts as the identity: last transform conv is zero', () => {
  const gc = new GlobalContext(64);
  const st = ModelState.init(gc, 3).stateDict();
  assert.ok(st.get('channel_add_conv.3.weight')!.data.every((v) => v === 0));
  assert.deepEqual(st.get('channel_add_conv.0.weight')!.shape, [4, 64, 1, 1]);
  assert.throws(() => new GlobalContext(8, { variant: 'x' as 'gc' }), /expected 'gc' or 'snl' for variant/);
});
