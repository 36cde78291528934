import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createModel } from '../../src/models/index.js';
import { saveCheckpoint } from '../../src/io/checkpoint.js';
import { Inspector } from '../../src/quality/inspector.js';
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

  const cal = run(['--checkpoint', checkpoint, '--out', out, '--calibrate', manifest, '--per-label']);
  assert.equal(cal.status, 0, cal.stderr);
  const calibrated = JSON.parse(await readFile(path.join(dir, 'insp.json'), 'utf8'));
  assert.equal(calibrated.labelThresholds.length, K);
  assert.match(cal.stdout, new RegExp(`^threshold ${calibrated.threshold} \\(with-clean\\): val macro-F1 \\d\\.\\d{4}, with clean \\d\\.\\d{4}, clean kept clean \\d+\\.\\d%$`, 'm'));
  assert.match(cal.stdout, /^per-label thresholds: defocus_blur 0\.\d+, motion_blur/m);
  const insp = await Inspector.load({ model: out });
  assert.deepEqual(insp.thresholds(), calibrated.labelThresholds);
  await insp.dispose();

  const detail = run(['--checkpoint', checkpoint, '--out', out, '--detail-labels', 'noise,jpeg']);
  assert.equal(detail.status, 0, detail.stderr);
  assert.deepEqual(JSON.parse(await readFile(path.join(dir, 'insp.json'), 'utf8')).detailLabels, ['noise', 'jpeg']);
  assert.match(run(['--checkpoint', checkpoint, '--out', out, '--detail-labels', 'noise,grain']).stderr, /detail labels grain are not labels of this model/);
  assert.match(run(['--checkpoint', checkpoint, '--out', out, '--per-label']).stderr, /--per-label needs --calibrate/);
  assert.match(run(['--checkpoint', checkpoint, '--out', out, '--calibrate', manifest, '--threshold', '0.3']).stderr, /give --threshold or --calibrate, not both/);
  const notTrainer = path.join(dir, 'plain.safetensors');
  await saveCheckpoint(notTrainer, h.state);
  assert.match(run(['--checkpoint', notTrainer, '--out', out]).stderr, /plain\.safetensors: not a trainer checkpoint/);
});
