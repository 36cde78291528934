#!/usr/bin/env node
// Operating points of a packaged inspector for the model card: the joint per-label rules
// (threshold and tile share) chosen on the val split of a manifest without and with clean-kept
// floors, each then scored on the test split. Every image is inspected once; the rules are applied
// to the cached tile probabilities, exactly as the inspector aggregates them. Needs `npm run build`.
//   node scripts/operating_points.mjs models/inspector.onnx ../data/quality-512/manifest.jsonl [0.6,0.7,0.8,0.9] [out.json]
import { writeFileAtomic } from '../dist/src/util/fs.js';
import { Inspector } from '../dist/src/quality/inspector.js';
import { manifestDataset } from '../dist/src/data/dataset.js';
import { SCAN_FRACTIONS } from '../dist/src/quality/aggregate.js';
import { SCAN_THRESHOLDS } from '../dist/src/quality/calibrate.js';
import { calibrateJointly } from '../dist/src/quality/joint_calibration.js';
import { probsAtShare, scanAggregation, tilesByLabel } from '../dist/src/quality/dataset_eval.js';
import { multiLabelMetrics } from '../dist/src/train/metrics.js';
import { Progress } from '../dist/src/util/progress.js';

const [model, manifest, floorList = '0.6,0.7,0.8,0.9', out] = process.argv.slice(2);
if (!model || !manifest) throw new Error('usage: operating_points.mjs MODEL.onnx MANIFEST.jsonl [floors] [out.json]');
const floors = floorList.split(',').map(Number);
if (floors.some((f) => !(f > 0 && f <= 1))) throw new Error(`expected floors in (0, 1] but received "${floorList}"`);
const inspector = await Inspector.load({ model });
const labels = [...inspector.config.labels];
const index = labels.map((_, k) => k);

/** Tile probabilities and targets of every readable image of a split. */
async function collect(split) {
  const ds = await manifestDataset(manifest, labels, split);
  const bar = new Progress({ total: ds.samples.length, label: split, unit: 'img' });
  const tiles = [];
  const targets = [];
  for (const s of ds.samples) {
    try {
      const r = await inspector.inspect(s.file);
      tiles.push(tilesByLabel(r));
      targets.push(...s.labels);
    } catch (e) {
      console.error(`${s.file}: ${e.message} (left out)`);
    }
    bar.tick();
  }
  bar.finish();
  return { tiles, T: Float32Array.from(targets) };
}

const val = await collect('val');
const test = await collect('test');
await inspector.dispose();
const K = labels.length;
const shares = (d) => new Map(SCAN_FRACTIONS.map((f) => [f, probsAtShare(d.tiles, index, f)]));
const valShares = shares(val);
const testShares = shares(test);
const start = scanAggregation(valShares, val.T, labels, SCAN_THRESHOLDS).map(({ fraction, threshold }) => ({ fraction, threshold }));

/** [N, K] probabilities of a split under per-label rules. */
const apply = (byShare, rules, N) => Float64Array.from({ length: N * K }, (_, i) => byShare.get(rules[i % K].fraction)[i]);
/** Rows with at most one label. */
const single = (P, T) => {
  const rows = [...Array(T.length / K).keys()].filter((i) => T.subarray(i * K, (i + 1) * K).reduce((s, v) => s + v, 0) <= 1);
  const pick = (a) => a.constructor.from(rows.flatMap((i) => [...a.subarray(i * K, (i + 1) * K)]));
  return [pick(P), pick(T)];
};

const points = [];
for (const floor of [undefined, ...floors]) {
  const j = calibrateJointly(valShares, val.T, K, SCAN_THRESHOLDS, start, { minCleanKept: floor });
  const thr = j.rules.map((r) => r.threshold);
  const Pt = apply(testShares, j.rules, test.tiles.length);
  const m = multiLabelMetrics(Pt, test.T, labels, thr);
  const s = multiLabelMetrics(...single(Pt, test.T), labels, thr);
  // On the test split's clean images: the share each label flags (false alarms by label).
  const cleanRows = [...Array(test.tiles.length).keys()].filter((i) => test.T.subarray(i * K, (i + 1) * K).every((v) => v < 0.5));
  const falseAlarms = Object.fromEntries(labels.map((l, k) => [l, cleanRows.filter((i) => Pt[i * K + k] >= thr[k]).length / cleanRows.length]));
  points.push({
    floor: floor ?? null,
    rules: j.rules,
    val: { macroF1WithClean: j.macroF1WithClean, cleanKept: j.cleanKept, feasible: j.feasible },
    test: { macroF1: m.macroF1, macroF1WithClean: m.macroF1WithClean, cleanKept: m.clean.recall, singleMacroF1: s.macroF1, singleWithClean: s.macroF1WithClean, recall: Object.fromEntries(m.perClass.map((p) => [p.label, p.recall])), falseAlarms },
  });
}

const pct = (v) => `${(100 * v).toFixed(0)}%`;
console.log(`| clean-kept floor (val) | val: with clean, clean kept | test: macro-F1, with clean | test single: macro-F1, with clean | test clean kept | test recall ${labels.join(' / ')} |`);
console.log('|---|---|---|---|---|---|');
for (const p of points) {
  console.log(`| ${p.floor === null ? 'none' : pct(p.floor)}${p.val.feasible ? '' : ' (not met)'} | ${p.val.macroF1WithClean.toFixed(3)}, ${pct(p.val.cleanKept)} | ${p.test.macroF1.toFixed(3)}, ${p.test.macroF1WithClean.toFixed(3)} | ${p.test.singleMacroF1.toFixed(3)}, ${p.test.singleWithClean.toFixed(3)} | ${pct(p.test.cleanKept)} | ${labels.map((l) => p.test.recall[l].toFixed(2)).join(' / ')} |`);
}
console.log(`\ntest clean images flagged, by label (${labels.join(' / ')}):`);
for (const p of points) console.log(`  floor ${p.floor === null ? 'none' : pct(p.floor)}: ${labels.map((l) => pct(p.test.falseAlarms[l])).join(' / ')}; rules ${p.rules.map((r) => `${r.fraction}@${r.threshold}`).join(' ')}`);
if (out) await writeFileAtomic(out, JSON.stringify(points, null, 2) + '\n');
