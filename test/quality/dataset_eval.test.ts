import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Inspector } from '../../src/quality/inspector.js';
import { evaluateInspectorOnDataset, recallBySeverity } from '../../src/quality/dataset_eval.js';
import { calibrateInspector, SCAN_THRESHOLDS } from '../../src/quality/calibrate.js';
import { SCAN_FRACTIONS, tilesAveraged, topMean } from '../../src/quality/aggregate.js';
import { QUALITY_LABELS, type InspectResult } from '../../src/quality/labels.js';
import { manifestDataset } from '../../src/data/dataset.js';
import { multiLabelMetrics } from '../../src/train/metrics.js';
import { tinyInspectorModel } from '../helpers/tiny_inspector.js';
import { Rng } from '../helpers/rng.js';
import { randomPixels } from '../helpers/toy_images.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

/** A manifest with `n` random PNGs of assorted sizes and labels, plus one unreadable file. */
async function smallManifest(dir: string, n: number): Promise<string> {
  const rng = new Rng(7);
  await mkdir(path.join(dir, 'img'), { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const w = 40 + rng.int(60);
    const h = 40 + rng.int(60);
    const file = `img/${i}.png`;
    await randomPixels(w, h, rng).png().toFile(path.join(dir, file));
    const labels = i % 3 === 0 ? ['clean'] : [QUALITY_LABELS[i % QUALITY_LABELS.length]!, ...(i % 4 === 1 ? [QUALITY_LABELS[(i + 2) % QUALITY_LABELS.length]!] : [])];
    lines.push(JSON.stringify({ file, labels, split: 'test' }));
  }
  await writeFile(path.join(dir, 'img/broken.png'), 'not a png');
  lines.push(JSON.stringify({ file: 'img/broken.png', labels: ['noise'], split: 'test' }));
  lines.push(JSON.stringify({ file: 'img/0.png', labels: ['noise'], split: 'train' }));
  const manifest = path.join(dir, 'manifest.jsonl');
  await writeFile(manifest, lines.join('\n') + '\n');
  return manifest;
}

test('inspector evaluation on a manifest equals inspecting each file and scoring the probabilities', async () => {
  const { dir, model } = await tinyInspectorModel();
  const manifest = await smallManifest(dir, 12);
  const insp = await Inspector.load({ model });
  const ds = await manifestDataset(manifest, [...QUALITY_LABELS], 'test');
  const seen: number[] = [];
  const r = await evaluateInspectorOnDataset(insp, ds, { threshold: 0.45, scan: [0.3, 0.45, 0.6], onFile: (i) => seen.push(i) });
  assert.deepEqual(seen, Array.from({ length: 13 }, (_, i) => i + 1));
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0]!.file, /broken\.png$/);
  // Independent recomputation from per-file inspect() calls.
  const probs: number[] = [];
  const targets: number[] = [];
  for (const s of ds.samples.slice(0, 12)) {
    const one = await insp.inspect(s.file);
    probs.push(...one.scores.map((x) => x.probability));
    targets.push(...s.labels!);
  // The reported probabilities are doubles and the inspector decides on them, so they are scored as doubles.
  }
  const want = multiLabelMetrics(Float64Array.from(probs), Float32Array.from(targets), [...QUALITY_LABELS], 0.45);
  assert.equal(r.metrics.n, 12);
  assert.deepEqual(r.metrics, want);
  // Split by label count: rows with <= 1 label and rows with 2, scored on their own.
  const K = QUALITY_LABELS.length;
  const split = (keep: (n: number) => boolean) => {
    const rows = [...Array(12).keys()].filter((i) => keep(targets.slice(i * K, (i + 1) * K).filter((v) => v > 0.5).length));
    const pick = (a: number[]) => rows.flatMap((i) => a.slice(i * K, (i + 1) * K));
    return multiLabelMetrics(Float64Array.from(pick(probs)), Float32Array.from(pick(targets)), [...QUALITY_LABELS], 0.45);
  };
  assert.deepEqual(r.single, split((n) => n <= 1));
  assert.deepEqual(r.multi, split((n) => n >= 2));
  assert.ok(r.single!.n + r.multi!.n === 12 && r.multi!.n > 0);
  assert.equal(r.bySource, undefined, 'no source kinds in the manifest: no breakdown');
  // Label pairs: every two-label row counted once under its pair, each label found at 0.45.
  const pairRows = [...Array(12).keys()].filter((i) => targets.slice(i * K, (i + 1) * K).filter((v) => v > 0.5).length === 2);
  assert.equal(r.pairs!.reduce((s, p) => s + p.n, 0), pairRows.length);
  for (const p of r.pairs!) {
    const [a, b] = p.labels.map((l) => QUALITY_LABELS.indexOf(l as never));
    const rows = pairRows.filter((i) => targets[i * K + a!] === 1 && targets[i * K + b!] === 1);
    assert.equal(p.n, rows.length);
    assert.deepEqual(p.recall, [a!, b!].map((c) => rows.filter((i) => probs[i * K + c]! >= 0.45).length / rows.length));
  }
  // Threshold scan: the macro-F1 of each threshold, and the share of label-free rows kept clean.
  const cleanRows = [...Array(12).keys()].filter((i) => targets.slice(i * K, (i + 1) * K).every((v) => v < 0.5));
  assert.deepEqual(
    r.scan,
    [0.3, 0.45, 0.6].map((t) => ({
      threshold: t,
      macroF1: multiLabelMetrics(Float64Array.from(probs), Float32Array.from(targets), [...QUALITY_LABELS], t).macroF1,
      macroF1WithClean: multiLabelMetrics(Float64Array.from(probs), Float32Array.from(targets), [...QUALITY_LABELS], t).macroF1WithClean,
      cleanKept: cleanRows.filter((i) => probs.slice(i * K, (i + 1) * K).every((p) => p < t)).length / cleanRows.length,
    })),
  );
  await insp.dispose();

  // CLI: same numbers as JSON; the broken file is reported and makes the exit code 3 (some images not scored).
  // A threshold outside (0, 1) is refused before any image is inspected.
  const one = spawnSync(process.execPath, [cli, 'eval', '--inspector', model, '--data', manifest, '--threshold', '1'], { encoding: 'utf8' });
  assert.equal(one.status, 1);
  assert.match(one.stderr, /^attnvision: eval: expected a number in \(0, 1\) for --threshold but received "1"\n$/);
  await assert.rejects(evaluateInspectorOnDataset(insp, await manifestDataset(manifest, [...QUALITY_LABELS], 'test'), { threshold: 0, onFile: () => assert.fail('no image before the threshold check') }), /threshold must be a number in \(0, 1\); got 0/);
  const out = spawnSync(process.execPath, [cli, 'eval', '--inspector', model, '--data', manifest, '--threshold', '0.45', '--json'], { encoding: 'utf8' });
  assert.equal(out.status, 3, out.stderr);
  assert.match(out.stderr, /broken\.png: /);
  const json = JSON.parse(out.stdout.trim().split('\n').pop()!);
  assert.equal(json.macroF1, want.macroF1);
  assert.equal(json.n, 12);
  assert.deepEqual(json.single, JSON.parse(JSON.stringify(r.single)));
  const text = spawnSync(process.execPath, [cli, 'eval', '--inspector', model, '--data', manifest, '--split', 'test', '--scan'], { encoding: 'utf8' });
  assert.match(text.stdout, /^at most one label: macro-F1 \d\.\d{4}, with clean \d\.\d{4} \(n=\d+\)/m);
  assert.match(text.stdout, /^ {2}clean {12}P \d\.\d{3} {2}R \d\.\d{3} {2}F1 \d\.\d{3} {2}n 4$/m);
  assert.match(text.stdout, /^threshold scan: 0\.05:\d\.\d{3} .* 0\.95:\d\.\d{3}$/m);
  assert.match(text.stdout, /^best threshold 0\.\d\d: macro-F1 \d\.\d{4} \(with clean \d\.\d{4}\), clean kept clean \d+\.\d%$/m);
  const noInspector = spawnSync(process.execPath, [cli, 'eval', '--checkpoint', 'x.safetensors', '--data', manifest, '--scan'], { encoding: 'utf8' });
  assert.match(noInspector.stderr, /--scan needs --inspector/);
  const bad = spawnSync(process.execPath, [cli, 'eval', '--inspector', model, '--data', manifest, '--robustness'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--robustness cannot be combined with --inspector/);
});

test('inspector evaluation by source kind: each kind scored on its own rows, in the CLI text and JSON', async () => {
  const { dir, model } = await tinyInspectorModel();
  const manifest = await smallManifest(dir, 12);
  // Synthesizer-style source records: photo and dead-leaves rows, and one row without a source.
  const lines = (await readFile(manifest, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  lines.forEach((l, i) => {
    if (i !== 5) l.source = i % 2 ? { kind: 'dead-leaves', seed: i } : { kind: 'photo', photo: `p${i}.jpg` };
  });
  await writeFile(manifest, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const insp = await Inspector.load({ model });
  const ds = await manifestDataset(manifest, [...QUALITY_LABELS], 'test');
  assert.deepEqual(ds.samples.map((x) => x.source ?? null).slice(0, 6), ['photo', 'dead-leaves', 'photo', 'dead-leaves', 'photo', null]);
  const r = await evaluateInspectorOnDataset(insp, ds, { threshold: 0.45 });
  // The broken file (row 12, a photo row) is not scored; the rest are grouped in first-seen order.
  assert.deepEqual(r.bySource!.map((g) => [g.source, g.metrics.n]), [['photo', 6], ['dead-leaves', 5], ['unknown', 1]]);
  const K = QUALITY_LABELS.length;
  for (const g of r.bySource!) {
    const rows = ds.samples.slice(0, 12).filter((x) => (x.source ?? 'unknown') === g.source);
    const probs: number[] = [];
    const targets: number[] = [];
    for (const x of rows) {
      probs.push(...(await insp.inspect(x.file)).scores.map((q) => q.probability));
      targets.push(...x.labels!);
    }
    assert.deepEqual(g.metrics, multiLabelMetrics(Float64Array.from(probs), Float32Array.from(targets), [...QUALITY_LABELS], 0.45), g.source);
    const one = [...rows.keys()].filter((i) => targets.slice(i * K, (i + 1) * K).filter((v) => v > 0.5).length <= 1);
    const pick = (a: number[]) => one.flatMap((i) => a.slice(i * K, (i + 1) * K));
    assert.deepEqual(g.single, one.length ? multiLabelMetrics(Float64Array.from(pick(probs)), Float32Array.from(pick(targets)), [...QUALITY_LABELS], 0.45) : undefined, g.source);
    assert.equal(Number.isNaN(g.cleanKept), g.metrics.clean.support === 0);
  }
  await insp.dispose();
  const out = spawnSync(process.execPath, [cli, 'eval', '--inspector', model, '--data', manifest, '--threshold', '0.45', '--json'], { encoding: 'utf8' });
  assert.equal(out.status, 3, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout.trim().split('\n').pop()!).bySource, JSON.parse(JSON.stringify(r.bySource)));
  const text = spawnSync(process.execPath, [cli, 'eval', '--inspector', model, '--data', manifest, '--threshold', '0.45'], { encoding: 'utf8' });
  assert.match(text.stdout, /^source photo \(n=6\): macro-F1 with clean \d\.\d{4}, clean kept (\d+\.\d%|-); at most one label: macro-F1 with clean \d\.\d{4} \(n=\d+\), recall defocus_blur (\d\.\d\d|-), /m);
  assert.match(text.stdout, /^source unknown \(n=1\): /m);
});

test('recall by severity band: each label on the rows carrying it, by thirds of its severity (1 in the top band)', () => {
  // Rows x [a, b]: probabilities, targets, severities; thresholds a 0.5, b 0.6.
  const P = Float64Array.from([0.9, 0, 0.1, 0, 0.7, 0, 0.55, 0, 0, 0.59, 0, 0.99]);
  const T = Float32Array.from([1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1]);
  const S = Float64Array.from([0.1, 0, 0.2, 0, 0.5, 0, 1, 0, 0, 1 / 3, 0, 0.7]);
  assert.deepEqual(recallBySeverity(P, T, S, ['a', 'b'], [0.5, 0.6]), [
    { label: 'a', bands: [{ from: 0, to: 1 / 3, n: 2, recall: 0.5 }, { from: 1 / 3, to: 2 / 3, n: 1, recall: 1 }, { from: 2 / 3, to: 1, n: 1, recall: 1 }] },
    { label: 'b', bands: [{ from: 1 / 3, to: 2 / 3, n: 1, recall: 0 }, { from: 2 / 3, to: 1, n: 1, recall: 1 }] },
  ]);
  // A label without positive rows is left out.
  assert.deepEqual(recallBySeverity(P, new Float32Array(12), S, ['a', 'b'], [0.5, 0.6]), []);
});

test('inspector evaluation by severity: the manifest severities banded, counts matching each label\'s support, in the CLI text and JSON', async () => {
  const { dir, model } = await tinyInspectorModel();
  const manifest = await smallManifest(dir, 12);
  const lines = (await readFile(manifest, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { labels: string[]; severities?: Record<string, number> });
  lines.forEach((l, i) => {
    if (l.labels[0] !== 'clean') l.severities = Object.fromEntries(l.labels.map((x, j) => [x, ((i + j) % 5) / 4]));
  });
  await writeFile(manifest, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const insp = await Inspector.load({ model });
  const ds = await manifestDataset(manifest, [...QUALITY_LABELS], 'test');
  const r = await evaluateInspectorOnDataset(insp, ds, { threshold: 0.45 });
  await insp.dispose();
  for (const c of r.metrics.perClass) {
    const g = r.bySeverity!.find((x) => x.label === c.label);
    assert.equal(g?.bands.reduce((s, b) => s + b.n, 0) ?? 0, c.support, c.label);
    // Found on as many images as the per-label recall says.
    if (g) assert.ok(Math.abs(g.bands.reduce((s, b) => s + b.recall * b.n, 0) - c.recall * c.support) < 1e-9, c.label);
  }
  // The severities reach the bands: rows 0..11 (the broken row 12 is not scored) put label severities in every third.
  const sev = ds.samples.slice(0, 12).flatMap((x) => [...x.severities!].filter((_, c) => x.labels![c]! > 0.5));
  assert.deepEqual(r.bySeverity!.flatMap((g) => g.bands).reduce((s, b) => s + b.n, 0), sev.length);
  assert.ok(new Set(r.bySeverity!.flatMap((g) => g.bands.map((b) => b.from))).size >= 2);
  const out = spawnSync(process.execPath, [cli, 'eval', '--inspector', model, '--data', manifest, '--threshold', '0.45', '--json'], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out.stdout.trim().split('\n').pop()!).bySeverity, JSON.parse(JSON.stringify(r.bySeverity)));
  const text = spawnSync(process.execPath, [cli, 'eval', '--inspector', model, '--data', manifest, '--threshold', '0.45'], { encoding: 'utf8' });
  assert.match(text.stdout, /^recall by severity: \w+ \d\.\d\d-\d\.\d\d \d\.\d\d \(n=\d+\)/m);
});

test('per-label thresholds: metrics, inspector decisions and calibration on a validation split', async () => {
  const K = QUALITY_LABELS.length;
  // Metrics: each label scored at its own threshold equals scoring it alone at that threshold.
  const rng = new Rng(11);
  const N = 40;
  const P = Float32Array.from({ length: N * K }, () => rng.next());
  const T = Float32Array.from({ length: N * K }, () => (rng.next() < 0.3 ? 1 : 0));
  const thr = QUALITY_LABELS.map((_, k) => 0.2 + 0.1 * k);
  const m = multiLabelMetrics(P, T, [...QUALITY_LABELS], thr);
  QUALITY_LABELS.forEach((_, k) => assert.deepEqual(m.perClass[k], multiLabelMetrics(P, T, [...QUALITY_LABELS], thr[k]).perClass[k]));
  assert.deepEqual(m.threshold, thr);
  assert.throws(() => multiLabelMetrics(P, T, [...QUALITY_LABELS], [0.5, 0.5]), /expected 7 per-label thresholds but received 2/);

  // Calibration: writes the scan's best global threshold and each label's best into the config.
  const { dir, model } = await tinyInspectorModel();
  const manifest = await smallManifest(dir, 12);
  const text = (await readFile(manifest, 'utf8')).replace(/"split":"test"/g, '"split":"val"');
  await writeFile(manifest, text);
  const c = await calibrateInspector(model, manifest, { perLabel: true, objective: 'label-f1' });
  const config = JSON.parse(await readFile(model.replace(/\.onnx$/, '.json'), 'utf8'));
  assert.equal(config.threshold, c.best.threshold);
  assert.deepEqual(config.labelThresholds, c.labelThresholds);
  assert.equal(c.validation.errors.length, 1, 'the broken file is reported, not scored');
  const best = c.validation.scan!.reduce((b, x) => (x.macroF1 > b.macroF1 ? x : b));
  assert.equal(c.best.macroF1, best.macroF1);
  // Independently: each label's threshold is the first scanned value with that label's highest F1.
  const insp = await Inspector.load({ model });
  const ds = await manifestDataset(manifest, [...QUALITY_LABELS], 'val');
  const probs: number[] = [];
  const targets: number[] = [];
  for (const s of ds.samples.slice(0, 12)) {
    probs.push(...(await insp.inspect(s.file, { threshold: 0.5 })).scores.map((x) => x.probability));
    targets.push(...s.labels!);
  }
  // Labels without a positive image keep the inspector's threshold before calibration (0.5).
  let unsupported = 0;
  QUALITY_LABELS.forEach((_, k) => {
    const m = SCAN_THRESHOLDS.map((t) => multiLabelMetrics(Float64Array.from(probs), Float32Array.from(targets), [...QUALITY_LABELS], t).perClass[k]!);
    const f1 = m.map((x) => x.f1);
    if (m[0]!.support === 0) unsupported++;
    assert.equal(config.labelThresholds[k], m[0]!.support === 0 ? 0.5 : SCAN_THRESHOLDS[f1.indexOf(Math.max(...f1))]);
  });
  assert.equal(c.validation.unsupportedLabels!.length, unsupported);
  // The reloaded inspector decides each label at its own threshold; an override applies to all.
  const r = await insp.inspect(ds.samples[1]!.file);
  assert.deepEqual(r.thresholds, config.labelThresholds);
  assert.deepEqual(r.labels.map((l) => l.label), r.scores.filter((s, k) => s.probability >= config.labelThresholds[k]).sort((a, b) => b.probability - a.probability).map((s) => s.label));
  assert.deepEqual((await insp.inspect(ds.samples[1]!.file, { threshold: 0.3 })).thresholds, QUALITY_LABELS.map(() => 0.3));
  await insp.dispose();
  await writeFile(model.replace(/\.onnx$/, '.json'), JSON.stringify({ ...config, labelThresholds: [0.5] }));
  // Refused at load, naming the config file and the field (it used to fail on every image, naming the .onnx).
  await assert.rejects(Inspector.load({ model }), /inspector\.json: labelThresholds must be 7 numbers in \(0, 1\), one per label; got \[0\.5\]/);
});

test('per-label tile shares: aggregation, calibration of share and threshold together, config checks', async () => {
  // topMean and tilesAveraged on their own.
  assert.deepEqual(topMean([0.1, 0.9, 0.5, 0.3], 2, [1, 0.2, 0.6, 0]), { probability: 0.7, severity: (0.9 * 0.2 + 0.5 * 0.6) / 1.4 });
  assert.equal(tilesAveraged({ topK: 2, labelTopFraction: [0.25] }, 0, 9), 3);
  assert.equal(tilesAveraged({ topK: 2, labelTopFraction: [1] }, 0, 9), 9);
  assert.equal(tilesAveraged({ topK: 2 }, 0, 9), 2);
  assert.equal(tilesAveraged({ topK: 2, labelTopFraction: [0.25] }, 0, 1), 1);

  const { dir, model } = await tinyInspectorModel();
  const manifest = await smallManifest(dir, 12);
  await writeFile(manifest, (await readFile(manifest, 'utf8')).replace(/"split":"test"/g, '"split":"val"'));
  await assert.rejects(calibrateInspector(model, manifest, { fractions: true }), /fractions .* need perLabel/);
  const c = await calibrateInspector(model, manifest, { perLabel: true, fractions: true, objective: 'label-f1' });
  const config = JSON.parse(await readFile(model.replace(/\.onnx$/, '.json'), 'utf8'));
  assert.deepEqual(config.labelTopFraction, c.labelTopFraction);
  assert.ok(config.labelTopFraction.every((f: number) => (SCAN_FRACTIONS as readonly number[]).includes(f)));
  // Independently: for every label, no (share, threshold) pair beats the chosen one's F1, and the
  // chosen pair's F1 is what the reloaded inspector gets.
  const insp = await Inspector.load({ model });
  const ds = await manifestDataset(manifest, [...QUALITY_LABELS], 'val');
  const samples = ds.samples.slice(0, 12);
  const results: InspectResult[] = [];
  for (const s of samples) results.push(await insp.inspect(s.file));
  const targets = Float32Array.from(samples.flatMap((s) => [...s.labels!]));
  const f1 = (k: number, fraction: number, t: number) => {
    const P = Float32Array.from(results.flatMap((r) => QUALITY_LABELS.map((_, j) => (j === k ? topMean(r.tileProbabilities.map((p) => p[k]!), Math.ceil(fraction * r.tileProbabilities.length)).probability : 0))));
    return multiLabelMetrics(P, targets, [...QUALITY_LABELS], t).perClass[k]!.f1;
  };
  QUALITY_LABELS.forEach((_, k) => {
    const chosen = f1(k, config.labelTopFraction[k], config.labelThresholds[k]);
    for (const f of SCAN_FRACTIONS) for (const t of SCAN_THRESHOLDS) assert.ok(f1(k, f, t) <= chosen + 1e-12, `label ${k}: share ${f} threshold ${t}`);
    // The inspector's own image probability uses the label's share.
    const r = results[1]!;
    const want = topMean(r.tileProbabilities.map((p) => p[k]!), Math.ceil(config.labelTopFraction[k] * r.tileProbabilities.length)).probability;
    assert.ok(Math.abs(r.scores[k]!.probability - want) < 1e-4);
  });
  await insp.dispose();
  await writeFile(model.replace(/\.onnx$/, '.json'), JSON.stringify({ ...config, labelTopFraction: [0.5, 2, 1, 1, 1, 1, 1] }));
  await assert.rejects(Inspector.load({ model }), /labelTopFraction must hold 7 numbers in \(0, 1\], one per label; got \[0\.5,2/);
});

test('calibration refuses a split with no inspectable image or no labelled image and leaves the config unchanged', async () => {
  const { dir, model } = await tinyInspectorModel();
  const cfgFile = model.replace(/\.onnx$/, '.json');
  const before = await readFile(cfgFile, 'utf8');
  const missing = path.join(dir, 'missing.jsonl');
  await writeFile(missing, ['a', 'b'].map((f) => JSON.stringify({ file: `img/${f}.png`, labels: ['noise'], split: 'val' })).join('\n') + '\n');
  await assert.rejects(calibrateInspector(model, missing, { perLabel: true }), /missing\.jsonl: no image of split "val" could be inspected \(2 failed; first: .*file not found\); .*inspector\.json left unchanged/);
  const manifest = await smallManifest(dir, 6);
  const cleanOnly = path.join(dir, 'clean.jsonl');
  const lines = (await readFile(manifest, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { labels: string[]; split: string });
  await writeFile(cleanOnly, lines.filter((l) => l.labels.join() === 'clean').map((l) => JSON.stringify({ ...l, split: 'val' })).join('\n') + '\n');
  await assert.rejects(calibrateInspector(model, cleanOnly, {}), /clean\.jsonl: none of the 2 images of split "val" has a label, so no threshold can be chosen by them; .* left unchanged/);
  assert.equal(await readFile(cfgFile, 'utf8'), before, 'config untouched');
  // A synthesizer output folder stands for its manifest.jsonl; a folder without one is named.
  assert.equal((await calibrateInspector(model, dir, { split: 'test' })).validation.metrics.n, 6);
  await assert.rejects(calibrateInspector(model, path.join(dir, 'img'), {}), /img: a folder without manifest\.jsonl/);
});
