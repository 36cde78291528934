#!/usr/bin/env node
// Operating points of a packaged inspector for the model card (src/quality/operating_points.ts): the
// joint per-label rules (threshold and tile share) chosen on the val split of a manifest without and
// with clean-kept floors, each then scored on the test split. Every image is inspected once.
// --single-start: the single ascent from each label's own best (the search of sessions 8-15);
// --compare-starts: both searches on the same inspected images (the JSON holds both).
// Needs `npm run build`.
//   node scripts/operating_points.mjs models/inspector.onnx ../data/quality-512u.jsonl [0.6,0.7,0.8,0.9] [out.json] [--single-start | --compare-starts]
import { writeFileAtomic } from '../dist/src/util/fs.js';
import { Inspector } from '../dist/src/quality/inspector.js';
import { manifestDataset } from '../dist/src/data/dataset.js';
import { SCAN_THRESHOLDS } from '../dist/src/quality/calibrate.js';
import { collectSplitTiles, operatingPoints } from '../dist/src/quality/operating_points.js';
import { Progress } from '../dist/src/util/progress.js';

const args = process.argv.slice(2);
const flags = ['--single-start', '--compare-starts'];
const searches = args.includes('--compare-starts') ? ['single', 'multi'] : args.includes('--single-start') ? ['single'] : ['multi'];
const [model, manifest, floorList = '0.6,0.7,0.8,0.9', out] = args.filter((a) => !flags.includes(a));
if (!model || !manifest) throw new Error('usage: operating_points.mjs MODEL.onnx MANIFEST.jsonl [floors] [out.json] [--single-start | --compare-starts]');
const floors = floorList.split(',').map(Number);
const inspector = await Inspector.load({ model });
const labels = [...inspector.config.labels];

async function collect(split) {
  const ds = await manifestDataset(manifest, labels, split);
  const bar = new Progress({ total: ds.samples.length, label: split, unit: 'img' });
  const s = await collectSplitTiles(inspector, ds, () => bar.tick());
  bar.finish();
  for (const e of s.errors) console.error(`${e.file}: ${e.error} (left out)`);
  return s;
}
const val = await collect('val');
const test = await collect('test');
await inspector.dispose();
const pct = (v) => `${(100 * v).toFixed(0)}%`;
const result = {};
for (const search of searches) {
  const points = operatingPoints(val, test, labels, SCAN_THRESHOLDS, floors, { multiStart: search === 'multi' });
  result[search] = points;
  console.log(`\njoint search: ${search === 'single' ? "single ascent from each label's own best (sessions 8-15)" : 'several starts'}`);
  console.log(`| clean-kept floor (val) | val: with clean, clean kept | test: macro-F1, with clean | test single: macro-F1, with clean | test clean kept | test recall ${labels.join(' / ')} |`);
  console.log('|---|---|---|---|---|---|');
  for (const p of points) {
    console.log(`| ${p.floor === null ? 'none' : pct(p.floor)}${p.val.feasible ? '' : ' (not met)'} | ${p.val.macroF1WithClean.toFixed(4)}, ${pct(p.val.cleanKept)} | ${p.test.macroF1.toFixed(3)}, ${p.test.macroF1WithClean.toFixed(3)} | ${p.test.singleMacroF1.toFixed(3)}, ${p.test.singleWithClean.toFixed(3)} | ${pct(p.test.cleanKept)} | ${labels.map((l) => p.test.recall[l].toFixed(2)).join(' / ')} |`);
  }
  console.log(`\nrecall on two-label images (val | test), ${labels.join(' / ')}:`);
  for (const p of points) console.log(`  floor ${p.floor === null ? 'none' : pct(p.floor)}: ${labels.map((l) => p.val.multiRecall[l].toFixed(2)).join(' / ')} | ${labels.map((l) => p.test.multiRecall[l].toFixed(2)).join(' / ')}`);
  console.log(`\ntest clean images flagged, by label (${labels.join(' / ')}):`);
  for (const p of points) console.log(`  floor ${p.floor === null ? 'none' : pct(p.floor)}: ${labels.map((l) => pct(p.test.falseAlarms[l])).join(' / ')}; rules ${p.rules.map((r) => `${r.fraction}@${r.threshold}`).join(' ')} (from the ${p.val.start} start)`);
}
if (out) await writeFileAtomic(out, JSON.stringify(searches.length === 1 ? result[searches[0]] : result, null, 2) + '\n');
