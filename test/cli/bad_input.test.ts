/**
 * Bad and unusual input to the training-side commands (train, eval, export, eval-real, synth):
 * named errors, never silent garbage. From an audit of the CLI (session 24).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, writeFile, truncate, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeToyImageFolder } from '../helpers/toy_images.js';
import { imageFolder } from '../../src/data/dataset.js';
import { Trainer, checkClassesCovered, configDifferences, type TrainConfig } from '../../src/train/trainer.js';
import { evaluateCheckpoint, loadData, MissingSplitError } from '../../src/cli/commands/train.js';
import { flagNumber, parseArgs, parseDecimal } from '../../src/cli/command.js';
import { writeFileAtomic } from '../../src/util/fs.js';
import { readCheckpoint } from '../../src/io/checkpoint.js';
import * as ort from 'onnxruntime-node';
import { createModel, defaultForward } from '../../src/models/index.js';
import { Graph } from '../../src/graph/graph.js';
import { ConstantBinding } from '../../src/nn/binding.js';
import { withBinding } from '../../src/nn/module.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ATTNVISION_THREADS: '1' } });

const config: TrainConfig = { model: 'tiny_cnn', epochs: 1, batchSize: 8, imageSize: 16, optimizer: 'sgd', lr: 0.05, weightDecay: 1e-4, warmupEpochs: 0, seed: 1, cropMode: 'crop', workers: 1 };

async function toy() {
  const root = await mkdtemp(path.join(tmpdir(), 'attnvision-bad-'));
  await writeToyImageFolder(path.join(root, 'train'), 12, 20, 1);
  await writeToyImageFolder(path.join(root, 'val'), 6, 16, 2);
  return root;
}

test('loadData: a folder of class folders is the train split only; a synth folder needs --labels', async () => {
  const root = await toy();
  const flat = path.join(root, 'train');
  assert.equal((await loadData(flat, 'train', undefined)).root, flat);
  assert.equal((await loadData(flat, 'test', undefined)).root, flat, 'eval --data DIR scores a folder of class folders whole');
  await assert.rejects(loadData(flat, 'val', undefined, { flatIsTrainOnly: true }), (e: unknown) => e instanceof MissingSplitError && /no val\/ folder \(a folder of class folders is the train split only/.test(e.message));
  await assert.rejects(loadData(root, 'test', undefined), (e: unknown) => e instanceof MissingSplitError && /no test\/ folder$/.test(e.message));
  const synthDir = path.join(root, 'synth');
  await mkdir(path.join(synthDir, 'noise'), { recursive: true });
  await writeFile(path.join(synthDir, 'manifest.jsonl'), '{"file":"noise/a.png","labels":["noise"],"split":"train"}\n');
  await assert.rejects(loadData(synthDir, 'train', undefined), /manifest dataset needs --labels/);
});

test('training data: duplicate labels, classes without images and a single class are refused by name', async () => {
  const root = await toy();
  await assert.rejects(imageFolder(path.join(root, 'train'), ['horizontal', 'horizontal']), /label "horizontal" is given twice/);
  const ds = await imageFolder(path.join(root, 'train'));
  assert.throws(() => checkClassesCovered({ ...ds, classes: [...ds.classes, 'bird'] }), /class "bird" with no training images/);
  assert.throws(() => checkClassesCovered({ ...ds, classes: [ds.classes[0]!], samples: ds.samples.filter((s) => s.label === 0) }), /needs at least 2 classes/);
  const multi = { ...ds, multiLabel: true, classes: ['a', 'b'], samples: ds.samples.map((s) => ({ ...s, labels: Float32Array.of(1, 0) })) };
  assert.throws(() => checkClassesCovered(multi), /label "b" on no training image/);
});

test('resume: a damaged checkpoint is an error, a missing one a notice; changed flags are named (loader threads are not a change)', async () => {
  const root = await toy();
  const [train, val] = [await imageFolder(path.join(root, 'train')), await imageFolder(path.join(root, 'val'))];
  const out = await mkdtemp(path.join(tmpdir(), 'attnvision-bad-run-'));
  const notices: string[] = [];
  await new Trainer(config, train, val, out, { onNotice: (m) => notices.push(m) }).run({ resume: true });
  assert.match(notices.join(), /last\.safetensors not found: starting a new run/);
  const last = path.join(out, 'last.safetensors');
  const good = await readFile(last);
  await truncate(last, 1000);
  await assert.rejects(new Trainer({ ...config, epochs: 2 }, train, val, out).run({ resume: true }), /last\.safetensors/);
  assert.equal((await readFile(last)).length, 1000, 'the damaged file is left for the user, not overwritten');
  await writeFile(last, good);
  await assert.rejects(new Trainer({ ...config, epochs: 2, lr: 0.1 }, train, val, out).run({ resume: true }), /different configuration \(lr: 0\.05 -> 0\.1\)/);
  const resumed = await new Trainer({ ...config, epochs: 2, workers: 2 }, train, val, out).run({ resume: true });
  assert.equal(resumed.logs.length, 2);
  assert.deepEqual(configDifferences(config, { ...config, workers: 3, epochs: 9 }), []);
});

test('--clip 0 means no clipping (it used to scale every gradient to zero)', async () => {
  const root = await toy();
  const train = await imageFolder(path.join(root, 'train'));
  const r = await new Trainer({ ...config, clipNorm: 0 }, train, undefined, await mkdtemp(path.join(tmpdir(), 'attnvision-bad-run-'))).run();
  const r0 = await new Trainer({ ...config, clipNorm: 0, lr: 0 }, train, undefined, await mkdtemp(path.join(tmpdir(), 'attnvision-bad-run-'))).run();
  assert.notDeepEqual(r.handle.state.params, r0.handle.state.params, 'the weights moved');
});

test('eval: unreadable images are named and left out of the scores; single-label checkpoints are not scored on manifests', async () => {
  const root = await toy();
  const out = await mkdtemp(path.join(tmpdir(), 'attnvision-bad-run-'));
  // Two of the toy classes: a head size unlike the model's default (4), so export must read it.
  const two = (await imageFolder(path.join(root, 'train'))).classes.slice(0, 2);
  await new Trainer(config, await imageFolder(path.join(root, 'train'), two), await imageFolder(path.join(root, 'val'), two), out).run();
  const ck = path.join(out, 'best.safetensors');
  assert.equal((await readCheckpoint(ck)).metadata.head, 'single-label');
  const again = run('train', '--data', root, '--model', 'tiny_cnn', '--out', out, '--size', '16', '--epochs', '1');
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already holds a run \(last\.safetensors\); give --resume to continue it, --overwrite to replace it, or a new --out/);
  const val = await imageFolder(path.join(root, 'val'), two);
  assert.equal(val.classes.length, 2);
  await writeFile(val.samples[0]!.file, 'not an image any more');
  const ev = await evaluateCheckpoint(ck, val, 4);
  assert.deepEqual(ev.failed.map((f) => f.file), [val.samples[0]!.file]);
  assert.equal(ev.metrics.n, val.samples.length - 1);
  const r = run('eval', '--checkpoint', ck, '--data', root, '--split', 'val', '--batch', '4', '--labels', two.join(','));
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /not scored/);
  const manifest = path.join(root, 'm.jsonl');
  await writeFile(manifest, val.samples.slice(1).map((s) => JSON.stringify({ file: path.relative(root, s.file), labels: [val.classes[s.label]], split: 'val' })).join('\n') + '\n');
  const m = run('eval', '--checkpoint', ck, '--data', manifest, '--labels', val.classes.join(','), '--split', 'val');
  assert.equal(m.status, 1);
  assert.match(m.stderr, /a single-label checkpoint cannot be scored on a multi-label manifest/);

  // An inspector is a multi-label model: a softmax checkpoint is refused, even with quality labels.
  const q = path.join(root, 'quality');
  for (const [from, to] of [[two[0]!, 'noise'], [two[1]!, 'haze']] as const) await cp(path.join(root, 'train', from), path.join(q, to), { recursive: true });
  const qOut = await mkdtemp(path.join(tmpdir(), 'attnvision-bad-run-'));
  await new Trainer(config, await imageFolder(q), undefined, qOut).run();
  const p = run('package-inspector', '--checkpoint', path.join(qOut, 'last.safetensors'), '--out', path.join(qOut, 'i.onnx'));
  assert.equal(p.status, 1);
  assert.match(p.stderr, /a single-label \(softmax\) checkpoint; an inspector needs a multi-label model/);

  // export takes the head size from the checkpoint, and refuses a contradicting --classes.
  const onnx = path.join(out, 'e.onnx');
  const e = run('export', 'tiny_cnn', '--out', onnx, '--weights', ck);
  assert.equal(e.status, 0, e.stderr);
  const session = await ort.InferenceSession.create(onnx);
  const y = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', new Float32Array(3 * 16 * 16), [1, 3, 16, 16]) });
  assert.deepEqual(y[session.outputNames[0]!]!.dims, [1, val.classes.length], 'the trained head, not the model\'s default one');
  await session.release();
  assert.match(run('export', 'tiny_cnn', '--out', onnx, '--weights', ck, '--classes', '7').stderr, new RegExp(`--classes 7 but .* has a head of ${val.classes.length} outputs`));
  assert.match(run('export', 'tiny_vit', '--out', onnx, '--weights', ck).stderr, /holds a tiny_cnn, not a tiny_vit/);
});

test('outputs: a folder given as a file is a one-line named error', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'attnvision-bad-out-'));
  await assert.rejects(writeFileAtomic(dir, 'x'), new RegExp(`${dir.replace(/[/.]/g, '\\$&')}: cannot write \\(it is a folder\\)`));
  const r = run('export', 'tiny_cnn', '--out', dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^attnvision: .*cannot write \(it is a folder\)\n$/);
  const empty = path.join(dir, 'nothing');
  await mkdir(empty);
  assert.match(run('eval-real', empty).stderr, /no class sub-folders/);
  assert.match(run('eval-real', path.join(dir, 'missing')).stderr, /^attnvision: .*missing: cannot read folder \(ENOENT\)/);
});

test('flagNumber: decimal numbers only (an empty value or hex is an error, not 0 or 16)', () => {
  const p = (v: string) => parseArgs([`--lr=${v}`], { values: ['lr'] }, 't');
  assert.equal(flagNumber(p('1e-3'), 'lr', 1, 't'), 1e-3);
  assert.equal(flagNumber(p('.5'), 'lr', 1, 't'), 0.5);
  for (const bad of ['', ' ', '0x10', '1,5', 'abc']) assert.throws(() => flagNumber(p(bad), 'lr', 1, 't'), /expected a number for --lr/, JSON.stringify(bad));
  // The same parser for list flags (--pgd, --query, --input, --photo-scales).
  assert.deepEqual(['8', '-2', '+2', '5.', '1e-3'].map(parseDecimal), [8, -2, 2, 5, 1e-3]);
  assert.ok(['', '0x8', 'Infinity', '1_0'].every((v) => Number.isNaN(parseDecimal(v))));
  assert.match(run('eval', '--checkpoint', 'x.safetensors', '--data', 'y', '--pgd', '0x8,,10').stderr, /expected EPS,STEP,ITERS/);
});

test('an input size the model cannot take is a shape error naming the model and the input', async () => {
  // tiny_vit refuses sizes its patches do not tile when it is built...
  const root = await toy();
  const [train, val] = [await imageFolder(path.join(root, 'train')), await imageFolder(path.join(root, 'val'))];
  const out = await mkdtemp(path.join(tmpdir(), 'attnvision-bad-run-'));
  await assert.rejects(new Trainer({ ...config, model: 'tiny_vit', imageSize: 18 }, train, val, out).run(), /tiny_vit: expected a square input whose side is a multiple of its 4 px patches but received 3x18x18/);
  // ...and a model traced at another size than it was built for names itself and the input.
  const h = await createModel('tiny_vit', { inputSize: [1, 16, 16] });
  const g = new Graph();
  assert.throws(
    () => g.run(() => withBinding(new ConstantBinding(g, h.state), () => defaultForward(h.info, h.model, { input: g.input('input', [2, 1, 20, 20], 'float32') }))),
    /^ShapeError: tiny_vit does not take input \[2, 1, 20, 20\] \(default input 1x16x16\): /,
  );
});

test('parseArgs: more plain arguments than a command takes are an error naming the first extra one', () => {
  assert.deepEqual(parseArgs(['model', '--out', 'x.onnx'], { values: ['out'], positional: 1 }, 'export').positional, ['model']);
  assert.throws(() => parseArgs(['model', 'extra', '--out', 'x.onnx'], { values: ['out'], positional: 1 }, 'export'), /^ArgumentError: export: unexpected argument "extra" \(see attnvision export --help\)$/);
  assert.throws(() => parseArgs(['--data', 'a', 'b'], { values: ['data'], positional: 0 }, 'train'), /train: unexpected argument "b"/);
  assert.equal(parseArgs(['a', 'b', 'c'], {}, 'inspect').positional.length, 3, 'no limit unless given');
  const r = run('train', '--data', 'a', 'b');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /train: unexpected argument "b"/);
});

test('bench refuses sizes whose buffers cannot be allocated, by name (was a RangeError stack trace)', () => {
  const r = run('bench', 'gemm', '--size', '100000');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^attnvision: bench: gemm --size 100000 is above 8192/);
  assert.match(run('bench', 'infer', '--model', 'tiny_cnn', '--size', '16', '--batch', '100000000').stderr, /input values are above 268,435,456/);
  assert.match(run('bench', 'inspect', '--size', '70000').stderr, /a 70000 x 70000 image is above the inspector's 100,000,000-pixel limit/);
});

test('models --filter without a match, attention --out that is not .png and summary --classes are named errors', () => {
  const m = run('models', '--filter', 'zzz');
  assert.equal(m.status, 1);
  assert.match(m.stderr, /models: no model name contains "zzz"/);
  assert.match(run('attention', 'tiny_vit', 'x.png', '--out', 'maps.jpg').stderr, /attention: --out maps\.jpg: the maps are written as PNG; give a \.png file name/);
  assert.match(run('summary', 'tiny_cnn', '--classes', 'two').stderr, /summary: expected an integer in \[1, inf\] for --classes but received "two"/);
});

test('Ctrl-C: a long command says it was interrupted and how to go on, exits 130, and an interrupted synth folder is refused until finished', async () => {
  const { spawn } = await import('node:child_process');
  const out = await mkdtemp(path.join(tmpdir(), 'attnvision-sigint-'));
  const child = spawn(process.execPath, [cli, 'synth', '--out', out, '--per-class', '400', '--size', '96', '--seed', '1', '--workers', '1'], { env: { ...process.env, ATTNVISION_THREADS: '1' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    // Interrupt once rendering has visibly started.
    if (/synth \[/.test(stderr) && !child.killed) child.kill('SIGINT');
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /\nattnvision synth: interrupted \(SIGINT\); run the same command again to continue where it stopped\n/);
  assert.match(run('train', '--data', out, '--labels', 'noise,rain', '--model', 'tiny_cnn', '--out', path.join(out, 'run')).stderr, /an unfinished synth run \(\d+ samples so far, no manifest\.jsonl yet\): run the same synth command again to finish it/);
});
