import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { imageFolder, type Dataset } from '../../src/data/dataset.js';
import { DataLoader, replaceFailedSamples, type Batch } from '../../src/data/loader/loader.js';
import { Trainer, bceTermWeights, unfinishedRunNote, type TrainConfig, type EpochLog } from '../../src/train/trainer.js';
import { writeToyImageFolder } from '../helpers/toy_images.js';
import { readCheckpoint } from '../../src/io/checkpoint.js';
import { loadSample } from '../../src/data/loader/transform.js';
import { encodeBmp24 } from '../../src/image/bmp.js';
import { encodePng } from '../../src/image/io.js';
import { execFileSync } from 'node:child_process';

const config: TrainConfig = {
  model: 'tiny_cnn',
  epochs: 4,
  batchSize: 16,
  imageSize: 16,
  optimizer: 'sgd',
  lr: 0.05,
  weightDecay: 1e-4,
  warmupEpochs: 0.5,
  labelSmoothing: 0.05,
  clipNorm: 5,
  seed: 3,
  cropMode: 'crop',
  workers: 1,
};

async function data() {
  const root = await mkdtemp(path.join(tmpdir(), 'attnvision-toy-'));
  await writeToyImageFolder(path.join(root, 'train'), 24, 20, 1);
  await writeToyImageFolder(path.join(root, 'val'), 8, 16, 2);
  return { train: await imageFolder(path.join(root, 'train')), val: await imageFolder(path.join(root, 'val')) };
}

/** Runs `cfg` until an interruption after epoch `at`, then resumes it in the same folder. */
async function interruptedThenResumed(cfg: TrainConfig, train: Dataset, val: Dataset, out: string, at: number) {
  const interrupt = (l: EpochLog) => {
    if (l.epoch === at) throw new Error('simulated interruption');
  };
  await assert.rejects(new Trainer(cfg, train, val, out, { onEpoch: interrupt }).run(), /simulated interruption/);
  return new Trainer(cfg, train, val, out).run({ resume: true });
}

test('loader: seeded epochs are reproducible, differ between epochs, and report bad files without stopping', async () => {
  const { train } = await data();
  const bad = path.join(train.root, 'horizontal', 'zzzz_broken.png');
  await writeFile(bad, Buffer.from('not an image'));
  const ds = { ...train, samples: [...train.samples, { file: bad, label: 0 }] };
  const mk = () => new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 9, transform: { size: 16, mode: 'crop', flip: true }, workers: 2 });
  const a = mk();
  const b = mk();
  type B = import('../../src/data/loader/loader.js').Batch;
  const ea: B[] = [];
  for await (const x of a.epoch(0)) ea.push(x);
  const eb: B[] = [];
  for await (const x of b.epoch(0)) eb.push(x);
  const e1: B[] = [];
  for await (const x of a.epoch(1)) e1.push(x);
  await a.close();
  await b.close();
  assert.equal(ea.length, Math.floor(ds.samples.length / 8));
  ea.forEach((x, i) => {
    assert.deepEqual(x.indices, eb[i]!.indices);
    assert.deepEqual(x.x, eb[i]!.x);
  });
  assert.notDeepEqual(ea.map((x) => x.indices), e1.map((x) => x.indices));
  const errors = [...ea, ...e1].flatMap((x) => x.errors);
  assert.ok(errors.length >= 1 && errors.every((e) => e.file === bad), 'the broken file is reported by name');
  // In training the broken file's slot gets a loaded image of the same batch, never zeros under its label.
  const withError = ea.find((x) => x.errors.length)!;
  const p = withError.indices.indexOf(withError.errors[0]!.index);
  const per = withError.x.length / withError.size;
  assert.ok(withError.x.subarray(p * per, (p + 1) * per).every((v) => v === 0), 'the loader leaves zeros');
  const fixed = replaceFailedSamples(withError)!;
  const slot = fixed.x.subarray(p * per, (p + 1) * per);
  const from = [...Array(withError.size).keys()].find((q) => q !== p && withError.x.subarray(q * per, (q + 1) * per).every((v, i) => v === slot[i]));
  assert.ok(from !== undefined, 'the slot holds a copy of another image of the batch');
  assert.equal(fixed.y[p], withError.y[from]);
  assert.ok(withError.x.subarray(p * per, (p + 1) * per).every((v) => v === 0), 'the input batch is unchanged');
});

test('replaceFailedSamples: failed slots take loaded samples in turn (image, label, targets, severities); null when none loaded', () => {
  const K = 2;
  const per = 3;
  const mk = (failed: number[]): Batch => ({
    x: Float32Array.from({ length: 4 * per }, (_, i) => (failed.includes(Math.floor(i / per)) ? 0 : 10 * Math.floor(i / per) + (i % per) + 1)),
    y: BigInt64Array.from([0n, 1n, 2n, 3n]),
    targets: Float32Array.from({ length: 4 * K }, (_, i) => i),
    severities: Float32Array.from({ length: 4 * K }, (_, i) => 100 + i),
    indices: [40, 41, 42, 43],
    size: 4,
    errors: failed.map((p) => ({ index: 40 + p, file: `f${p}`, message: 'bad' })),
  });
  const b = mk([1, 3]);
  const r = replaceFailedSamples(b)!;
  // Slot 1 <- loaded slot 0, slot 3 <- loaded slot 2.
  assert.deepEqual([...r.x], [1, 2, 3, 1, 2, 3, 21, 22, 23, 21, 22, 23]);
  assert.deepEqual([...r.y], [0n, 0n, 2n, 2n]);
  assert.deepEqual([...r.targets!], [0, 1, 0, 1, 4, 5, 4, 5]);
  assert.deepEqual([...r.severities!], [100, 101, 100, 101, 104, 105, 104, 105]);
  assert.equal(r.errors.length, 2, 'errors are kept for reporting');
  const clean = mk([]);
  assert.equal(replaceFailedSamples(clean), clean, 'a batch without failures is returned as is');
  assert.equal(replaceFailedSamples(mk([0, 1, 2, 3])), null);
});

test('trainer: learns, writes logs and checkpoints, and resumes exactly', async () => {
  const { train, val } = await data();
  const out1 = await mkdtemp(path.join(tmpdir(), 'attnvision-run-'));
  const events: string[] = [];
  const full = await new Trainer(config, train, val, out1, {
    onEpochStart: (e) => events.push(`start ${e.epoch} ${e.batches}`),
    onStep: (st) => events.push(`step ${st.epoch} ${st.batch}/${st.batches}`),
  }).run();
  assert.equal(full.logs.length, 4);
  // Progress bars start before the first batch of each epoch.
  const n = Math.floor(train.samples.length / config.batchSize);
  const want = [0, 1, 2, 3].flatMap((e) => [`start ${e} ${n}`, ...Array.from({ length: n }, (_, i) => `step ${e} ${i + 1}/${n}`)]);
  assert.deepEqual(events, want);
  assert.ok(full.logs[3]!.trainLoss < full.logs[0]!.trainLoss, 'loss falls');
  assert.ok(full.best!.valTop1! > 0.8, `validation top-1 ${full.best!.valTop1}`);
  const jsonl = (await readFile(path.join(out1, 'log.jsonl'), 'utf8')).trim().split('\n');
  assert.equal(jsonl.length, 4);
  assert.match(await readFile(path.join(out1, 'log.csv'), 'utf8'), /^epoch,step,lr,trainLoss/);

  // Interrupted after epoch 2, then resumed: the same curve as the uninterrupted run.
  const out2 = await mkdtemp(path.join(tmpdir(), 'attnvision-run-'));
  const resumed = await interruptedThenResumed(config, train, val, out2, 2);
  assert.equal(resumed.logs.length, 4);
  for (let i = 0; i < 4; i++) {
    assert.equal(resumed.logs[i]!.trainLoss, full.logs[i]!.trainLoss, `epoch ${i + 1} train loss`);
    assert.equal(resumed.logs[i]!.valLoss, full.logs[i]!.valLoss, `epoch ${i + 1} val loss`);
  }

  // A run stopped after its last checkpoint but before its log files: resuming rewrites the logs
  // from the checkpoint (and says the run is complete) instead of leaving them an epoch short.
  await writeFile(path.join(out1, 'log.jsonl'), jsonl.slice(0, 3).join('\n') + '\n');
  const notices: string[] = [];
  const again = await new Trainer(config, train, val, out1, { onNotice: (m) => notices.push(m) }).run({ resume: true });
  assert.equal(again.logs.length, 4);
  assert.equal((await readFile(path.join(out1, 'log.jsonl'), 'utf8')).trim().split('\n').length, 4);
  assert.deepEqual(notices, [`${path.join(out1, 'last.safetensors')}: the run is already complete (4 epochs)`]);
  const longer: string[] = [];
  await new Trainer({ ...config, epochs: 5 }, train, val, out1, { onNotice: (m) => longer.push(m) }).run({ resume: true });
  assert.deepEqual(longer, [
    'epochs changed 4 -> 5: the learning-rate schedule now spans 5 epochs from here on, so the run differs from an uninterrupted 5-epoch run',
    `resuming at epoch 5 of 5 from ${path.join(out1, 'last.safetensors')}`,
  ]);
  // A finished run's checkpoints are not flagged (best may be from an earlier epoch); an interrupted run's are.
  assert.equal(await unfinishedRunNote(path.join(out1, 'best.safetensors')), undefined);
  const out3 = await mkdtemp(path.join(tmpdir(), 'attnvision-run-'));
  await assert.rejects(new Trainer(config, train, val, out3, { onEpoch: (l) => { if (l.epoch === 1) throw new Error('stop'); } }).run(), /stop/);
  assert.match((await unfinishedRunNote(path.join(out3, 'best.safetensors')))!, /best\.safetensors: a checkpoint of an unfinished run \(.*last\.safetensors is at epoch 1 of 4\); continue it with train --resume/);
  // Resuming on other data is refused: the batches and the schedule would not be the run's.
  const fewer = { ...train, samples: train.samples.slice(1) };
  await assert.rejects(new Trainer(config, fewer, val, out1).run({ resume: true }), /the data changed since this checkpoint \(training images 96 -> 95, validation 32 -> 32, file list or labels differ\)/);
});

test('trainer: --cache-batches decodes epoch 0 once and replays it; resuming stays exact', async () => {
  const { train, val } = await data();
  const cfg: TrainConfig = { ...config, epochs: 3, cacheBatches: true };
  const errors: string[] = [];
  const removeImages = async (l: EpochLog) => {
    // After the first epoch the training images vanish: only a replaying trainer can go on cleanly.
    if (l.epoch === 1) for (const s of train.samples) await writeFile(s.file, 'gone');
  };
  const out1 = await mkdtemp(path.join(tmpdir(), 'attnvision-run-'));
  const cached = await new Trainer(cfg, train, val, out1, { onEpoch: removeImages, onLoadError: (f) => errors.push(f) }).run();
  assert.equal(cached.logs.length, 3);
  assert.deepEqual(errors, [], 'no image is decoded after epoch 1');
  assert.ok(cached.logs[2]!.trainLoss < cached.logs[0]!.trainLoss, 'loss falls on the replayed batches');

  // The same images, decoded normally, now fail: the loader really was bypassed above.
  const out2 = await mkdtemp(path.join(tmpdir(), 'attnvision-run-'));
  const failed: string[] = [];
  await assert.rejects(new Trainer({ ...config, epochs: 1 }, train, val, out2, { onLoadError: (f) => failed.push(f) }).run(), /epoch 1, batch 1: none of its 16 images could be loaded \(first: .*: /);
  assert.equal(failed.length, 16, 'a normal run reports the overwritten files of the first batch');
});

test('trainer: --cache-batches resume gives the uninterrupted curve', async () => {
  const { train, val } = await data();
  const cfg: TrainConfig = { ...config, epochs: 3, cacheBatches: true };
  const full = await new Trainer(cfg, train, val, await mkdtemp(path.join(tmpdir(), 'attnvision-run-'))).run();
  const out = await mkdtemp(path.join(tmpdir(), 'attnvision-run-'));
  const resumed = await interruptedThenResumed(cfg, train, val, out, 2);
  assert.deepEqual(resumed.logs.map((l) => l.trainLoss), full.logs.map((l) => l.trainLoss));
});

test('bceTermWeights: the pair weight lands on present labels of rows with two or more labels, the negative weight on absent labels of rows with a problem', () => {
  const targets = new Float32Array([
    1, 0, 0, // one label: 1 on it, the negative weight on the absent two
    1, 0, 1, // two labels: the pair weight on both, the negative weight on the absent one
    0, 0, 0, // clean: all 1 (no problem, so no hard negative)
    1, 1, 1, // three labels: the pair weight everywhere
  ]);
  const pairOnly = { pairWeight: 3, negativeWeight: 1 };
  assert.deepEqual([...bceTermWeights(targets, 3, pairOnly)], [1, 1, 1, 3, 1, 3, 1, 1, 1, 3, 3, 3]);
  // Only the first and second labels pair-weighted: the third keeps 1 even where present in a pair.
  assert.deepEqual([...bceTermWeights(targets, 3, { ...pairOnly, pairOnly: [true, true, false] })], [1, 1, 1, 3, 1, 1, 1, 1, 1, 3, 3, 1]);
  assert.deepEqual([...bceTermWeights(targets, 3, { pairWeight: 1, negativeWeight: 5 })], [1, 5, 5, 1, 5, 1, 1, 1, 1, 1, 1, 1]);
  // Both, the negative weight only on the second label.
  assert.deepEqual([...bceTermWeights(targets, 3, { pairWeight: 3, negativeWeight: 5, negativeOnly: [false, true, false] })], [1, 5, 1, 3, 5, 3, 1, 1, 1, 3, 3, 3]);
  // Only rows where the third label is present count as hard-negative rows (the first row has only the first).
  assert.deepEqual([...bceTermWeights(targets, 3, { pairWeight: 1, negativeWeight: 5, negativePartners: [false, false, true] })], [1, 1, 1, 1, 5, 1, 1, 1, 1, 1, 1, 1]);
});

/**
 * The training images relabelled as a multi-label set of labels a, b, c: image i carries `on(i)`
 * (every label must occur somewhere: the trainer refuses a label on no image).
 */
function withLabels(train: Dataset, on: (i: number) => number[]): Dataset {
  const K = 3;
  return {
    classes: ['a', 'b', 'c'],
    multiLabel: true,
    root: train.root,
    samples: train.samples.map((s, i) => ({ ...s, labels: new Float32Array(Array.from({ length: K }, (_, c) => (on(i).includes(c) ? 1 : 0))), severities: new Float32Array(K) })),
  };
}

test('trainer: --pair-weight scales the loss of multi-label images only (lr 0, the same batches)', async () => {
  const { train } = await data();
  const K = 3;
  const cfg: TrainConfig = { ...config, epochs: 1, lr: 0, labelSmoothing: 0 };
  const lossOf = async (ds: Dataset, pairWeight?: number, extra: Partial<TrainConfig> = {}) => {
    const out = await mkdtemp(path.join(tmpdir(), 'attnvision-run-'));
    const r = await new Trainer({ ...cfg, ...(pairWeight === undefined ? {} : { pairWeight }), ...extra }, ds, undefined, out).run();
    return r.logs[0]!.trainLoss;
  };
  // Every label present on every image: every term is a pair term, so the loss triples.
  const all = withLabels(train, () => [0, 1, 2]);
  const plain = await lossOf(all);
  const weighted = await lossOf(all, 3);
  assert.ok(Math.abs(weighted / plain - 3) < 1e-5, `all-pairs loss ratio ${weighted / plain}`);
  // One label per image: no pair term, the loss is unchanged.
  const single = withLabels(train, (i) => [i % K]);
  assert.ok(Math.abs((await lossOf(single, 3)) - (await lossOf(single))) < 1e-7, 'single-label loss unchanged');
  // Two of three labels: the present terms get 3, the absent one 1, so the ratio lies strictly between.
  const pair = withLabels(train, (i) => [i % K, (i + 1) % K]);
  const ratio = (await lossOf(pair, 3)) / (await lossOf(pair));
  assert.ok(ratio > 1.05 && ratio < 2.95, `pair loss ratio ${ratio}`);
  await assert.rejects(lossOf(all, 0), /pair weight \(--pair-weight\) must be > 0/);
  // Weighting one label of three on all-pair data: (3 + 1 + 1) / 3 of the plain loss, up to the
  // spread of the per-label terms; a label that is not the dataset's is refused by name.
  const oneLabel = await lossOf(all, 3, { pairWeightLabels: ['b'] });
  assert.ok(oneLabel > plain * 1.05 && oneLabel < weighted * 0.95, `one weighted label: ${oneLabel} between ${plain} and ${weighted}`);
  assert.throws(() => new Trainer({ ...cfg, pairWeight: 3, pairWeightLabels: ['zz'] }, all, undefined, '/tmp/x'), /pair-weighted labels must be labels of the dataset \(a, b, c\); got \["zz"\]/);
});

test('trainer: --negative-weight scales the absent labels of images with a problem only (lr 0, the same batches)', async () => {
  const { train } = await data();
  const K = 3;
  const cfg: TrainConfig = { ...config, epochs: 1, lr: 0, labelSmoothing: 0 };
  const lossOf = async (ds: Dataset, extra: Partial<TrainConfig> = {}) => {
    const out = await mkdtemp(path.join(tmpdir(), 'attnvision-run-'));
    return (await new Trainer({ ...cfg, ...extra }, ds, undefined, out).run()).logs[0]!.trainLoss;
  };
  // Every label present everywhere: no absent term, the loss is unchanged.
  const all = withLabels(train, () => [0, 1, 2]);
  assert.ok(Math.abs((await lossOf(all, { negativeWeight: 3 })) - (await lossOf(all))) < 1e-7, 'no absent label: loss unchanged');
  // One label per image: two of three terms are hard negatives, so the ratio lies strictly between 1 and 3.
  const single = withLabels(train, (i) => [i % K]);
  const plain = await lossOf(single);
  const ratio = (await lossOf(single, { negativeWeight: 3 })) / plain;
  assert.ok(ratio > 1.05 && ratio < 2.95, `single-label loss ratio ${ratio}`);
  const oneLabel = (await lossOf(single, { negativeWeight: 3, negativeWeightLabels: ['b'] })) / plain;
  assert.ok(oneLabel > 1.02 && oneLabel < ratio - 0.02, `one weighted label: ratio ${oneLabel} between 1 and ${ratio}`);
  // Partners: only the images of label a (a third of them) have hard negatives.
  const partnered = (await lossOf(single, { negativeWeight: 3, negativeWeightPartners: ['a'] })) / plain;
  assert.ok(partnered > 1.02 && partnered < ratio - 0.02, `partner a only: ratio ${partnered} between 1 and ${ratio}`);
  await assert.rejects(lossOf(single, { negativeWeight: 0 }), /negative weight \(--negative-weight\) must be > 0/);
  assert.throws(() => new Trainer({ ...cfg, negativeWeight: 3, negativeWeightLabels: ['zz'] }, single, undefined, '/tmp/x'), /negative-weighted labels must be labels of the dataset \(a, b, c\); got \["zz"\]/);
});

test('trainer: --ema validates and saves the averaged weights, logs the raw ones, and resumes exactly', async () => {
  const { train, val } = await data();
  const cfg: TrainConfig = { ...config, epochs: 3, ema: 0.9 };
  const out1 = await mkdtemp(path.join(tmpdir(), 'attnvision-run-'));
  const full = await new Trainer(cfg, train, val, out1).run();
  for (const l of full.logs) assert.ok(l.valMetricRaw !== undefined && l.valMetric !== undefined, `epoch ${l.epoch} has both metrics`);
  assert.match(await readFile(path.join(out1, 'log.csv'), 'utf8'), /valMetric,valMetricRaw/);
  // last holds the raw weights and the average; best (the last epoch here, or an earlier one) the average.
  const last = await readCheckpoint(path.join(out1, 'last.safetensors'));
  const bestCk = await readCheckpoint(path.join(out1, 'best.safetensors'));
  const emaParams = last.optimizer.ema_params!;
  assert.ok(emaParams, 'last.safetensors carries optimizer.ema_params');
  const flat = (ck: typeof last) => Float32Array.from([...ck.entries.values()].flatMap((e) => [...e.data]));
  assert.equal(emaParams.length, full.handle.state.params.length);
  assert.notDeepEqual(flat(last), flat(bestCk), 'best (average) differs from the raw weights');
  if (full.best!.epoch === 3) {
    for (const s of full.handle.state.paramSlots) assert.deepEqual(bestCk.entries.get(s.name)!.data, emaParams.subarray(s.offset, s.offset + s.size), `best ${s.name} is the EMA`);
  }
  const out2 = await mkdtemp(path.join(tmpdir(), 'attnvision-run-'));
  const resumed = await interruptedThenResumed(cfg, train, val, out2, 1);
  assert.deepEqual(resumed.logs.map((l) => [l.trainLoss, l.valLoss, l.valMetric, l.valMetricRaw]), full.logs.map((l) => [l.trainLoss, l.valLoss, l.valMetric, l.valMetricRaw]));
  assert.deepEqual(flat(await readCheckpoint(path.join(out2, 'best.safetensors'))), flat(bestCk));
  assert.throws(() => new Trainer({ ...config, ema: 1 }, train, val, out2), /EMA decay \(--ema\) must be in \(0, 1\), received 1/);
});

test('loadSample: the image/io way in (BMP by content decodes; SVG and pipes are refused by name)', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'attnvision-ls-'));
  const rgb = new Uint8Array(20 * 20 * 3);
  for (let i = 0; i < 20 * 20; i++) rgb.set([(i * 13) % 256, (i * 7) % 256, 90], i * 3);
  const bmp = path.join(dir, 'really_a_bmp.jpg');
  await writeFile(bmp, encodeBmp24(rgb, 20, 20));
  const png = path.join(dir, 'same.png');
  await writeFile(png, await encodePng({ data: Float32Array.from({ length: 3 * 400 }, (_, k) => rgb[(k % 400) * 3 + Math.floor(k / 400)]! / 255), channels: 3, height: 20, width: 20 }));
  const spec = { size: 16, mode: 'center' as const, flip: false };
  const a = new Float32Array(3 * 16 * 16);
  const b = new Float32Array(3 * 16 * 16);
  await loadSample(bmp, spec, 1, a, 0);
  await loadSample(png, spec, 1, b, 0);
  assert.deepEqual(a, b, 'the BMP gives the pixels of the same image as PNG');
  const svg = path.join(dir, 'vector.png');
  await writeFile(svg, '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><rect width="20" height="20"/></svg>');
  await assert.rejects(loadSample(svg, spec, 1, a, 0), /unsupported format: SVG/);
  if (process.platform !== 'win32') {
    const fifo = path.join(dir, 'pipe.png');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(loadSample(fifo, spec, 1, a, 0), /not a regular file/);
  }
});

test('trainer: broken training images are trained as other images of their batch, the same way on every run', async () => {
  const { train } = await data();
  const broken = [1, 2, 3, 4, 5, 6].map((n) => path.join(train.root, 'horizontal', `zz_broken_${n}.png`));
  for (const f of broken) await writeFile(f, 'not an image');
  // Six broken files among 38 images: with batch 16 batches hold several of them.
  const ds = { ...train, samples: [...train.samples.filter((_, i) => i % 3 === 0), ...broken.map((file) => ({ file, label: 0 }))] };
  const cfg: TrainConfig = { ...config, epochs: 2, workers: 2 };
  const runOnce = async () => {
    const failed: string[] = [];
    const r = await new Trainer(cfg, ds, undefined, await mkdtemp(path.join(tmpdir(), 'attnvision-run-')), { onLoadError: (f, _m, phase) => failed.push(`${phase} ${path.basename(f)}`) }).run();
    return { losses: r.logs.map((l) => l.trainLoss), failed };
  };
  const a = await runOnce();
  const b = await runOnce();
  assert.ok(a.losses.every(Number.isFinite));
  assert.deepEqual(a.losses, b.losses, 'bit-identical runs');
  assert.ok(a.failed.length >= 6 && a.failed.every((f) => /^train zz_broken_\d\.png$/.test(f)), a.failed.join());
});
