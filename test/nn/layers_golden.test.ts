/**
 * Composite layers match PyTorch values and gradients (fixtures from scripts/fixtures/layers.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Linear, Conv, ConvTranspose2d, BatchNorm, LayerNorm, GroupNorm } from '../../src/nn/index.js';
import { TinyAttention } from '../../src/models/toy.js';
import { checkGolden } from '../helpers/golden.js';

const cases: [string, () => import('../../src/nn/index.js').Module, { train?: boolean }?][] = [
  ['linear', () => new Linear(5, 7)],
  ['conv2d_s2_g2', () => new Conv(4, 6, 3, { stride: 2, padding: 1, groups: 2 })],
  ['conv2d_dil2', () => new Conv(3, 5, 3, { padding: 2, dilation: 2, bias: false })],
  ['conv2d_depthwise', () => new Conv(6, 6, 5, { padding: 2, groups: 6 })],
  ['conv_transpose2d', () => new ConvTranspose2d(4, 6, 3, { stride: 2, padding: 1, outputPadding: 1, groups: 2 })],
  ['conv3d', () => new Conv(2, 3, 3, { padding: 1, dims: 3 })],
  ['batchnorm2d_train', () => new BatchNorm(6), { train: true }],
  ['batchnorm2d_eval', () => new BatchNorm(6)],
  ['layernorm', () => new LayerNorm(8)],
  ['groupnorm', () => new GroupNorm(3, 6)],
  ['attention', () => new TinyAttention(16, 4)],
];

for (const [name, make, opts] of cases) {
  test(`${name} matches PyTorch (values and gradients)`, async () => {
    const r = await checkGolden(`layers/${name}.safetensors`, make(), { train: opts?.train });
    assert.ok(r.checked.includes('output'));
    assert.ok(r.checked.some((c) => c.startsWith('grad.')), 'gradients were compared');
    if (opts?.train) assert.ok(r.checked.includes('buffer_out.running_mean') && r.checked.includes('buffer_out.running_var'), 'running statistics compared');
  });
}

test('conv layers refuse channel counts that groups do not divide, naming the layer and values', () => {
  assert.throws(() => new Conv(6, 8, 3, { groups: 4 }), /^ArgumentError: Conv: expected a divisor of 6 and 8 for groups but received 4$/);
  assert.throws(() => new ConvTranspose2d(6, 8, 3, { groups: 4 }), /^ArgumentError: ConvTranspose2d: expected a divisor of 6 and 8 for groups but received 4$/);
  assert.throws(() => new ConvTranspose2d(4, 8, 3, { groups: 0 }), /ConvTranspose2d: expected a divisor of 4 and 8 for groups but received 0/);
  assert.throws(() => new ConvTranspose2d(0, 8, 3), /ConvTranspose2d: expected .* for inChannels but received 0/);
  assert.equal(new ConvTranspose2d(4, 8, 3, { groups: 2 }).weight.shape.join(','), '4,4,3,3');
});
