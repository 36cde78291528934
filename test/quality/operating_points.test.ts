import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Inspector } from '../../src/quality/inspector.js';
import { QUALITY_LABELS } from '../../src/quality/labels.js';
import { manifestDataset } from '../../src/data/dataset.js';
import { SCAN_THRESHOLDS } from '../../src/quality/calibrate.js';
import { evaluateInspectorOnDataset } from '../../src/quality/dataset_eval.js';
import { collectSplitTiles, operatingPoints, probsUnderRules } from '../../src/quality/operating_points.js';
import { tinyInspectorModel } from '../helpers/tiny_inspector.js';
import { Rng } from '../helpers/rng.js';
import { randomPixels } from '../helpers/toy_images.js';

/** Random PNGs of 60-139 px in dir/img (those over 96 px are downscaled by the tiny inspector, with detail tiles) and a val/test manifest. */
async function splitManifest(dir: string, n: number, seed: number): Promise<string> {
  const rng = new Rng(seed);
  await mkdir(path.join(dir, 'img'), { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const w = 60 + rng.int(80);
    const h = 60 + rng.int(80);
    await randomPixels(w, h, rng).png().toFile(path.join(dir, `img/${i}.png`));
    const a = QUALITY_LABELS[rng.int(QUALITY_LABELS.length)]!;
    const b = QUALITY_LABELS[rng.int(QUALITY_LABELS.length)]!;
    const labels = i % 4 === 0 ? ['clean'] : i % 4 === 1 && a !== b ? [a, b] : [a];
    lines.push(JSON.stringify({ file: `img/${i}.png`, labels, split: i < n / 2 ? 'val' : 'test' }));
  }
  const manifest = path.join(dir, 'manifest.jsonl');
  await writeFile(manifest, lines.join('\n') + '\n');
  return manifest;
}

test('operating points score on test what the inspector packaged with their rules reports (detail tiles included)', async () => {
  const { dir, model } = await tinyInspectorModel();
  const configPath = model.replace(/\.onnx$/, '.json');
  const config = JSON.parse(await readFile(configPath, 'utf8'));
  await writeFile(configPath, JSON.stringify({ ...config, detailLabels: ['noise', 'jpeg'] }));
  const manifest = await splitManifest(dir, 40, 17);
  const labels = [...QUALITY_LABELS];
  const insp = await Inspector.load({ model });
  const [valDs, testDs] = [await manifestDataset(manifest, labels, 'val'), await manifestDataset(manifest, labels, 'test')];
  const val = await collectSplitTiles(insp, valDs);
  const test_ = await collectSplitTiles(insp, testDs);
  await insp.dispose();
  assert.equal(val.tiles.length, 20);
  assert.deepEqual(val.errors, []);
  // Some images were downscaled, so noise and jpeg were read from detail tiles (a different count).
  const noise = labels.indexOf('noise');
  assert.ok(val.tiles.some((t) => t[noise]!.length !== t[0]!.length), 'no image used detail tiles');

  const points = operatingPoints(val, test_, labels, SCAN_THRESHOLDS, [0.5]);
  assert.deepEqual(points.map((p) => p.floor), [null, 0.5]);
  for (const p of points) {
    // The same rules written into the config: the inspector's own evaluation gives the same numbers.
    await writeFile(configPath, JSON.stringify({ ...config, detailLabels: ['noise', 'jpeg'], labelThresholds: p.rules.map((r) => r.threshold), labelTopFraction: p.rules.map((r) => r.fraction) }));
    const packaged = await Inspector.load({ model });
    const t = await evaluateInspectorOnDataset(packaged, testDs);
    const v = await evaluateInspectorOnDataset(packaged, valDs);
    await packaged.dispose();
    const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `floor ${p.floor} ${what}: ${a} vs ${b}`);
    near(p.test.macroF1, t.metrics.macroF1, 'test macro-F1');
    near(p.test.macroF1WithClean, t.metrics.macroF1WithClean, 'test with clean');
    near(p.test.cleanKept, t.cleanKept, 'test clean kept');
    near(p.test.singleMacroF1, t.single!.macroF1, 'test single');
    for (const pc of t.metrics.perClass) near(p.test.recall[pc.label]!, pc.recall, `${pc.label} recall`);
    // Recall on two-label images: the inspector's own `multi` metrics (labels with such an image).
    assert.ok(t.multi!.perClass.some((pc) => pc.support) && v.multi!.perClass.some((pc) => pc.support));
    for (const [m, e] of [[p.test.multiRecall, t.multi!], [p.val.multiRecall, v.multi!]] as const) {
      for (const pc of e.perClass) {
        if (pc.support) near(m[pc.label]!, pc.recall, `${pc.label} recall on two-label images`);
        else assert.ok(Number.isNaN(m[pc.label]), pc.label);
      }
    }
    near(p.val.macroF1WithClean, v.metrics.macroF1WithClean, 'val with clean');
    near(p.val.cleanKept, v.cleanKept, 'val clean kept');
    // False alarms: of the clean test images, the share each label flags; with none flagged, all are kept.
    if (Object.values(p.test.falseAlarms).every((x) => x === 0)) assert.equal(p.test.cleanKept, 1);
    assert.ok(Object.values(p.test.falseAlarms).every((x) => x <= 1 - p.test.cleanKept + 1e-12));
  }
  assert.ok(points[1]!.val.cleanKept >= 0.5 || !points[1]!.val.feasible);

  // Bad input is named.
  await assert.rejects(collectSplitTiles(await Inspector.load({ model }), await manifestDataset(manifest, ['noise'], 'val')), /operating points need a manifest read with the inspector's labels \(defocus_blur, .*\); got noise/);
  assert.throws(() => operatingPoints(val, test_, labels, SCAN_THRESHOLDS, [1.5]), /expected clean-kept floors in \(0, 1\] but received 1\.5/);
  assert.throws(() => operatingPoints(val, { ...test_, tiles: [] }, labels, SCAN_THRESHOLDS, []), /need images in both splits \(val 20, test 0\)/);
  assert.throws(() => probsUnderRules(new Map([[1, new Float64Array(7)]]), labels.map(() => ({ fraction: 0.25, threshold: 0.5 }))), /label 0: no probabilities for tile share 0\.25/);
});
