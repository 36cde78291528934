/**
 * LESA (dynamic and static fusion) matches a PyTorch reference written from the paper
 * (scripts/fixtures/attention_cnn.py), in eval mode and in train mode (batch statistics).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/graph/index.js';
import { Lesa } from '../../src/attention/lesa.js';
import { createAttn } from '../../src/attention/create_attn.js';
import { ModelState, FlatBinding, withBinding } from '../../src/nn/index.js';
import { checkGolden } from '../helpers/golden.js';

test('LESA with dynamic fusion matches PyTorch (eval)', async () => {
  const r = await checkGolden('attention_cnn/lesa_dynamic.safetensors', new Lesa(16, { fmapSize: 4, heads: 4 }));
  assert.ok(r.checked.includes('grad.param.relative') && r.checked.includes('grad.param.projection.0.weight'));
});

test('static LESA matches PyTorch (eval)', async () => {
  await checkGolden('attention_cnn/lesa_static.safetensors', new Lesa(16, { fmapSize: 4, heads: 4, dynamicFusion: false }));
});

test('LESA in train mode matches PyTorch, running stats included', async () => {
  const r = await checkGolden('attention_cnn/lesa_dynamic_train.safetensors', new Lesa(16, { fmapSize: 3, heads: 2 }), { train: true });
  assert.ok(r.checked.includes('buffer_out.bn_similarity.running_var'));
});

test('LESA records its attention and rejects other feature-map sizes', () => {
  const m = createAttn('lesa', 16, { fmapSize: 4, heads: 4, returnAttention: true }) as Lesa;
  const state = ModelState.init(m, 0);
  const g = new Graph();
  g.run(() => withBinding(new FlatBinding(g, state), () => m.call(g.input('x', [2, 16, 4, 4], 'float32'))));
  assert.deepEqual(m.lastAttention?.shape, [2, 4, 16, 16]);
  const g2 = new Graph();
  assert.throws(
    () => g2.run(() => withBinding(new FlatBinding(g2, state), () => m.call(g2.input('x', [2, 16, 5, 5], 'float32')))),
    /expected 4x4 \(fmapSize\) for input size but received \[5, 5\]/,
  );
});
