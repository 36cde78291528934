import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../src/graph/index.js';
import { ModelState } from '../../src/nn/index.js';
import { SGD, AdamW, cosineWithWarmup } from '../../src/optim/index.js';
import { TrainStep } from '../../src/train/step.js';
import { Predictor } from '../../src/train/infer.js';
import { TinyCNN, TinyViT } from '../../src/models/toy.js';
import { toyBatch } from '../../src/data/toy.js';
import type { Module } from '../../src/nn/module.js';
import type { Optimizer } from '../../src/optim/optimizer.js';

const S = 16;
const B = 32;

async function trainAndEval<M extends Module & { call(x: F.Tensor): F.Tensor }>(model: M, optimizer: Optimizer, lr: number, steps: number): Promise<number> {
  const state = ModelState.init(model, 7);
  const inputs = [
    { name: 'x', shape: [B, 1, S, S], dtype: 'float32' as const },
    { name: 'y', shape: [B], dtype: 'int64' as const },
  ];
  const step = await TrainStep.build({
    model,
    state,
    inputs,
    optimizer,
    clipNorm: 5,
    loss: (m, ins) => ({ loss: F.crossEntropy(m.call(ins.x!), ins.y!, 0.05) }),
  });
  const sched = cosineWithWarmup({ baseLr: lr, totalSteps: steps, warmupSteps: 10 });
  let first = NaN;
  let last = NaN;
  for (let i = 0; i < steps; i++) {
    const b = toyBatch(B, S, 1000 + i);
    const r = await step.run({ x: { data: b.images, shape: [B, 1, S, S], dtype: 'float32' }, y: { data: b.labels, shape: [B], dtype: 'int64' } }, { lr: sched(i) });
    if (i === 0) first = r.loss;
    last = r.loss;
  }
  assert.ok(last < first, `loss should fall: ${first} -> ${last}`);
  const N = 256;
  const pred = await Predictor.build({ model, state, inputs: [{ name: 'x', shape: [N, 1, S, S], dtype: 'float32' }], forward: (m, ins) => ({ logits: m.call(ins.x!) }) });
  const test = toyBatch(N, S, 99);
  const logits = (await pred.run({ x: { data: test.images, shape: [N, 1, S, S], dtype: 'float32' } })).logits!.data as Float32Array;
  let correct = 0;
  for (let i = 0; i < N; i++) {
    let best = 0;
    for (let c = 1; c < 4; c++) if (logits[i * 4 + c]! > logits[i * 4 + best]!) best = c;
    if (BigInt(best) === test.labels[i]) correct++;
  }
  return correct / N;
}

test('a small CNN learns the toy task to > 95% accuracy (SGD + momentum, BN)', async () => {
  const acc = await trainAndEval(new TinyCNN(1, 4), new SGD({ momentum: 0.9, nesterov: true, weightDecay: 1e-4 }), 0.1, 150);
  assert.ok(acc > 0.95, `accuracy ${acc}`);
});

test('a small transformer learns the toy task to > 95% accuracy (AdamW)', async () => {
  const acc = await trainAndEval(new TinyViT(1, 4, S), new AdamW({ weightDecay: 0.05 }), 3e-3, 200);
  assert.ok(acc > 0.95, `accuracy ${acc}`);
});
