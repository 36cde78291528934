#!/usr/bin/env node
// Which calibration objective to ship, decided on the val split alone (src/quality/objective_cv.ts):
// the joint per-label rules are chosen for each objective (with-clean, bars) under the clean-kept
// floor on all folds of val but one and applied to the fold left out; folds are dealt by source
// photo, repeated for several fold seeds. Prints the pooled out-of-fold scores per objective and
// seed, their means, and the rules each objective picks on the whole split. Every image is
// inspected once; --tiles F keeps the inspected tile probabilities in F (read back when F exists,
// for the same model bytes and manifest). --floor takes a list (e.g. 0.85,0.9,0.95) to compare floors.
// Needs `npm run build`.
//   node scripts/objective_cv.mjs MODEL.onnx MANIFEST.jsonl [--folds 5] [--seeds 1,2,3] [--floor 0.85] [--objectives with-clean,bars] [--tiles F] [--out out.json]
import { parseArgs } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../dist/src/util/fs.js';
import { Inspector } from '../dist/src/quality/inspector.js';
import { manifestDataset } from '../dist/src/data/dataset.js';
import { sourcePhotoGroups } from '../dist/src/data/source_groups.js';
import { SCAN_THRESHOLDS } from '../dist/src/quality/calibrate.js';
import { scanAggregation } from '../dist/src/quality/dataset_eval.js';
import { barsScore, calibrateJointly, ISSUE_BARS } from '../dist/src/quality/joint_calibration.js';
import { collectSplitTiles, probsByShare } from '../dist/src/quality/operating_points.js';
import { crossValidateObjective, groupFolds } from '../dist/src/quality/objective_cv.js';
import { Progress } from '../dist/src/util/progress.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { folds: { type: 'string', default: '5' }, seeds: { type: 'string', default: '1,2,3' }, floor: { type: 'string', default: '0.85' }, objectives: { type: 'string', default: 'with-clean,bars' }, tiles: { type: 'string' }, out: { type: 'string' } } });
const [model, manifest] = positionals;
if (!model || !manifest || positionals.length > 2) throw new Error('usage: objective_cv.mjs MODEL.onnx MANIFEST.jsonl [--folds 5] [--seeds 1,2,3] [--floor 0.85] [--objectives with-clean,bars] [--tiles F] [--out out.json]');
const folds = Number(values.folds);
const seeds = values.seeds.split(',').map(Number);
const floors = values.floor.split(',').map(Number);
if (floors.some((x) => !(x > 0 && x <= 1)) || seeds.some((s) => !Number.isInteger(s))) throw new Error(`bad --floor ${values.floor} or --seeds ${values.seeds}`);
const objectives = values.objectives.split(',').map((kind) => {
  if (kind === 'with-clean') return { kind };
  if (kind === 'bars') return { kind, ...ISSUE_BARS };
  throw new Error(`unknown objective "${kind}" in --objectives (with-clean, bars)`);
});

const inspector = await Inspector.load({ model });
const labels = [...inspector.config.labels];
const ds = await manifestDataset(manifest, labels, 'val');
// The cache is keyed by the network's bytes and config, not the path: a model file replaced in place is a new model.
const modelHash = createHash('sha256').update(readFileSync(model)).update(JSON.stringify(inspector.config)).digest('hex');
let split;
if (values.tiles && existsSync(values.tiles)) {
  const cached = JSON.parse(readFileSync(values.tiles, 'utf8'));
  if (cached.modelHash !== modelHash || cached.manifest !== manifest) throw new Error(`${values.tiles} holds the tiles of ${cached.model} (sha256 ${cached.modelHash ?? 'not recorded'}) on ${cached.manifest}, not of ${model} (${modelHash}) on ${manifest}`);
  split = { tiles: cached.tiles, targets: Float32Array.from(cached.targets), errors: cached.errors };
} else {
  const bar = new Progress({ total: ds.samples.length, label: 'val', unit: 'img' });
  split = await collectSplitTiles(inspector, ds, () => bar.tick());
  bar.finish();
  if (values.tiles) await writeFileAtomic(values.tiles, JSON.stringify({ model, modelHash, manifest, tiles: split.tiles, targets: [...split.targets], errors: split.errors }));
}
await inspector.dispose();
for (const e of split.errors) console.error(`${e.file}: ${e.error} (left out)`);
const failed = new Set(split.errors.map((e) => e.file));
const groupOf = await sourcePhotoGroups(manifest);
const groups = ds.samples.filter((s) => !failed.has(s.file)).map((s) => groupOf.get(s.file) ?? s.file);
const K = labels.length;
const byShare = probsByShare(split, K);
const four = labels.slice(0, 4);
const f = (v) => v.toFixed(4);
const mean4 = (r) => four.reduce((s, l) => s + r.pairRecall[l], 0) / four.length;
const barScore = (r) => barsScore(r.singleMacroF1, r.pairRecallMean, ISSUE_BARS).score;

console.log(`\n${split.tiles.length} val images of ${manifest}, ${new Set(groups).size} source groups; ${folds} folds by source photo, fold seeds ${seeds.join(', ')}; clean-kept floor ${floors.join(', ')}`);
console.log('| objective | floor | fold seed | bar score | single macro-F1 | pair recall mean (7) | pair recall mean (defocus..rain) | with clean | clean kept | folds below floor |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
const results = [];
for (const floor of floors) {
  for (const seed of seeds) {
    const assignment = groupFolds(groups, folds, seed);
    for (const objective of objectives) {
      const t0 = Date.now();
      const r = crossValidateObjective(byShare, split.targets, labels, SCAN_THRESHOLDS, assignment, objective, floor);
      results.push({ floor, seed, ...r, seconds: (Date.now() - t0) / 1000 });
      console.log(`| ${objective.kind} | ${floor} | ${seed} | ${f(barScore(r))} | ${f(r.singleMacroF1)} | ${f(r.pairRecallMean)} | ${f(mean4(r))} | ${f(r.macroF1WithClean)} | ${(100 * r.cleanKept).toFixed(1)}% | ${r.foldRules.filter((x) => !x.feasible).length} |`);
    }
  }
}
console.log('\nmeans over fold seeds:');
for (const floor of floors) {
  for (const objective of objectives) {
    const rs = results.filter((r) => r.objective.kind === objective.kind && r.floor === floor);
    const avg = (g) => rs.reduce((s, r) => s + g(r), 0) / rs.length;
    console.log(`  ${objective.kind}, floor ${floor}: bar score ${f(avg(barScore))}, single ${f(avg((r) => r.singleMacroF1))}, pair mean (7) ${f(avg((r) => r.pairRecallMean))}, (4) ${f(avg(mean4))}, with clean ${f(avg((r) => r.macroF1WithClean))}, clean kept ${(100 * avg((r) => r.cleanKept)).toFixed(1)}%`);
  }
}
const start = scanAggregation(byShare, split.targets, labels, [...SCAN_THRESHOLDS]).map(({ fraction, threshold }) => ({ fraction, threshold }));
const whole = floors.flatMap((floor) => objectives.map((objective) => ({ objective: objective.kind, floor, ...calibrateJointly(byShare, split.targets, K, SCAN_THRESHOLDS, start, { minCleanKept: floor, objective }) })));
console.log('\non the whole split (in-sample, what `calibrate --objective` writes):');
for (const j of whole) {
  console.log(`  ${j.objective}, floor ${j.floor}: score ${f(j.score)}, with clean ${f(j.macroF1WithClean)}, single ${f(j.singleMacroF1)}, pair mean (7) ${f(j.pairRecallMean)}, clean kept ${(100 * j.cleanKept).toFixed(1)}%; rules ${j.rules.map((r, k) => `${labels[k]} ${r.fraction}@${r.threshold}`).join(', ')}`);
}
if (values.out) await writeFileAtomic(values.out, JSON.stringify({ model, manifest, folds, seeds, floors, crossValidated: results, whole }, null, 2) + '\n');
