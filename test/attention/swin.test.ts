/**
 * Swin building blocks match torchvision 0.14 values and gradients (fixtures from
 * scripts/fixtures/swin.py): window attention with relative position bias, shifted blocks with the
 * mask, padding of sizes that are not a multiple of the window, patch merging with odd sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WindowAttention, relativePositionIndex, shiftWindowMask } from '../../src/attention/window_attention.js';
import { PatchMerging, SwinBlock } from '../../src/attention/swin.js';
import { checkGolden } from '../helpers/golden.js';

const tvBlockKey = (k: string) => k.replace(/^mlp\.0\./, 'mlp.fc1.').replace(/^mlp\.3\./, 'mlp.fc2.');

test('W-MSA with relative position bias matches torchvision ShiftedWindowAttention', async (t) => {
  const r = await checkGolden('swin/window_attention.safetensors', new WindowAttention(16, 2, { windowSize: 4 }));
  assert.ok(r.checked.includes('grad.param.relative_position_bias_table'));
  t.diagnostic(`max abs err ${r.maxAbsErr.toExponential(2)}`);
});

for (const [name, dim, heads] of [
  ['block_shifted', 16, 2],
  ['block_shifted_pad', 16, 4],
  ['block_shift_one_axis', 8, 2],
] as const) {
  test(`SwinBlock (SW-MSA) ${name} matches torchvision SwinTransformerBlock`, async (t) => {
    const r = await checkGolden(`swin/${name}.safetensors`, new SwinBlock(dim, heads, { windowSize: 4, shiftSize: 2 }), { mapKey: tvBlockKey });
    assert.ok(r.checked.includes('grad.input.x'));
    t.diagnostic(`max abs err ${r.maxAbsErr.toExponential(2)}`);
  });
}

test('PatchMerging (odd sizes) matches torchvision', async (t) => {
  const r = await checkGolden('swin/patch_merging.safetensors', new PatchMerging(8));
  t.diagnostic(`max abs err ${r.maxAbsErr.toExponential(2)}`);
});

test('relative position index and shift mask have the reference structure', () => {
  const idx = relativePositionIndex(2);
  // 2x2 window: tokens (0,0),(0,1),(1,0),(1,1); table 3x3; index of (dh, dw) = (dh + 1) * 3 + dw + 1.
  assert.deepEqual(idx.slice(0, 4), [4, 3, 1, 0]);
  assert.equal(idx[5], 4);
  // 4x4 map, window 2, shift 1: the last window mixes 4 regions; the first window one.
  const mask = shiftWindowMask(4, 4, 2, 1, 1);
  assert.ok(mask.slice(0, 16).every((v) => v === 0));
  const last = Array.from(mask.slice(3 * 16, 4 * 16));
  assert.equal(last.filter((v) => v === 0).length, 4, 'only the diagonal stays unmasked');
});

test('returnAttention exposes the probabilities as lastAttention', async () => {
  const a = new WindowAttention(16, 2, { windowSize: 4, returnAttention: true });
  const { Graph } = await import('../../src/graph/index.js');
  const { ModelState, FlatBinding, withBinding } = await import('../../src/nn/index.js');
  const state = ModelState.init(a, 0);
  const g = new Graph();
  g.run(() => {
    const x = g.input('x', [1, 8, 8, 16], 'float32');
    withBinding(new FlatBinding(g, state), () => a.call(x));
  });
  assert.deepEqual(a.lastAttention?.shape, [4, 2, 16, 16]);
});
