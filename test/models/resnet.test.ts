/**
 * ResNet family: parameter counts and FLOPs against the papers, a torchvision Bottleneck in train
 * mode against PyTorch, and a reduced-width torchvision ResNet's state dict loading by name and
 * giving torchvision's logits (fixtures from scripts/fixtures/resnet.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, loadWeights, modelInfo, summarize, type ModelHandle } from '../../src/models/index.js';
import { Bottleneck, ResNet } from '../../src/models/resnet.js';
import { ModelState } from '../../src/nn/index.js';
import { Predictor } from '../../src/train/infer.js';
import { readSafetensors, toFloat32 } from '../../src/io/safetensors.js';
import { checkGolden, fixturePath } from '../helpers/golden.js';

const NAMES = ['resnet26', 'resnet38', 'resnet50', 'seresnet50', 'gcresnet50', 'nlresnet50', 'lesa_resnet50', 'lesa_wrn50'];

for (const name of NAMES) {
  const paper = modelInfo(name).paper;
  if (!paper?.params) continue;
  test(`${name}: parameters within 1% of the paper (${paper.params / 1e6}M)`, async () => {
    const h = await createModel(name);
    const rel = Math.abs(h.state.numParams - paper.params!) / paper.params!;
    assert.ok(rel < 0.01, `${name}: ${h.state.numParams} parameters vs ${paper.params} (${(rel * 100).toFixed(2)}%)`);
  });
}

test('FLOPs (multiply-adds at 224 px) within 3% of the SAN paper for ResNet-26/38/50', async () => {
  // resnet26: 2.34 vs 2.4 GFLOPs (the paper rounds; our counter omits pooling and BN).
  for (const name of ['resnet26', 'resnet38', 'resnet50']) {
    const h = await createModel(name);
    const want = h.info.paper!.gflops!;
    const got = summarize(h).gflops;
    assert.ok(Math.abs(got - want) / want < 0.03, `${name}: ${got.toFixed(3)} GFLOPs vs ${want}`);
  }
});

test('attention variants add exactly their modules', async () => {
  const r50 = (await createModel('resnet50')).state.numParams;
  const se = await createModel('seresnet50');
  const se1 = se.state.stateDict().get('layer1.0.se.fc1.weight')!;
  assert.deepEqual(se1.shape, [16, 256, 1, 1], 'timm layout layer1.0.se.fc1');
  assert.equal(se.state.numParams > r50, true);
  const nl = await createModel('nlresnet50');
  const nlKeys = [...nl.state.stateDict().keys()].filter((k) => k.endsWith('.nl.theta.weight'));
  assert.deepEqual(nlKeys, ['layer2.1.nl.theta.weight', 'layer2.3.nl.theta.weight', 'layer3.1.nl.theta.weight', 'layer3.3.nl.theta.weight', 'layer3.5.nl.theta.weight']);
  const lesa = await createModel('lesa_resnet50');
  const lesaBlocks = [...lesa.state.stateDict().keys()].filter((k) => k.endsWith('conv2.relative')).map((k) => k.split('.conv2')[0]);
  assert.deepEqual(lesaBlocks, ['layer3.1', 'layer3.2', 'layer3.3', 'layer3.4', 'layer3.5', 'layer4.0', 'layer4.1', 'layer4.2']);
});

test('torchvision Bottleneck (stride 2, downsample) in train mode matches PyTorch', async () => {
  const r = await checkGolden('resnet/bottleneck_train.safetensors', new Bottleneck(8, 4, { stride: 2, width: 4, zeroInit: false }), { train: true, atol: 5e-5 });
  assert.ok(r.checked.includes('buffer_out.downsample.1.running_var') && r.checked.includes('grad.param.conv2.weight'));
});

test('a torchvision ResNet state dict loads by name and reproduces its logits', async () => {
  const model = new ResNet({ layers: [1, 1, 1, 1], stemWidth: 8, planes: [4, 8, 16, 32], numClasses: 10, inputSize: [32, 32] });
  const info = modelInfo('resnet50');
  const handle: ModelHandle = { info, model, state: ModelState.init(model, 0), numClasses: 10, inputSize: [3, 32, 32] };
  const report = await loadWeights(handle, fixturePath('resnet/tiny_resnet_state.safetensors'));
  assert.deepEqual(report.missing, []);
  const { tensors } = await readSafetensors(fixturePath('resnet/tiny_resnet_io.safetensors'));
  const x = tensors.get('input')!;
  const want = toFloat32(tensors.get('logits')!);
  model.eval();
  const pred = await Predictor.build({ model, state: handle.state, inputs: [{ name: 'input', shape: x.shape, dtype: 'float32' }], forward: (m, ins) => ({ logits: m.call(ins.input!) }) });
  const out = await pred.run({ input: { data: toFloat32(x), shape: x.shape, dtype: 'float32' } });
  const got = Object.values(out)[0]!.data as Float32Array;
  assert.equal(got.length, want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  assert.ok(worst < 1e-4, `max |logit error| ${worst}`);
});

test('createModel({ init: false }): zero weights, the same parameter count, layers and FLOPs as an initialised model', async () => {
  const a = await createModel('resnet26');
  const b = await createModel('resnet26', { init: false });
  assert.equal(b.state.numParams, a.state.numParams);
  assert.ok(b.state.params.every((v) => v === 0) && a.state.params.some((v) => v !== 0));
  assert.deepEqual(summarize(b), summarize(a));
});
