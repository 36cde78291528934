import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile, mkdir, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createModel } from '../../src/models/index.js';
import { saveCheckpoint } from '../../src/io/checkpoint.js';
import { Inspector } from '../../src/quality/inspector.js';
import { packageInspector } from '../../src/quality/package.js';
import { QUALITY_LABELS } from '../../src/quality/labels.js';
import { Rng } from '../helpers/rng.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const run = (args: string[]) => spawnSync(process.execPath, [cli, 'package-inspector', ...args], { encoding: 'utf8' });

test('package-inspector: checkpoint -> ONNX + config; --calibrate picks thresholds on the val split', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'attnvision-pkg-'));
  const K = QUALITY_LABELS.length;
  const h = await createModel('tiny_vit', { numClasses: 2 * K, inputSize: [3, 32, 32], seed: 2 });
  const checkpoint = path.join(dir, 'best.safetensors');
  await saveCheckpoint(checkpoint, h.state, { metadata: { model: 'tiny_vit', classes: JSON.stringify(QUALITY_LABELS), numOutputs: String(2 * K), imageSize: '32' } });
  // A small val split: random images with assorted labels.
  const rng = new Rng(5);
  await mkdir(path.join(dir, 'img'));
  const lines: string[] = [];
  for (let i = 0; i < 10; i++) {
    const px = Buffer.from(new Uint8Array(48 * 40 * 3).map(() => rng.int(256)));
    await sharp(px, { raw: { width: 48, height: 40, channels: 3 } }).png().toFile(path.join(dir, `img/${i}.png`));
    lines.push(JSON.stringify({ file: `img/${i}.png`, labels: i % 3 ? [QUALITY_LABELS[i % K]] : ['clean'], split: 'val' }));
  }
  const manifest = path.join(dir, 'manifest.jsonl');
  await writeFile(manifest, lines.join('\n') + '\n');

  const out = path.join(dir, 'insp.onnx');
  const plain = run(['--checkpoint', checkpoint, '--out', out, '--threshold', '0.4', '--top-k', '3']);
  assert.equal(plain.status, 0, plain.stderr);
  const config = JSON.parse(await readFile(path.join(dir, 'insp.json'), 'utf8'));
  assert.deepEqual([config.model, config.inputSize, config.threshold, config.topK, config.severityHead, config.labelThresholds], ['tiny_vit', 32, 0.4, 3, true, undefined]);
  assert.match(plain.stdout, /wrote .*insp\.onnx \(\d+\.\d MB\)/);
  assert.ok((await stat(out)).size > 1000);
  assert.equal(config.modelSha256, createHash('sha256').update(await readFile(out)).digest('hex'), 'the config names its model');
  assert.deepEqual((await readdir(dir)).filter((f) => f.includes('.pkg-')), [], 'no temporary package files left');

  const cal = run(['--checkpoint', checkpoint, '--out', out, '--calibrate', manifest, '--per-label']);
  assert.equal(cal.status, 0, cal.stderr);
  const calibrated = JSON.parse(await readFile(path.join(dir, 'insp.json'), 'utf8'));
  assert.equal(calibrated.labelThresholds.length, K);
  assert.match(cal.stdout, new RegExp(`^threshold ${calibrated.threshold} \\(with-clean\\): val macro-F1 \\d\\.\\d{4}, with clean \\d\\.\\d{4}, clean kept clean \\d+\\.\\d%$`, 'm'));
  assert.match(cal.stdout, /^per-label thresholds: defocus_blur 0\.\d+, motion_blur/m);
  const insp = await Inspector.load({ model: out });
  assert.deepEqual(insp.thresholds(), calibrated.labelThresholds);
  await insp.dispose();

  // --split picks another split of the manifest (here the same images relabelled "dev").
  const devManifest = path.join(dir, 'dev.jsonl');
  await writeFile(devManifest, lines.map((l) => l.replace('"split":"val"', '"split":"dev"')).join('\n') + '\n');
  const dev = run(['--checkpoint', checkpoint, '--out', out, '--calibrate', devManifest, '--split', 'dev', '--per-label']);
  assert.equal(dev.status, 0, dev.stderr);
  assert.match(dev.stdout, /^threshold [\d.]+ \(with-clean\): dev macro-F1/m);
  assert.deepEqual(JSON.parse(await readFile(path.join(dir, 'insp.json'), 'utf8')).labelThresholds, calibrated.labelThresholds, 'same images, same rules');

  const detail = run(['--checkpoint', checkpoint, '--out', out, '--detail-labels', 'noise,jpeg']);
  assert.equal(detail.status, 0, detail.stderr);
  assert.deepEqual(JSON.parse(await readFile(path.join(dir, 'insp.json'), 'utf8')).detailLabels, ['noise', 'jpeg']);
  assert.match(run(['--checkpoint', checkpoint, '--out', out, '--detail-labels', 'noise,grain']).stderr, /detail labels grain are not labels of this model/);
  const fine = run(['--checkpoint', checkpoint, '--out', out, '--max-tiles', '5', '--fine-labels', 'defocus_blur,motion_blur', '--fine-tiles', '7']);
  assert.equal(fine.status, 0, fine.stderr);
  const fineConfig = JSON.parse(await readFile(path.join(dir, 'insp.json'), 'utf8'));
  assert.deepEqual([fineConfig.fineLabels, fineConfig.fineTilesPerSide], [['defocus_blur', 'motion_blur'], 7]);
  assert.match(run(['--checkpoint', checkpoint, '--out', out, '--fine-labels', 'defocus_blur']).stderr, /--fine-labels\) and fine tiles per side \(--fine-tiles\) go together/);
  assert.match(run(['--checkpoint', checkpoint, '--out', out, '--max-tiles', '5', '--fine-labels', 'motion_blur', '--fine-tiles', '5']).stderr, /fineTilesPerSide must be an integer in \[6, 16\]/);
  const palette = run(['--checkpoint', checkpoint, '--out', out, '--palette-lowpass', '0.1']);
  assert.equal(palette.status, 0, palette.stderr);
  assert.equal(JSON.parse(await readFile(path.join(dir, 'insp.json'), 'utf8')).paletteLowpass, 0.1);
  for (const bad of ['0', '0.4', 'soft']) assert.match(run(['--checkpoint', checkpoint, '--out', out, '--palette-lowpass', bad]).stderr, /--palette-lowpass but received/, bad);
  assert.match(run(['--checkpoint', checkpoint, '--out', out, '--per-label']).stderr, /--per-label needs --calibrate/);
  assert.match(run(['--checkpoint', checkpoint, '--out', out, '--calibrate', manifest, '--threshold', '0.3']).stderr, /give --threshold or --calibrate, not both/);
  const notTrainer = path.join(dir, 'plain.safetensors');
  await saveCheckpoint(notTrainer, h.state);
  assert.match(run(['--checkpoint', notTrainer, '--out', out]).stderr, /plain\.safetensors: not a trainer checkpoint/);

  // Refused before anything is written: a calibration split with no labelled image or no existing
  // image, and (library) a config the inspector could not load.
  const before = await readFile(out);
  const cleanOnly = path.join(dir, 'clean.jsonl');
  await writeFile(cleanOnly, lines.filter((l) => l.includes('"clean"')).join('\n') + '\n');
  assert.match(run(['--checkpoint', checkpoint, '--out', out, '--calibrate', cleanOnly]).stderr, /clean\.jsonl: no image of split "val" has a label; calibration needs labelled images/);
  const gone = path.join(dir, 'gone.jsonl');
  await writeFile(gone, lines.map((l) => l.replace('img/', 'nowhere/')).join('\n') + '\n');
  assert.match(run(['--checkpoint', checkpoint, '--out', out, '--calibrate', gone]).stderr, /gone\.jsonl: none of the 10 images of split "val" exists/);
  assert.match(run(['--checkpoint', checkpoint, '--out', out, '--calibrate', manifest, '--split', 'holdout']).stderr, /manifest\.jsonl: no samples in split "holdout"/);
  assert.match(run(['--checkpoint', checkpoint, '--out', out, '--split', 'val']).stderr, /--split needs --calibrate/);
  await assert.rejects(packageInspector({ checkpoint, out, maxTilesPerSide: 20 }), /package-inspector: .*insp\.json: maxTilesPerSide must be an integer in \[1, 16\]; got 20/);
  // A calibration that fails (here: a clean-kept floor no rule meets) leaves the package in place untouched.
  const configBefore = await readFile(path.join(dir, 'insp.json'), 'utf8');
  const floor = run(['--checkpoint', checkpoint, '--out', out, '--calibrate', manifest, '--per-label', '--min-clean-kept', '1']);
  assert.notEqual(floor.status, 0);
  assert.deepEqual([await readFile(out), await readFile(path.join(dir, 'insp.json'), 'utf8')], [before, configBefore], 'the package was not replaced');
  assert.deepEqual((await readdir(dir)).filter((f) => f.includes('.pkg-')), [], 'no temporary package files left');
  // A config beside another model (an interrupted package, mixed-up files) is refused at load.
  const other = path.join(dir, 'other.onnx');
  await writeFile(other, await readFile(out));
  const cfg = JSON.parse(configBefore);
  await writeFile(path.join(dir, 'other.json'), JSON.stringify({ ...cfg, modelSha256: 'ab'.repeat(32) }));
  await assert.rejects(Inspector.load(other), /other\.json was written for another model than .*other\.onnx \(its modelSha256 does not match the file\)/);
  await writeFile(path.join(dir, 'other.json'), JSON.stringify({ ...cfg, modelSha256: 'not a digest' }));
  await assert.rejects(Inspector.load(other), /modelSha256 must be a SHA-256 digest \(64 hex digits\)/);
  assert.deepEqual(await readFile(out), before, 'the package was not replaced');
});

test('package-inspector: a comma list of checkpoints packages one ensemble model (mean of logits)', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'attnvision-pkg-ens-'));
  const K = QUALITY_LABELS.length;
  const save = async (name: string, seed: number, size = 32) => {
    const h = await createModel('tiny_vit', { numClasses: 2 * K, inputSize: [3, size, size], seed });
    const file = path.join(dir, name);
    await saveCheckpoint(file, h.state, { metadata: { model: 'tiny_vit', classes: JSON.stringify(QUALITY_LABELS), numOutputs: String(2 * K), imageSize: String(size) } });
    return file;
  };
  const a = await save('a.safetensors', 2);
  const b = await save('b.safetensors', 3);
  const img = await sharp(Buffer.from(new Uint8Array(40 * 40 * 3).map((_, i) => (i * 37) % 256)), { raw: { width: 40, height: 40, channels: 3 } }).png().toBuffer();
  const probs = async (checkpoints: string, name: string) => {
    const out = path.join(dir, name);
    const r = run(['--checkpoint', checkpoints, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const insp = await Inspector.load({ model: out });
    try {
      return { config: insp.config, tiles: (await insp.inspect(img)).tileProbabilities };
    } finally {
      await insp.dispose();
    }
  };
  const ens = await probs(`${a},${b}`, 'ens.onnx');
  assert.equal(ens.config.model, 'tiny_vit + tiny_vit');
  // Per tile and label, the ensemble's probability is the sigmoid of the mean of the members' logits.
  const pa = (await probs(a, 'a.onnx')).tiles;
  const pb = (await probs(b, 'b.onnx')).tiles;
  assert.ok(pa.some((row, t) => row.some((p, k) => Math.abs(p - pb[t]![k]!) > 0.01)), 'the two members should disagree somewhere');
  const logit = (p: number) => Math.log(p / (1 - p));
  ens.tiles.forEach((row, t) =>
    row.forEach((p, k) => {
      const want = 1 / (1 + Math.exp(-(logit(pa[t]![k]!) + logit(pb[t]![k]!)) / 2));
      assert.ok(Math.abs(p - want) < 1e-4, `tile ${t} label ${k}: ${p} vs ${want}`);
    }),
  );
  const c = await save('c.safetensors', 4, 48);
  assert.match(run(['--checkpoint', `${a},${c}`, '--out', path.join(dir, 'bad.onnx')]).stderr, /c\.safetensors has .*48 px input but .*a\.safetensors has .*32 px input; ensemble members must agree/);
});
