#!/usr/bin/env node
// Paired bootstrap comparison of two packaged inspectors on one split of a manifest, each with its
// own shipped rules (src/quality/bootstrap.ts): the macro-F1 with clean of each, their difference
// and its 95% interval over 2,000 resamples of the images. Tells whether a val score difference
// between two candidates is larger than the split can resolve. Needs `npm run build`.
//   node scripts/compare_inspectors.mjs A.onnx B.onnx MANIFEST.jsonl [val] [out.json]
import { Inspector } from '../dist/src/quality/inspector.js';
import { manifestDataset } from '../dist/src/data/dataset.js';
import { pairedBootstrap } from '../dist/src/quality/bootstrap.js';
import { writeFileAtomic } from '../dist/src/util/fs.js';
import { Progress } from '../dist/src/util/progress.js';

const [modelA, modelB, manifest, split = 'val', out] = process.argv.slice(2);
if (!modelA || !modelB || !manifest) throw new Error('usage: compare_inspectors.mjs A.onnx B.onnx MANIFEST.jsonl [split] [out.json]');

/** Image probabilities [N, K] (dataset label order = the inspector's) of every sample of `ds`. */
async function imageProbs(inspector, name, ds) {
  const probs = [];
  const bar = new Progress({ total: ds.samples.length, label: name.split('/').slice(-2).join('/'), unit: 'img' });
  for (const s of ds.samples) {
    const r = await inspector.inspect(s.file);
    probs.push(...r.scores.map((x) => x.probability));
    bar.tick();
  }
  bar.finish();
  return Float64Array.from(probs);
}

const [inspA, inspB] = [await Inspector.load({ model: modelA }), await Inspector.load({ model: modelB })];
const labels = [...inspA.config.labels];
if (inspB.config.labels.join() !== labels.join()) throw new Error(`the two inspectors have different labels (${labels.join(', ')} vs ${inspB.config.labels.join(', ')})`);
const ds = await manifestDataset(manifest, labels, split);
const a = { probs: await imageProbs(inspA, modelA, ds), thresholds: inspA.thresholds() };
const b = { probs: await imageProbs(inspB, modelB, ds), thresholds: inspB.thresholds() };
await Promise.all([inspA.dispose(), inspB.dispose()]);
const targets = Float32Array.from(ds.samples.flatMap((s) => Array.from(s.labels)));
const r = pairedBootstrap(a, b, targets, labels, { iterations: 2000, seed: 1 });
const f = (x) => x.toFixed(4);
console.log(`${split} of ${manifest}, ${r.n} images; macro-F1 with clean: A ${f(r.scoreA)} (${modelA}), B ${f(r.scoreB)} (${modelB})`);
console.log(`B - A = ${f(r.delta)}, ${Math.round(r.level * 100)}% interval ${f(r.lo)} .. ${f(r.hi)}; B higher in ${(100 * r.shareBHigher).toFixed(1)}% of ${r.iterations} resamples`);
if (out) await writeFileAtomic(out, JSON.stringify({ modelA, modelB, manifest, split, ...r }, null, 1));
