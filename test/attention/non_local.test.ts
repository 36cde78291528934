/**
 * Non-local block: the four pairwise functions, 2D and spacetime inputs, with and without
 * sub-sampling, match a PyTorch reference (scripts/fixtures/attention_cnn.py); BN in eval mode,
 * plus one train-mode fixture (batch statistics and running-stat updates).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NonLocal, type NonLocalMode } from '../../src/attention/non_local.js';
import { ModelState } from '../../src/nn/index.js';
import { checkGolden } from '../helpers/golden.js';

const MODES: NonLocalMode[] = ['embedded_gaussian', 'gaussian', 'dot_product', 'concatenation'];

for (const mode of MODES) {
  for (const dims of [2, 3] as const) {
    for (const subSample of [false, true]) {
      const name = `nl_${mode}_${dims}d${subSample ? '_sub' : ''}`;
      test(`NonLocal ${mode} ${dims}D${subSample ? ' sub-sampled' : ''} matches PyTorch`, async () => {
        const r = await checkGolden(`attention_cnn/${name}.safetensors`, new NonLocal(8, { mode, dims, subSample }));
        assert.ok(r.checked.includes('grad.param.g.weight') && r.checked.includes('grad.param.bn.weight'));
        if (mode === 'concatenation') assert.ok(r.checked.includes('grad.param.concat_project.weight'));
      });
    }
  }
}

test('NonLocal in train mode (BN batch statistics) matches PyTorch, running stats included', async () => {
  // atol 5e-5: the conv biases before the batch-statistics BN have an exactly-zero gradient, which
  // both sides compute as float32 rounding noise of order 1e-5.
  const r = await checkGolden('attention_cnn/nl_embedded_gaussian_2d_sub_train.safetensors', new NonLocal(8, { subSample: true }), { train: true, atol: 5e-5 });
  assert.ok(r.checked.includes('buffer_out.bn.running_mean') && r.checked.includes('buffer_out.bn.running_var'));
});

test('NonLocal: bottleneck C/2, BN scale zero-initialised (identity at start)', () => {
  const nl = new NonLocal(64);
  const st = ModelState.init(nl, 0).stateDict();
  assert.deepEqual(st.get('theta.weight')!.shape, [32, 64, 1, 1]);
  assert.ok(st.get('bn.weight')!.data.every((v) => v === 0));
  assert.throws(() => new NonLocal(8, { mode: 'cosine' as NonLocalMode }), /expected 'embedded_gaussian' \| 'gaussian' \| 'dot_product' \| 'concatenation' for mode/);
});
