#!/usr/bin/env node
// Paired bootstrap comparison of two packaged inspectors on one split of a manifest, each with its
// own shipped rules (src/quality/bootstrap.ts): the macro-F1 with clean of each, their difference
// and its 95% interval over 2,000 resamples of the images. Tells whether a val score difference
// between two candidates is larger than the split can resolve. Needs `npm run build`.
//   node scripts/compare_inspectors.mjs A.onnx B.onnx MANIFEST.jsonl [val] [out.json]
import { promises as fs } from 'node:fs';
import { Inspector } from '../dist/src/quality/inspector.js';
import { manifestDataset } from '../dist/src/data/dataset.js';
import { pairedBootstrap } from '../dist/src/quality/bootstrap.js';
import { writeFileAtomic } from '../dist/src/util/fs.js';
import { Progress } from '../dist/src/util/progress.js';

const [modelA, modelB, manifest, split = 'val', out] = process.argv.slice(2);
if (!modelA || !modelB || !manifest) throw new Error('usage: compare_inspectors.mjs A.onnx B.onnx MANIFEST.jsonl [split] [out.json]');

/** Image probabilities [N, K] (dataset label order = the inspector's) and the per-label thresholds. */
async function decisions(model, ds) {
  const inspector = await Inspector.load({ model });
  const probs = [];
  const bar = new Progress({ total: ds.samples.length, label: model.split('/').slice(-2).join('/'), unit: 'img' });
  for (const s of ds.samples) {
    const r = await inspector.inspect(s.file);
    probs.push(...r.scores.map((x) => x.probability));
    bar.tick();
  }
  bar.finish();
  const thresholds = inspector.thresholds();
  const labels = [...inspector.config.labels];
  await inspector.dispose();
  return { probs: Float64Array.from(probs), thresholds, labels };
}

const probe = await Inspector.load({ model: modelA });
const labels = [...probe.config.labels];
await probe.dispose();
const ds = await manifestDataset(manifest, labels, split);
const a = await decisions(modelA, ds);
const b = await decisions(modelB, ds);
if (a.labels.join() !== b.labels.join()) throw new Error(`the two inspectors have different labels (${a.labels.join(', ')} vs ${b.labels.join(', ')})`);
const targets = Float32Array.from(ds.samples.flatMap((s) => Array.from(s.labels)));
const r = pairedBootstrap(a, b, targets, labels, { iterations: 2000, seed: 1 });
const f = (x) => x.toFixed(4);
console.log(`${split} of ${manifest}, ${r.n} images; macro-F1 with clean: A ${f(r.scoreA)} (${modelA}), B ${f(r.scoreB)} (${modelB})`);
console.log(`B - A = ${f(r.delta)}, ${Math.round(r.level * 100)}% interval ${f(r.lo)} .. ${f(r.hi)}; B higher in ${(100 * r.shareBHigher).toFixed(1)}% of ${r.iterations} resamples`);
if (out) await writeFileAtomic(out, JSON.stringify({ modelA, modelB, manifest, split, ...r }, null, 1));
