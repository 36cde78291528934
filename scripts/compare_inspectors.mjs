#!/usr/bin/env node
// Paired bootstrap comparison of two packaged inspectors on one split of a manifest, each with its
// own shipped rules (src/quality/bootstrap.ts): the macro-F1 with clean of each, their difference
// and its 95% interval over 2,000 resamples of the images, and over 2,000 resamples of the source
// photos (a cluster bootstrap: all crops of a photo drawn together; each dead-leaves image is its
// own unit). Tells whether a val score difference between two candidates is larger than the split
// can resolve. Needs `npm run build`.
//   node scripts/compare_inspectors.mjs A.onnx B.onnx MANIFEST.jsonl [val] [out.json]
import { Inspector } from '../dist/src/quality/inspector.js';
import { promises as fs } from 'node:fs';
import { manifestDataset } from '../dist/src/data/dataset.js';
import { sourcePhotoGroups } from '../dist/src/data/source_groups.js';
import { pairedBootstrap } from '../dist/src/quality/bootstrap.js';
import { writeFileAtomic } from '../dist/src/util/fs.js';
import { Progress } from '../dist/src/util/progress.js';

const [modelA, modelB, manifest, split = 'val', out] = process.argv.slice(2);
if (!modelA || !modelB || !manifest) throw new Error('usage: compare_inspectors.mjs A.onnx B.onnx MANIFEST.jsonl [split] [out.json]');

/**
 * Image probabilities [N, K] (dataset label order = the inspector's) of both inspectors on every
 * sample both can read; an image either fails on is left out for both (the comparison is paired)
 * and reported with its error.
 */
async function pairedProbs(inspA, inspB, ds, groupOf) {
  const groups = [];
  const probsA = [];
  const probsB = [];
  const targets = [];
  const skipped = [];
  const bar = new Progress({ total: ds.samples.length, label: 'A and B', unit: 'img' });
  for (const s of ds.samples) {
    try {
      const ra = await inspA.inspect(s.file);
      const rb = await inspB.inspect(s.file);
      probsA.push(...ra.scores.map((x) => x.probability));
      probsB.push(...rb.scores.map((x) => x.probability));
      targets.push(...s.labels);
      groups.push(groupOf.get(s.file) ?? s.file);
    } catch (err) {
      skipped.push({ file: s.file, error: err instanceof Error ? err.message : String(err) });
    }
    bar.tick();
  }
  bar.finish();
  return { probsA: Float64Array.from(probsA), probsB: Float64Array.from(probsB), targets: Float32Array.from(targets), groups, skipped };
}

const [inspA, inspB] = [await Inspector.load({ model: modelA }), await Inspector.load({ model: modelB })];
// Guard against comparing a model with itself (say, after copying the candidate over the shipped file):
// the same network bytes and the same loaded rules.
const sameNetwork = (await fs.readFile(modelA)).equals(await fs.readFile(modelB));
if (sameNetwork && JSON.stringify(inspA.config) === JSON.stringify(inspB.config)) {
  throw new Error(`${modelA} and ${modelB} are the same model with the same rules (identical .onnx and config): nothing to compare`);
}
const labels = [...inspA.config.labels];
if (inspB.config.labels.join() !== labels.join()) throw new Error(`the two inspectors have different labels (${labels.join(', ')} vs ${inspB.config.labels.join(', ')})`);
const ds = await manifestDataset(manifest, labels, split);
const { probsA, probsB, targets, groups, skipped } = await pairedProbs(inspA, inspB, ds, await sourcePhotoGroups(manifest));
const a = { probs: probsA, thresholds: inspA.thresholds() };
const b = { probs: probsB, thresholds: inspB.thresholds() };
await Promise.all([inspA.dispose(), inspB.dispose()]);
for (const x of skipped) console.error(`skipped (left out for both): ${x.file}: ${x.error}`);
if (targets.length === 0) throw new Error(`no image of the ${split} split of ${manifest} could be read by both inspectors`);
const r = pairedBootstrap(a, b, targets, labels, { iterations: 2000, seed: 1 });
const byPhoto = pairedBootstrap(a, b, targets, labels, { iterations: 2000, seed: 1, groups });
const f = (x) => x.toFixed(4);
console.log(`${split} of ${manifest}, ${r.n} images from ${byPhoto.units} photos or dead-leaves images; macro-F1 with clean: A ${f(r.scoreA)} (${modelA}), B ${f(r.scoreB)} (${modelB})`);
for (const [x, unit] of [[r, 'images'], [byPhoto, 'source photos']]) {
  console.log(`B - A = ${f(x.delta)}, ${Math.round(x.level * 100)}% interval ${f(x.lo)} .. ${f(x.hi)} resampling ${unit}; B higher in ${(100 * x.shareBHigher).toFixed(1)}% of ${x.iterations} resamples`);
}
if (skipped.length) console.log(`${skipped.length} image(s) left out for both (errors above)`);
if (out) await writeFileAtomic(out, JSON.stringify({ modelA, modelB, manifest, split, ...r, byPhoto, skipped }, null, 1));
