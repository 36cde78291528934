import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { calibrateJointly, ISSUE_BARS, type JointObjective, type LabelRule } from '../../src/quality/joint_calibration.js';
import { crossValidateObjective, groupFolds } from '../../src/quality/objective_cv.js';
import { multiLabelMetrics } from '../../src/train/metrics.js';
import { calibrateInspector, SCAN_THRESHOLDS } from '../../src/quality/calibrate.js';
import { evaluateInspectorOnDataset, pickRows, rowsByLabelCount, scanAggregation } from '../../src/quality/dataset_eval.js';
import { Inspector } from '../../src/quality/inspector.js';
import { QUALITY_LABELS } from '../../src/quality/labels.js';
import { manifestDataset } from '../../src/data/dataset.js';
import { sourcePhotoGroups } from '../../src/data/source_groups.js';
import { tinyInspectorModel } from '../helpers/tiny_inspector.js';
import { Rng } from '../helpers/rng.js';
import { randomPixels } from '../helpers/toy_images.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const BARS: JointObjective = { kind: 'bars', ...ISSUE_BARS };

/** The bars score and its tie key, recomputed with the metrics module on the single and pair rows. */
function barsByMetrics(P: Float32Array | Float64Array, T: Float32Array, classes: string[], thr: number[]): { score: number; tie: number; single: number; pair: number } {
  const K = classes.length;
  const on = (keep: (n: number) => boolean) => {
    const rows = rowsByLabelCount(T, K, keep);
    return multiLabelMetrics(pickRows(P, rows, K), pickRows(T, rows, K), classes, thr);
  };
  const single = on((n) => n <= 1).macroF1;
  const withPairs = on((n) => n >= 2).perClass.filter((p) => p.support > 0);
  const pair = withPairs.reduce((s, p) => s + p.recall, 0) / withPairs.length;
  const a = single / ISSUE_BARS.single;
  const b = pair / ISSUE_BARS.pair;
  return { score: Math.min(a, b), tie: a + b, single, pair };
}

/** Random weak scores over K labels with clean, single and two-label rows; pair rows score lower (a harder case). */
function mixedScores(seed: number, N: number, K: number): { P: Float32Array; T: Float32Array } {
  const rng = new Rng(seed);
  const T = new Float32Array(N * K);
  const P = new Float32Array(N * K);
  for (let i = 0; i < N; i++) {
    const u = rng.next();
    const n = u < 0.3 ? 0 : u < 0.7 ? 1 : 2;
    const first = rng.int(K);
    const second = (first + 1 + rng.int(K - 1)) % K;
    for (let c = 0; c < K; c++) {
      const y = (n >= 1 && c === first) || (n === 2 && c === second);
      T[i * K + c] = y ? 1 : 0;
      const centre = y ? (n === 2 ? 0.5 : 0.65) : 0.35;
      P[i * K + c] = Math.min(1, Math.max(0, centre + 0.45 * (rng.next() + rng.next() - 1)));
    }
  }
  return { P, T };
}

test('bars objective: a hand-made trade where it and with-clean choose differently, each the brute-force best of its own score', () => {
  // Labels a, b; thresholds 0.4 / 0.6. Ten rows each: a alone at 0.7; b alone at 0.7; clean rows,
  // four with a at 0.5; pairs (a, b) with a at 0.5 and b at 0.7. a at 0.6 misses every pair's a
  // but no clean row; a at 0.4 finds them and flags four clean rows.
  const rows: [number, number, number, number][] = []; // [pa, pb, ya, yb]
  for (let i = 0; i < 10; i++) rows.push([0.7, 0, 1, 0], [0, 0.7, 0, 1], [i < 4 ? 0.5 : 0, 0, 0, 0], [0.5, 0.7, 1, 1]);
  const P = Float32Array.from(rows.flatMap((r) => [r[0], r[1]]));
  const T = Float32Array.from(rows.flatMap((r) => [r[2], r[3]]));
  const classes = ['a', 'b'];
  const thresholds = [0.4, 0.6];
  const start: LabelRule[] = [{ threshold: 0.6 }, { threshold: 0.6 }];
  const pairs = thresholds.flatMap((ta) => thresholds.map((tb) => [ta, tb]));
  const best = (f: (thr: number[]) => number) => Math.max(...pairs.map(f));
  const joint = calibrateJointly(new Map([[undefined, P]]), T, 2, thresholds, start);
  const bars = calibrateJointly(new Map([[undefined, P]]), T, 2, thresholds, start, { objective: BARS });
  // By hand: with-clean at a 0.6 = (F1 a 2/3 + F1 b 1 + F1 clean 1) / 3 = 0.8889, at a 0.4 =
  // (10/11 + 1 + 3/4) / 3 = 0.8864; bars at a 0.6 = min(1 / 0.97, 0.5 / 0.9) = 0.5556, at a 0.4 =
  // min((5/6 + 1) / 2 / 0.97, 1 / 0.9) = 0.9450.
  assert.deepEqual(joint.rules.map((r) => r.threshold), [0.6, 0.6]);
  assert.deepEqual(bars.rules.map((r) => r.threshold), [0.4, 0.6]);
  // Brute force over the four rule pairs (b is the same at 0.4 and 0.6): each search reaches its own best.
  assert.ok(Math.abs(best((thr) => multiLabelMetrics(P, T, classes, thr).macroF1WithClean) - joint.score) < 1e-12);
  assert.ok(Math.abs(best((thr) => barsByMetrics(P, T, classes, thr).score) - bars.score) < 1e-12);
  assert.ok(Math.abs(joint.score - 8 / 9) < 1e-12 && joint.score === joint.macroF1WithClean);
  assert.ok(Math.abs(bars.score - (11 / 12) / 0.97) < 1e-12, `${bars.score}`);
  assert.ok(Math.abs(bars.singleMacroF1 - 11 / 12) < 1e-12 && bars.pairRecallMean === 1);
  assert.ok(Math.abs(bars.startScore - 0.5 / 0.9) < 1e-12);
  assert.equal(bars.objective, 'bars');
  assert.equal(bars.cleanKept, 0.6);
  // The with-clean score of the bars rules is reported too: (10/11 + 1 + 3/4) / 3.
  assert.ok(Math.abs(bars.macroF1WithClean - (10 / 11 + 1 + 0.75) / 3) < 1e-12);
  // Under a 70% floor the four clean flags are not allowed: bars falls back to a at 0.6.
  const floored = calibrateJointly(new Map([[undefined, P]]), T, 2, thresholds, start, { objective: BARS, minCleanKept: 0.7 });
  assert.deepEqual(floored.rules.map((r) => r.threshold), [0.6, 0.6]);
  assert.ok(floored.feasible && floored.cleanKept === 1);
});

test('bars objective on random scores: the reported numbers are the metrics module\'s and no one-label change under the floor ranks higher', () => {
  const K = 4;
  const classes = ['a', 'b', 'c', 'd'];
  for (const [seed, floor] of [[7, 0], [8, 0.8]] as const) {
    const { P, T } = mixedScores(seed, 400, K);
    const start: LabelRule[] = classes.map(() => ({ threshold: 0.5 }));
    const j = calibrateJointly(new Map([[undefined, P]]), T, K, SCAN_THRESHOLDS, start, { objective: BARS, minCleanKept: floor });
    const at = (rules: readonly LabelRule[]) => barsByMetrics(P, T, classes, rules.map((r) => r.threshold));
    const mine = at(j.rules);
    assert.ok(j.feasible);
    assert.ok(Math.abs(j.score - mine.score) < 1e-12, `score ${j.score} vs ${mine.score}`);
    assert.ok(Math.abs(j.singleMacroF1 - mine.single) < 1e-12 && Math.abs(j.pairRecallMean - mine.pair) < 1e-12);
    assert.ok(Math.abs(j.macroF1WithClean - multiLabelMetrics(P, T, classes, j.rules.map((r) => r.threshold)).macroF1WithClean) < 1e-12);
    // Without a floor the ascent can only climb from the start (under one, the start may not meet it).
    if (!floor) assert.ok(j.score > j.startScore, `seed ${seed}: ${j.score} vs start ${j.startScore}`);
    for (let c = 0; c < K; c++) {
      for (const t of SCAN_THRESHOLDS) {
        const rules = j.rules.map((r, k) => (k === c ? { threshold: t } : r));
        if (multiLabelMetrics(P, T, classes, rules.map((r) => r.threshold)).clean.recall < floor) continue;
        const x = at(rules);
        assert.ok(x.score < mine.score + 1e-12 && (x.score < mine.score - 1e-12 || x.tie <= mine.tie + 1e-12), `seed ${seed}: label ${c} at ${t} ranks higher`);
      }
    }
    // Balanced: neither side far above the other unless the other cannot rise (the min is the score).
    assert.equal(j.score, Math.min(mine.single / ISSUE_BARS.single, mine.pair / ISSUE_BARS.pair));
  }
});

test('bars objective: bad bars and splits without single or pair rows are named', () => {
  const { P, T } = mixedScores(3, 60, 3);
  const start: LabelRule[] = [0, 1, 2].map(() => ({ threshold: 0.5 }));
  assert.throws(() => calibrateJointly(new Map([[undefined, P]]), T, 3, [0.5], start, { objective: { kind: 'bars', single: 0, pair: 0.9 } }), /expected bars in \(0, 1\] but received single 0, pair 0\.9/);
  // Only clean and single-label rows.
  const rows = rowsByLabelCount(T, 3, (n) => n <= 1);
  assert.throws(
    () => calibrateJointly(new Map([[undefined, pickRows(P, rows, 3)]]), pickRows(T, rows, 3), 3, [0.5], start, { objective: BARS }),
    /the 'bars' objective needs labelled rows with one label and with two or more \(labels with support: 3 single, 0 pair\)/,
  );
});

test('grouped folds keep each group in one fold and are reproducible; cross-validation decides each image with rules that never saw it', () => {
  const groups = Array.from({ length: 90 }, (_, i) => `photo${i % 23}`);
  const f = groupFolds(groups, 5, 1);
  assert.deepEqual(f, groupFolds(groups, 5, 1));
  assert.notDeepEqual(f, groupFolds(groups, 5, 2));
  for (let i = 0; i < groups.length; i++) for (let j = 0; j < groups.length; j++) if (groups[i] === groups[j]) assert.equal(f[i], f[j]);
  const perFold = [0, 1, 2, 3, 4].map((k) => new Set(groups.filter((_, i) => f[i] === k)).size);
  assert.deepEqual(perFold.sort(), [4, 5, 5, 5, 4].sort());
  assert.throws(() => groupFolds(['a', 'b'], 3, 1), /3 folds need at least 3 groups; the split has 2/);
  assert.throws(() => groupFolds(groups, 1, 1), /expected at least 2 folds but received 1/);

  // Cross-validation against the folds redone by hand with calibrateJointly.
  const K = 3;
  const classes = ['a', 'b', 'c'];
  const { P, T } = mixedScores(11, 300, K);
  const P2 = Float64Array.from(P, (v, i) => (i % 2 ? Math.min(1, v * 1.1) : v * 0.9));
  const byShare = new Map([[1, Float64Array.from(P)], [0.5, P2]]);
  const rowGroups = Array.from({ length: 300 }, (_, i) => `g${i % 37}`);
  const folds = groupFolds(rowGroups, 4, 3);
  const cv = crossValidateObjective(byShare, T, classes, SCAN_THRESHOLDS, folds, BARS, 0.6);
  assert.equal(cv.folds, 4);
  const decided = new Float64Array(300 * K);
  for (let k = 0; k < 4; k++) {
    const fit = [...Array(300).keys()].filter((i) => folds[i] !== k);
    const sub = new Map([...byShare].map(([s, A]) => [s, pickRows(A, fit, K)]));
    const start = scanAggregation(sub, pickRows(T, fit, K), classes, SCAN_THRESHOLDS).map(({ fraction, threshold }) => ({ fraction, threshold }));
    const j = calibrateJointly(sub, pickRows(T, fit, K), K, SCAN_THRESHOLDS, start, { objective: BARS, minCleanKept: 0.6 });
    assert.deepEqual(cv.foldRules[k]!.rules, j.rules);
    for (let i = 0; i < 300; i++) if (folds[i] === k) for (let c = 0; c < K; c++) decided[i * K + c] = byShare.get(j.rules[c]!.fraction!)![i * K + c]! >= j.rules[c]!.threshold ? 1 : 0;
  }
  const byHand = barsByMetrics(decided, T, classes, [0.5, 0.5, 0.5]);
  assert.ok(Math.abs(cv.score - byHand.score) < 1e-12 && Math.abs(cv.singleMacroF1 - byHand.single) < 1e-12 && Math.abs(cv.pairRecallMean - byHand.pair) < 1e-12);
  const m = multiLabelMetrics(decided, T, classes, 0.5);
  assert.equal(cv.cleanKept, m.clean.recall);
  assert.ok(Math.abs(cv.macroF1WithClean - m.macroF1WithClean) < 1e-12);
  // Out of fold is below in-sample here (the rules are fitted to weak, noisy scores).
  const start = scanAggregation(byShare, T, classes, SCAN_THRESHOLDS).map(({ fraction, threshold }) => ({ fraction, threshold }));
  const inSample = calibrateJointly(byShare, T, K, SCAN_THRESHOLDS, start, { objective: BARS, minCleanKept: 0.6 });
  assert.ok(cv.score < inSample.score, `out of fold ${cv.score} vs in-sample ${inSample.score}`);
  assert.throws(() => crossValidateObjective(byShare, T, classes, SCAN_THRESHOLDS, folds.slice(1), BARS), /299 fold indices for 300 images/);
});

test('source-photo groups: crops of one photo share a group, dead-leaves images are their own', async () => {
  const { dir } = await tinyInspectorModel();
  const manifest = path.join(dir, 'm.jsonl');
  await writeFile(manifest, [
    { file: 'val/a.png', source: { kind: 'photo', photo: 'p1.jpg' } },
    { file: 'val/b.png', source: { kind: 'photo', photo: 'p1.jpg' } },
    { file: 'val/c.png', source: { kind: 'dead-leaves', seed: 3 } },
  ].map((l) => JSON.stringify({ ...l, labels: ['clean'], split: 'val' })).join('\n') + '\n');
  const g = await sourcePhotoGroups(manifest);
  assert.deepEqual([...g.values()], ['photo:p1.jpg', 'photo:p1.jpg', path.join(dir, 'val/c.png')]);
  assert.deepEqual([...g.keys()], ['a', 'b', 'c'].map((x) => path.join(dir, `val/${x}.png`)));
});

test('calibrate --objective bars writes the bars rules, and the reloaded inspector scores what it reported', async () => {
  const { dir, model } = await tinyInspectorModel();
  const rng = new Rng(5);
  await mkdir(path.join(dir, 'img'), { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < 18; i++) {
    const w = 40 + rng.int(30);
    await randomPixels(w, w, rng).png().toFile(path.join(dir, `img/${i}.png`));
    const a = QUALITY_LABELS[i % QUALITY_LABELS.length]!;
    const b = QUALITY_LABELS[(i + 2) % QUALITY_LABELS.length]!;
    const labels = i % 3 === 0 ? ['clean'] : i % 3 === 1 ? [a] : [a, b];
    lines.push(JSON.stringify({ file: `img/${i}.png`, labels, split: 'val' }));
  }
  const manifest = path.join(dir, 'manifest.jsonl');
  await writeFile(manifest, lines.join('\n') + '\n');
  const c = await calibrateInspector(model, manifest, { perLabel: true, fractions: true, objective: 'bars' });
  const j = c.validation.bestJoint!;
  assert.equal(c.objective, 'bars');
  assert.equal(j.objective, 'bars');
  const config = JSON.parse(await readFile(model.replace(/\.onnx$/, '.json'), 'utf8'));
  assert.deepEqual(config.labelThresholds, j.rules.map((r) => r.threshold));
  assert.deepEqual(config.labelTopFraction, j.rules.map((r) => r.fraction));
  // The written rules, evaluated by the production path: single-problem macro-F1 and pair recall as reported.
  const insp = await Inspector.load({ model });
  const ev = await evaluateInspectorOnDataset(insp, await manifestDataset(manifest, [...QUALITY_LABELS], 'val'));
  await insp.dispose();
  const pairs = ev.multi!.perClass.filter((p) => p.support > 0);
  assert.ok(Math.abs(ev.single!.macroF1 - j.singleMacroF1) < 1e-12, `${ev.single!.macroF1} vs ${j.singleMacroF1}`);
  assert.ok(Math.abs(pairs.reduce((s, p) => s + p.recall, 0) / pairs.length - j.pairRecallMean) < 1e-12);
  assert.ok(Math.abs(ev.metrics.macroF1WithClean - j.macroF1WithClean) < 1e-12);

  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'calibrate', model, '--data', manifest, ...args], { encoding: 'utf8' });
  assert.match(run('--objective', 'bars').stderr, /--objective bars chooses per-label rules; it needs --per-label/);
  const ok = run('--per-label', '--objective', 'bars', '--min-clean-kept', '0.5');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^joint per-label rules: val bar score min\(single macro-F1 \/ 0\.97, pair recall \/ 0\.90\) \d\.\d{4} \(each label's own best\) -> \d\.\d{4} after \d+ rounds from the .* start; clean kept clean \d+\.\d%, floor 50\.0% met$/m);
  assert.match(ok.stdout, /^ {2}at these rules: macro-F1 with clean \d\.\d{4}, single-problem macro-F1 \d\.\d{4}, mean recall on two-problem images \d\.\d{4}$/m);
  await assert.rejects(calibrateInspector(model, manifest, { objective: 'bars' }), /the bars objective chooses per-label rules; it needs perLabel/);
});
