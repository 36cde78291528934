import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { imageFolder } from '../../src/data/dataset.js';
import { Trainer } from '../../src/train/trainer.js';
import { rotationRobustness, pgdAttack } from '../../src/train/robustness.js';
import { writeToyImageFolder } from '../helpers/toy_images.js';

test('robustness: 90-degree rotation swaps stripe classes; targeted PGD reaches its targets', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'attnvision-rob-'));
  await writeToyImageFolder(path.join(root, 'train'), 32, 16, 1);
  await writeToyImageFolder(path.join(root, 'test'), 12, 16, 2);
  const train = await imageFolder(path.join(root, 'train'));
  const testSet = await imageFolder(path.join(root, 'test'));
  const { handle } = await new Trainer(
    { model: 'tiny_cnn', epochs: 5, batchSize: 16, imageSize: 16, optimizer: 'sgd', lr: 0.05, weightDecay: 1e-4, warmupEpochs: 0.5, seed: 1, cropMode: 'center', workers: 1 },
    train,
    undefined,
    path.join(root, 'run'),
  ).run();
  const rot = await rotationRobustness(handle, testSet, 16, 16);
  const acc = Object.fromEntries(rot.map((r) => [r.transform, r.top1]));
  assert.deepEqual(rot.map((r) => r.transform), ['none', 'rotate90', 'rotate180', 'rotate270', 'upside-down']);
  assert.ok(rot.every((r) => r.mAP === undefined && r.macroF1 >= 0 && r.macroF1 <= 1), 'single-label: top-1 and macro-F1');
  assert.ok(acc.none! > 0.8, `clean accuracy ${acc.none}`);
  // Horizontal and vertical stripes trade places under a quarter turn.
  assert.ok(acc.rotate90! < acc.none! - 0.3, `rotate90 ${acc.rotate90} vs none ${acc.none}`);
  // The same model read as multi-label (one sigmoid per stripe class): mAP and macro-F1, no top-1.
  const K = testSet.classes.length;
  const multi = { ...testSet, multiLabel: true, samples: testSet.samples.map((x) => ({ ...x, labels: Float32Array.from({ length: K }, (_, c) => (c === x.label ? 1 : 0)), severities: new Float32Array(K) })) };
  const rotMulti = await rotationRobustness(handle, multi, 16, 16);
  assert.ok(rotMulti.every((r) => r.top1 === undefined && r.mAP !== undefined), 'multi-label: mAP, not top-1');
  assert.ok(rotMulti[0]!.mAP! > rotMulti[1]!.mAP!, `mAP none ${rotMulti[0]!.mAP} vs rotate90 ${rotMulti[1]!.mAP}`);
  const weak = await pgdAttack(handle, testSet, 16, 16, { epsilon: 1, step: 0.5, iterations: 2, seed: 3 });
  const strong = await pgdAttack(handle, testSet, 16, 16, { epsilon: 64, step: 8, iterations: 10, seed: 3 });
  assert.equal(weak.n, testSet.samples.length);
  assert.ok(strong.successRate > weak.successRate, `success grows with epsilon: ${weak.successRate} -> ${strong.successRate}`);
  assert.ok(strong.accuracyUnderAttack < strong.cleanAccuracy, 'accuracy falls under attack');
});
