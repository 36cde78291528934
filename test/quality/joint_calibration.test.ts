import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { calibrateJointly, type LabelRule } from '../../src/quality/joint_calibration.js';
import { multiLabelMetrics } from '../../src/train/metrics.js';
import { calibrateInspector, CalibrationError, SCAN_THRESHOLDS } from '../../src/quality/calibrate.js';
import { SCAN_FRACTIONS, topMean } from '../../src/quality/aggregate.js';
import { roundProbability } from '../../src/quality/core.js';
import { Inspector } from '../../src/quality/inspector.js';
import { QUALITY_LABELS, type InspectResult } from '../../src/quality/labels.js';
import { manifestDataset } from '../../src/data/dataset.js';
import { evaluateInspectorOnDataset, probsAtShare, scanAggregation, tilesByLabel } from '../../src/quality/dataset_eval.js';
import { tinyInspectorModel } from '../helpers/tiny_inspector.js';
import { Rng } from '../helpers/rng.js';
import { randomPixels } from '../helpers/toy_images.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

test('metrics score "clean" as a class: counted by hand on four rows', () => {
  const classes = ['a', 'b'];
  // Rows: clean said clean (TP), clean flagged (FN), labelled said clean (FP), labelled flagged.
  const P = Float32Array.from([0.1, 0.2, 0.9, 0.1, 0.2, 0.3, 0.8, 0.9]);
  const T = Float32Array.from([0, 0, 0, 0, 1, 0, 1, 1]);
  const m = multiLabelMetrics(P, T, classes, 0.5);
  assert.deepEqual(m.clean, { label: 'clean', precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
  // a: TP row 3, FP row 1, FN row 2 -> F1 0.5; b: TP row 3 -> F1 1.
  assert.deepEqual(m.perClass.map((p) => p.f1), [0.5, 1]);
  assert.equal(m.macroF1, 0.75);
  assert.ok(Math.abs(m.macroF1WithClean - 2 / 3) < 1e-12);
  // Without clean rows, "with clean" is the label macro-F1.
  const noClean = multiLabelMetrics(P.subarray(4), T.subarray(4), classes, 0.5);
  assert.equal(noClean.clean.support, 0);
  assert.equal(noClean.macroF1WithClean, noClean.macroF1);
});

/** Random probabilities where every label is informative but weak (positives 0.6, negatives 0.4, +-0.5), with clean rows. */
function noisyScores(seed: number, N: number, K: number): { P: Float32Array; T: Float32Array } {
  const rng = new Rng(seed);
  const T = new Float32Array(N * K);
  const P = new Float32Array(N * K);
  for (let i = 0; i < N; i++) {
    const clean = rng.next() < 0.35;
    const first = rng.int(K);
    for (let c = 0; c < K; c++) {
      const y = !clean && (c === first || rng.next() < 0.1);
      T[i * K + c] = y ? 1 : 0;
      P[i * K + c] = Math.min(1, Math.max(0, (y ? 0.6 : 0.4) + 0.5 * (rng.next() + rng.next() - 1)));
    }
  }
  return { P, T };
}

test('joint calibration: never worse than the start and no single label can improve it further', () => {
  const K = 5;
  const classes = ['a', 'b', 'c', 'd', 'e'];
  const { P, T } = noisyScores(3, 300, K);
  // Start: each label's own best threshold (what the 'label-f1' objective ships).
  const start: LabelRule[] = classes.map((_, c) => ({
    threshold: SCAN_THRESHOLDS.reduce((b, t) => (multiLabelMetrics(P, T, classes, t).perClass[c]!.f1 > multiLabelMetrics(P, T, classes, b).perClass[c]!.f1 ? t : b)),
  }));
  const j = calibrateJointly(new Map([[undefined, P]]), T, K, SCAN_THRESHOLDS, start);
  const score = (rules: readonly LabelRule[]) => multiLabelMetrics(P, T, classes, rules.map((r) => r.threshold)).macroF1WithClean;
  assert.ok(Math.abs(j.startMacroF1WithClean - score(start)) < 1e-12);
  assert.ok(Math.abs(j.macroF1WithClean - score(j.rules)) < 1e-12, 'the reported score is the metrics module score');
  assert.ok(j.macroF1WithClean > j.startMacroF1WithClean + 0.01, `joint ${j.macroF1WithClean} vs start ${j.startMacroF1WithClean}`);
  // Coordinate-wise optimum, checked by brute force with the metrics module.
  for (let c = 0; c < K; c++) {
    for (const t of SCAN_THRESHOLDS) {
      const trial = j.rules.map((r, k) => (k === c ? { threshold: t } : r));
      assert.ok(score(trial) <= j.macroF1WithClean + 1e-12, `label ${c} at ${t}`);
    }
  }
  // More clean rows kept clean than with the own-F1 rules, the point of the objective.
  const kept = (rules: readonly LabelRule[]) => multiLabelMetrics(P, T, classes, rules.map((r) => r.threshold)).clean.recall;
  assert.ok(kept(j.rules) > kept(start), `clean kept ${kept(j.rules)} vs ${kept(start)}`);
});

test('a clean-kept floor: the rules meet it, and no single label change that still meets it scores higher', () => {
  const K = 5;
  const classes = ['a', 'b', 'c', 'd', 'e'];
  const { P, T } = noisyScores(3, 300, K);
  const start: LabelRule[] = classes.map(() => ({ threshold: 0.5 }));
  const free = calibrateJointly(new Map([[undefined, P]]), T, K, SCAN_THRESHOLDS, start);
  const floor = Math.min(0.95, free.cleanKept + 0.3);
  const j = calibrateJointly(new Map([[undefined, P]]), T, K, SCAN_THRESHOLDS, start, { minCleanKept: floor });
  const m = (rules: readonly LabelRule[]) => multiLabelMetrics(P, T, classes, rules.map((r) => r.threshold));
  assert.ok(j.feasible && m(j.rules).clean.recall >= floor, `clean kept ${m(j.rules).clean.recall} below floor ${floor}`);
  assert.equal(j.cleanKept, m(j.rules).clean.recall);
  for (let c = 0; c < K; c++) {
    for (const t of SCAN_THRESHOLDS) {
      const trial = m(j.rules.map((r, k) => (k === c ? { threshold: t } : r)));
      if (trial.clean.recall >= floor) assert.ok(trial.macroF1WithClean <= j.macroF1WithClean + 1e-12, `label ${c} at ${t}`);
    }
  }
  // An unreachable floor is reported, not met silently: with only thresholds 0.05 and 0.1 the most
  // clean rows are kept with every label at 0.1, and some are still flagged.
  const hard = calibrateJointly(new Map([[undefined, P]]), T, K, [0.05, 0.1], classes.map(() => ({ threshold: 0.05 })), { minCleanKept: 1 });
  const allAt01 = m(classes.map(() => ({ threshold: 0.1 }))).clean.recall;
  assert.ok(allAt01 < 1);
  assert.equal(hard.feasible, false);
  assert.deepEqual(hard.rules.map((r) => r.threshold), classes.map(() => 0.1));
  assert.equal(hard.cleanKept, allAt01);
  assert.ok(hard.converged);
  assert.throws(() => calibrateJointly(new Map([[undefined, P]]), T, K, [0.5], start, { minCleanKept: Number.NaN }), /expected minCleanKept in \[0, 1\] but received NaN/);
  assert.throws(() => calibrateJointly(new Map([[undefined, P.subarray(0, 10)]]), T, K, [0.5], start), /probabilities for tile share undefined hold 10 values, targets 1500/);
  assert.throws(() => calibrateJointly(new Map([[undefined, P]]), T.subarray(0, 7), K, [0.5], start), /7 targets do not form rows of 5 labels/);
  // A label with no positive row keeps its starting rule and is reported.
  const T0 = T.map((v, i) => (i % K === 2 ? 0 : v));
  const j0 = calibrateJointly(new Map([[undefined, P]]), T0, K, SCAN_THRESHOLDS, classes.map(() => ({ threshold: 0.35 })));
  assert.deepEqual(j0.unsupported, [2]);
  assert.equal(j0.rules[2]!.threshold, 0.35);
  assert.throws(() => calibrateJointly(new Map([[undefined, P.subarray(0, 5)]]), T.subarray(0, 5).map(() => 1), K, [0.5], start, { minCleanKept: 0.5 }), /minCleanKept needs clean rows/);
});

test('under a clean-kept floor the ascent from the strictest rules finds the optimum one start cannot', () => {
  // Two labels on 50 rows, thresholds 0.4 / 0.6 / 0.8, at most 1 of the 10 clean rows flagged.
  // a: 20 positives at 0.7 and clean row 2 at 0.7 (flag a -> lose clean row 2, nothing else).
  // b: 10 positives at 0.7, 10 at 0.5, clean row 0 at 0.5 and clean row 1 at 0.7 (a trade-off).
  // From each label's own best (both at 0.4: 3 clean rows flagged) the climb to the floor first
  // drops a (a at 0.4 or 0.6 would leave 2 flagged), then b settles at 0.6; raising a again would
  // need b at 0.8 first, which alone lowers the score: stuck. From the strictest rules (both at 0.8) a
  // is taken first and b stays off, the best feasible pair.
  const K = 2;
  const classes = ['a', 'b'];
  const rows: [number, number, number, number][] = []; // [pa, pb, ya, yb]
  for (let i = 0; i < 10; i++) rows.push([i === 2 ? 0.7 : 0, i === 0 ? 0.5 : i === 1 ? 0.7 : 0, 0, 0]);
  for (let i = 0; i < 20; i++) rows.push([0.7, 0, 1, 0]);
  for (let i = 0; i < 20; i++) rows.push([0, i < 10 ? 0.7 : 0.5, 0, 1]);
  const P = Float32Array.from(rows.flatMap((r) => [r[0], r[1]]));
  const T = Float32Array.from(rows.flatMap((r) => [r[2], r[3]]));
  const thresholds = [0.4, 0.6, 0.8];
  const start: LabelRule[] = [{ threshold: 0.4 }, { threshold: 0.4 }];
  const probs = new Map([[undefined, P]]);
  const floor = 0.9;
  const m = (ta: number, tb: number) => multiLabelMetrics(P, T, classes, [ta, tb]);
  // Brute force over the 9 rule pairs: the best score among those keeping >= 90% of clean rows.
  const best = Math.max(...thresholds.flatMap((ta) => thresholds.map((tb) => (m(ta, tb).clean.recall >= floor ? m(ta, tb).macroF1WithClean : -1))));
  const one = calibrateJointly(probs, T, K, thresholds, start, { minCleanKept: floor, multiStart: false });
  const multi = calibrateJointly(probs, T, K, thresholds, start, { minCleanKept: floor });
  assert.deepEqual(one.rules.map((r) => r.threshold), [0.8, 0.6]);
  assert.ok(one.feasible && one.macroF1WithClean < best - 0.1, `one start ${one.macroF1WithClean} vs best ${best}`);
  assert.equal(one.starts.length, 1);
  assert.ok(multi.feasible);
  assert.ok(Math.abs(multi.macroF1WithClean - best) < 1e-12, `multi-start ${multi.macroF1WithClean} vs best ${best}`);
  assert.ok(Math.abs(multi.macroF1WithClean - m(multi.rules[0]!.threshold, multi.rules[1]!.threshold).macroF1WithClean) < 1e-12);
  assert.equal(multi.rules[1]!.threshold, 0.8);
  assert.equal(multi.start, 'strictest');
  assert.deepEqual(multi.starts.map((s) => s.start), ['given', 'unconstrained optimum', 'strictest']);
  assert.ok(Math.abs(multi.starts[0]!.macroF1WithClean - one.macroF1WithClean) < 1e-12, 'the first start is the single ascent');
  // Never below the single ascent, on random scores with and without a floor.
  for (const seed of [3, 4, 5]) {
    const r = noisyScores(seed, 300, 5);
    const s5 = Array.from({ length: 5 }, () => ({ threshold: 0.5 }));
    for (const minCleanKept of [0, 0.8]) {
      const a = calibrateJointly(new Map([[undefined, r.P]]), r.T, 5, SCAN_THRESHOLDS, s5, { minCleanKept, multiStart: false });
      const b = calibrateJointly(new Map([[undefined, r.P]]), r.T, 5, SCAN_THRESHOLDS, s5, { minCleanKept });
      assert.ok(b.feasible >= a.feasible && (b.feasible !== a.feasible || b.macroF1WithClean >= a.macroF1WithClean - 1e-12), `seed ${seed} floor ${minCleanKept}`);
    }
  }
});

test('joint calibration over tile shares picks each label a share from the map; bad input is named', () => {
  const K = 2;
  const { P: P1, T } = noisyScores(5, 120, K);
  const P2 = P1.map((v, i) => (i % 2 ? Math.min(1, v * 1.2) : v * 0.8));
  const j = calibrateJointly(new Map([[1, P1], [0.5, P2]]), T, K, [0.3, 0.5, 0.7], [{ fraction: 1, threshold: 0.5 }, { fraction: 1, threshold: 0.5 }]);
  assert.ok(j.rules.every((r) => r.fraction === 1 || r.fraction === 0.5));
  const P = Float32Array.from({ length: P1.length }, (_, i) => (j.rules[i % K]!.fraction === 1 ? P1 : P2)[i]!);
  assert.ok(Math.abs(multiLabelMetrics(P, T, ['a', 'b'], j.rules.map((r) => r.threshold)).macroF1WithClean - j.macroF1WithClean) < 1e-12);
  assert.throws(() => calibrateJointly(new Map([[1, P1]]), T, K, [0.5], [{ fraction: 0.25, threshold: 0.5 }, { fraction: 1, threshold: 0.5 }]), /no probabilities for tile share 0\.25/);
  assert.throws(() => calibrateJointly(new Map([[1, P1]]), T, K, [0.5], [{ threshold: 0.5 }]), /expected 2 starting rules but received 1/);
});

/**
 * `n` random square PNGs (side `side[0]` + 0..`side[1]`-1 px) in dir/img, and a val manifest with
 * one line per label set that `labelSets(i)` gives for image i.
 */
async function randomValManifest(dir: string, o: { n: number; seed: number; side: [number, number] }, labelSets: (i: number) => string[][]): Promise<string> {
  const rng = new Rng(o.seed);
  await mkdir(path.join(dir, 'img'), { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < o.n; i++) {
    const w = o.side[0] + rng.int(o.side[1]);
    await randomPixels(w, w, rng).png().toFile(path.join(dir, `img/${i}.png`));
    for (const labels of labelSets(i)) lines.push(JSON.stringify({ file: `img/${i}.png`, labels, split: 'val' }));
  }
  const manifest = path.join(dir, 'manifest.jsonl');
  await writeFile(manifest, lines.join('\n') + '\n');
  return manifest;
}

test('calibrateInspector with the default objective writes the joint rules, and they score what it says', async () => {
  const { dir, model } = await tinyInspectorModel();
  const manifest = await randomValManifest(dir, { n: 16, seed: 21, side: [40, 70] }, (i) => [i % 3 === 0 ? ['clean'] : [QUALITY_LABELS[i % QUALITY_LABELS.length]!]]);
  const c = await calibrateInspector(model, manifest, { perLabel: true, fractions: true });
  assert.equal(c.objective, 'with-clean');
  const config = JSON.parse(await readFile(model.replace(/\.onnx$/, '.json'), 'utf8'));
  assert.deepEqual(config.labelThresholds, c.validation.bestJoint!.rules.map((r) => r.threshold));
  assert.deepEqual(config.labelTopFraction, c.validation.bestJoint!.rules.map((r) => r.fraction));
  assert.ok(config.labelTopFraction.every((f: number) => (SCAN_FRACTIONS as readonly number[]).includes(f)));
  // Independently: the reloaded inspector's decisions on the same files give the reported score.
  const insp = await Inspector.load({ model });
  const ds = await manifestDataset(manifest, [...QUALITY_LABELS], 'val');
  const results: InspectResult[] = [];
  for (const s of ds.samples) results.push(await insp.inspect(s.file));
  await insp.dispose();
  // With the written shares the inspector reports these probabilities itself, and decides on them.
  const P = Float64Array.from(results.flatMap((r) => r.scores.map((s) => s.probability)));
  const byHand = results.flatMap((r) => QUALITY_LABELS.map((_, k) => roundProbability(topMean(r.tileProbabilities.map((p) => p[k]!), Math.ceil(config.labelTopFraction[k] * r.tileProbabilities.length)).probability)));
  assert.deepEqual([...P], byHand);
  const T = Float32Array.from(ds.samples.flatMap((s) => [...s.labels!]));
  const m = multiLabelMetrics(P, T, [...QUALITY_LABELS], config.labelThresholds);
  // Same decisions, so the same score up to the order of the float sums.
  assert.ok(Math.abs(m.macroF1WithClean - c.validation.bestJoint!.macroF1WithClean) < 1e-12, `${m.macroF1WithClean} vs ${c.validation.bestJoint!.macroF1WithClean}`);
  assert.ok(c.validation.bestJoint!.macroF1WithClean >= c.validation.bestJoint!.startMacroF1WithClean);

  // CLI: the objective is validated and reported.
  const ck = path.join(dir, 'none.safetensors');
  const bad = spawnSync(process.execPath, [cli, 'package-inspector', '--checkpoint', ck, '--out', path.join(dir, 'x.onnx'), '--calibrate', manifest, '--objective', 'recall'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /expected label-f1, with-clean, bars for --objective but received "recall"/);
  const noCal = spawnSync(process.execPath, [cli, 'package-inspector', '--checkpoint', ck, '--out', path.join(dir, 'x.onnx'), '--objective', 'label-f1'], { encoding: 'utf8' });
  assert.match(noCal.stderr, /--objective needs --calibrate/);

  // `attnvision calibrate` re-calibrates the packaged model in place, here with the other objective.
  const cal = spawnSync(process.execPath, [cli, 'calibrate', model, '--data', manifest, '--per-label', '--per-label-tiles', '--objective', 'label-f1'], { encoding: 'utf8' });
  assert.equal(cal.status, 0, cal.stderr);
  assert.match(cal.stdout, /^threshold 0\.\d+ \(label-f1\): val macro-F1 \d\.\d{4}, with clean \d\.\d{4}, clean kept clean \d+\.\d%$/m);
  assert.match(cal.stdout, /^per-label tile shares: defocus_blur (0\.25|0\.5|1), motion_blur/m);
  const own = await calibrateInspector(model, manifest, { perLabel: true, fractions: true, objective: 'label-f1' });
  const after = JSON.parse(await readFile(model.replace(/\.onnx$/, '.json'), 'utf8'));
  assert.deepEqual(after.labelTopFraction, own.labelTopFraction);
  assert.deepEqual(after.labelThresholds, own.labelThresholds);
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'calibrate', ...args], { encoding: 'utf8' });
  assert.match(run(model).stderr, /calibrate: --data manifest\.jsonl is required/);
  assert.match(run(model, model, '--data', manifest).stderr, /calibrate: unexpected argument "[^"]*inspector\.onnx" \(see attnvision calibrate --help\)/);
  assert.match(run(model, '--data', manifest, '--per-label-tiles').stderr, /--per-label-tiles needs --per-label/);
  assert.match(run(path.join(dir, 'missing.onnx'), '--data', manifest).stderr, /missing\.(onnx|json)/);
  assert.match(run(model, '--data', manifest, '--min-clean-kept', '0.8').stderr, /--min-clean-kept needs --per-label and the with-clean or bars objective/);
  assert.match(run(model, '--data', manifest, '--per-label', '--min-clean-kept', '1.5').stderr, /expected a number in \[0\.01, 1\] for --min-clean-kept but received "1\.5"/);
  const floored = run(model, '--data', manifest, '--per-label', '--min-clean-kept', '0.75');
  assert.equal(floored.status, 0, floored.stderr);
  const [, keptPct] = /clean kept clean (\d+\.\d)%, floor 75\.0% met/.exec(floored.stdout)!;
  assert.ok(Number(keptPct) >= 75);

  // Without --per-label-tiles the config's tile shares stay (the scan aggregated with them).
  const shares = [0.25, 1, 1, 0.5, 1, 1, 1];
  await writeFile(model.replace(/\.onnx$/, '.json'), JSON.stringify({ ...after, labelTopFraction: shares }));
  const keep = run(model, '--data', manifest, '--per-label');
  assert.equal(keep.status, 0, keep.stderr);
  assert.deepEqual(JSON.parse(await readFile(model.replace(/\.onnx$/, '.json'), 'utf8')).labelTopFraction, shares);
});

test('calibration: labels the split lacks keep their rules, and an unreachable floor writes nothing', async () => {
  const { dir, model } = await tinyInspectorModel();
  // Only defocus and noise images besides clean.
  const manifest = await randomValManifest(dir, { n: 12, seed: 8, side: [48, 40] }, (i) => [[i % 2 ? 'defocus_blur' : 'noise'], ['clean']]);
  const configPath = model.replace(/\.onnx$/, '.json');
  const config = JSON.parse(await readFile(configPath, 'utf8'));
  await writeFile(configPath, JSON.stringify({ ...config, labelThresholds: [0.5, 0.61, 0.5, 0.62, 0.63, 0.64, 0.65], labelTopFraction: [1, 0.5, 1, 0.25, 1, 1, 1] }));
  const c = await calibrateInspector(model, manifest, { perLabel: true, fractions: true });
  assert.deepEqual(c.validation.unsupportedLabels, ['motion_blur', 'rain', 'haze', 'low_light', 'jpeg']);
  const written = JSON.parse(await readFile(configPath, 'utf8'));
  assert.deepEqual([1, 3, 4, 5, 6].map((k) => written.labelThresholds[k]), [0.61, 0.62, 0.63, 0.64, 0.65]);
  assert.deepEqual([1, 3, 4, 5, 6].map((k) => written.labelTopFraction[k]), [0.5, 0.25, 1, 1, 1]);
  const warned = spawnSync(process.execPath, [cli, 'calibrate', model, '--data', manifest, '--per-label'], { encoding: 'utf8' });
  assert.match(warned.stderr, /warning: no val image has motion_blur, rain, haze, low_light, jpeg; their thresholds are kept\n/);
  const tiles = spawnSync(process.execPath, [cli, 'calibrate', model, '--data', manifest, '--per-label', '--per-label-tiles'], { encoding: 'utf8' });
  assert.match(tiles.stderr, /their thresholds are kept \(tile shares too when the config's is 0\.25, 0\.5 or 1; otherwise all tiles\)/);
  const global = spawnSync(process.execPath, [cli, 'calibrate', model, '--data', manifest], { encoding: 'utf8' });
  assert.match(global.stderr, /jpeg; the global threshold is chosen without them/);

  // Every label at probability sigmoid(4) = 0.982 on every image: no scanned threshold (<= 0.95)
  // keeps any clean image clean, so a floor cannot be met; nothing is written, the CLI exits 1.
  const sure = await tinyInspectorModel({ presenceLogit: 4 });
  const sureConfig = sure.model.replace(/\.onnx$/, '.json');
  const before = await readFile(sureConfig, 'utf8');
  await assert.rejects(calibrateInspector(sure.model, manifest, { perLabel: true, minCleanKept: 0.5 }), (e: Error) => {
    assert.ok(e instanceof CalibrationError, String(e));
    assert.match(e.message, /clean-kept floor 50\.0% cannot be met on split "val": the best rules found keep 0\.0% of its clean images clean; .*inspector\.json left unchanged/);
    return true;
  });
  assert.equal(await readFile(sureConfig, 'utf8'), before);
  const failed = spawnSync(process.execPath, [cli, 'calibrate', sure.model, '--data', manifest, '--per-label', '--min-clean-kept', '0.5'], { encoding: 'utf8' });
  assert.equal(failed.status, 1);
  assert.match(failed.stderr, /cannot be met/);
  assert.equal(await readFile(sureConfig, 'utf8'), before);
});

test('inspector evaluation and calibration reject manifest labels the inspector does not know; training subsets drop them', async () => {
  const { dir, model } = await tinyInspectorModel();
  await mkdir(path.join(dir, 'img'), { recursive: true });
  await sharp({ create: { width: 40, height: 40, channels: 3, background: '#777' } }).png().toFile(path.join(dir, 'img/a.png'));
  const manifest = path.join(dir, 'manifest.jsonl');
  await writeFile(manifest, [
    JSON.stringify({ file: 'img/a.png', labels: ['clean'], split: 'val' }),
    JSON.stringify({ file: 'img/a.png', labels: ['noise', 'snow'], split: 'val' }),
  ].join('\n') + '\n');
  await assert.rejects(manifestDataset(manifest, [...QUALITY_LABELS], 'val', { strictLabels: true }), /manifest\.jsonl:2: label "snow" is not one of defocus_blur, .*, jpeg \(or clean\)/);
  const loose = await manifestDataset(manifest, ['noise'], 'val');
  assert.deepEqual(loose.samples.map((x) => [...x.labels!]), [[0], [1]]);
  await assert.rejects(calibrateInspector(model, manifest, { perLabel: true }), /manifest\.jsonl:2: label "snow" is not one of/);
  const ev = spawnSync(process.execPath, [cli, 'eval', '--inspector', model, '--data', manifest, '--split', 'val'], { encoding: 'utf8' });
  assert.equal(ev.status, 1);
  assert.match(ev.stderr, /manifest\.jsonl:2: label "snow" is not one of/);
  const subset = spawnSync(process.execPath, [cli, 'eval', '--inspector', model, '--data', manifest, '--split', 'val', '--labels', 'noise'], { encoding: 'utf8' });
  assert.equal(subset.status, 0, subset.stderr);
});

test('calibration decides a probability that falls exactly on a threshold as the inspector does', async () => {
  // Every tile of every image at sigmoid(logit(0.35)), reported as exactly 0.35 (4 decimals).
  const { dir, model } = await tinyInspectorModel({ presenceLogit: Math.log(0.35 / 0.65) });
  const manifest = await randomValManifest(dir, { n: 6, seed: 3, side: [40, 60] }, (i) => [i % 2 ? ['noise'] : ['clean']]);
  const insp = await Inspector.load({ model });
  const ds = await manifestDataset(manifest, [...QUALITY_LABELS], 'val');
  const r = await insp.inspect(ds.samples[0]!.file, { threshold: 0.35 });
  assert.ok(r.scores.every((s) => s.probability === 0.35) && r.labels.length === QUALITY_LABELS.length && !r.clean);
  // The inspector flags every image, so at 0.35 no clean image is kept and noise is always found.
  const e = await evaluateInspectorOnDataset(insp, ds, { threshold: 0.35, scan: [0.3, 0.35, 0.4], fractions: SCAN_FRACTIONS });
  assert.equal(e.cleanKept, 0);
  assert.equal(e.metrics.perClass[QUALITY_LABELS.indexOf('noise')]!.recall, 1);
  // Recomputed per tile share, the image probabilities are the reported value, not a float32 below it.
  const shares = probsAtShare([r, r].map(tilesByLabel), [0, 2], 0.5);
  assert.deepEqual([...shares], [0.35, 0.35, 0.35, 0.35]);
  // In the share scan, 0.35 still finds noise on every noise image (F1 2/3, as at 0.3; 0 at 0.4).
  const scan = scanAggregation(new Map([[0.5, shares]]), Float32Array.from([0, 1, 0, 0]), ['defocus_blur', 'noise'], [0.35, 0.4]);
  assert.deepEqual(scan.map((x) => x.threshold), [0.35, 0.35]);
  assert.ok(Math.abs(scan[1]!.f1 - 2 / 3) < 1e-12, String(scan[1]!.f1));
  await insp.dispose();
});
