/**
 * SAN modules match a PyTorch reference written from the paper (scripts/fixtures/san.py): pairwise
 * attention with each relation function, patchwise attention with each variant, and the SA block
 * in eval and train mode (values and gradients).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PairwiseSelfAttention, type PairwiseRelation } from '../../src/attention/san_pairwise.js';
import { PatchwiseSelfAttention, type PatchwiseRelation } from '../../src/attention/san_patchwise.js';
import { reflectIndex } from '../../src/attention/san_aggregation.js';
import { SABlock } from '../../src/models/san.js';
import { checkGolden } from '../helpers/golden.js';

for (const rel of ['summation', 'subtraction', 'concatenation', 'hadamard', 'dot'] as PairwiseRelation[]) {
  test(`pairwise self-attention (${rel}) matches the PyTorch reference`, async (t) => {
    const r = await checkGolden(`san/pairwise_${rel}.safetensors`, new PairwiseSelfAttention(16, 4, 16, { relation: rel, kernelSize: 3 }));
    assert.ok(r.checked.includes('grad.param.conv_p.weight'));
    t.diagnostic(`max abs err ${r.maxAbsErr.toExponential(2)}`);
  });
}

test('pairwise self-attention with a 5x5 footprint matches the PyTorch reference', async () => {
  await checkGolden('san/pairwise_subtraction_k5.safetensors', new PairwiseSelfAttention(16, 4, 16, { kernelSize: 5 }));
});

for (const rel of ['star', 'clique', 'concatenation'] as PatchwiseRelation[]) {
  test(`patchwise self-attention (${rel}) matches the PyTorch reference`, async (t) => {
    const r = await checkGolden(`san/patchwise_${rel}.safetensors`, new PatchwiseSelfAttention(16, 4, 16, { relation: rel, kernelSize: 3 }));
    t.diagnostic(`max abs err ${r.maxAbsErr.toExponential(2)}`);
  });
}

for (const kind of ['pairwise', 'patchwise'] as const) {
  for (const train of [false, true]) {
    test(`SA block (${kind}, ${train ? 'train' : 'eval'}) matches the PyTorch reference`, async (t) => {
      const r = await checkGolden(`san/sa_block_${kind}${train ? '_train' : ''}.safetensors`, new SABlock(32, { kind, kernelSize: 3 }), {
        train,
        // In train mode BN follows conv3, so its bias gradient is analytically 0 and both sides hold ~1e-5 rounding noise.
        atol: train ? 5e-5 : undefined,
      });
      if (train) assert.ok(r.checked.includes('buffer_out.sam.conv_w.0.running_mean'));
      t.diagnostic(`max abs err ${r.maxAbsErr.toExponential(2)}`);
    });
  }
}

test('reflection index equals ReflectionPad2d for pad < size and repeats beyond', () => {
  // size 4, pad 3: d c b | a b c d | c b a
  assert.deepEqual(Array.from({ length: 10 }, (_, q) => reflectIndex(q, 4, 3)), [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]);
  // size 2, pad 3: periodic b a b | a b | a b a
  assert.deepEqual(Array.from({ length: 8 }, (_, q) => reflectIndex(q, 2, 3)), [1, 0, 1, 0, 1, 0, 1, 0]);
  assert.deepEqual(Array.from({ length: 3 }, (_, q) => reflectIndex(q, 1, 1)), [0, 0, 0]);
});
