/**
 * Squeeze-Excite matches torchvision.ops.SqueezeExcitation (scripts/fixtures/attention_cnn.py), and
 * exposes its channel weights when asked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/graph/index.js';
import { SqueezeExcite } from '../../src/attention/squeeze_excite.js';
import { createAttn } from '../../src/attention/create_attn.js';
import { ModelState, FlatBinding, withBinding } from '../../src/nn/index.js';
import { checkGolden } from '../helpers/golden.js';

test('SqueezeExcite matches torchvision SqueezeExcitation (values and gradients)', async () => {
  const r = await checkGolden('attention_cnn/se.safetensors', new SqueezeExcite(32, { rdChannels: 4 }));
  assert.ok(r.checked.includes('grad.param.fc1.weight') && r.checked.includes('grad.input.x'));
});

test('SqueezeExcite: rdRatio sets the hidden width; returnAttention records [B, C, 1, 1]', () => {
  const se = createAttn('se', 64, { rdRatio: 16, returnAttention: true }) as SqueezeExcite;
  assert.deepEqual(se.fc1.weight.shape, [4, 64, 1, 1]);
  const state = ModelState.init(se, 0);
  const g = new Graph();
  g.run(() => withBinding(new FlatBinding(g, state), () => se.call(g.input('x', [2, 64, 3, 3], 'float32'))));
  assert.deepEqual(se.lastAttention?.shape, [2, 64, 1, 1]);
});
