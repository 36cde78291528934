#!/usr/bin/env node
// Diagnostic for the model card: would a second, downscaled view help find blur that noise hides?
// Inspects every image of a split again after downscaling it by FACTOR (noise averages out faster
// than a wide blur shrinks), then scores the rule "blur if the native rules say so, or the coarse
// view's probability reaches T" for each T, against the native rules alone, from the per-image
// scores that scripts/false_alarms.mjs writes (NATIVE.jsonl). Needs `npm run build`.
//   node scripts/coarse_view_blur.mjs DATA/manifest.jsonl NATIVE.jsonl [models/inspector.onnx] [val] [0.5]
import path from 'node:path';
import sharp from 'sharp';
import { Inspector } from '../dist/src/quality/inspector.js';
import { readJsonl } from '../dist/src/io/jsonl.js';

const [manifestArg, nativeArg, model, split = 'val', factorArg = '0.5'] = process.argv.slice(2);
if (!manifestArg || !nativeArg) throw new Error('usage: node scripts/coarse_view_blur.mjs DATA/manifest.jsonl NATIVE.jsonl [model] [split] [factor]');
const factor = Number(factorArg);
if (!(factor > 0 && factor < 1)) throw new Error(`factor: expected a number in (0, 1), got ${factorArg}`);
const manifest = path.resolve(manifestArg);
const root = path.dirname(manifest);
const rows = (await readJsonl(manifest)).filter((e) => e.split === split);
const native = new Map((await readJsonl(nativeArg)).map((r) => [r.file, r]));
const missing = rows.filter((r) => !native.has(r.file));
if (missing.length) throw new Error(`${nativeArg}: no native scores for ${missing.length} images of split '${split}' (first ${missing[0].file}); run scripts/false_alarms.mjs on the same manifest and split`);

const inspector = await Inspector.load(model ? { model } : {});
const coarse = new Map();
for (const r of rows) {
  const file = path.resolve(root, r.file);
  const img = sharp(file);
  const meta = await img.metadata();
  const small = await img.resize(Math.round(meta.width * factor), Math.round(meta.height * factor), { kernel: 'cubic' }).png().toBuffer();
  const res = await inspector.inspect(small);
  coarse.set(r.file, Object.fromEntries(res.scores.map((s) => [s.label, s.probability])));
  if (coarse.size % 100 === 0) process.stderr.write(`\r${coarse.size}/${rows.length}`);
}
process.stderr.write('\n');
await inspector.dispose();

const blurs = ['defocus_blur', 'motion_blur'];
const score = (fires) => blurs.map((b) => {
  const n = { single: 0, singleHit: 0, pair: 0, pairHit: 0, noisePair: 0, noisePairHit: 0, fa: 0, cleanFa: 0 };
  for (const r of rows) {
    const s = native.get(r.file);
    const on = fires(b, s, coarse.get(r.file));
    if (!s.truth.includes(b)) {
      n.fa += on;
      if (!s.truth.length) n.cleanFa += on;
    } else if (s.truth.length === 1) {
      n.single++;
      n.singleHit += on;
    } else {
      n.pair++;
      n.pairHit += on;
      if (s.truth.includes('noise')) {
        n.noisePair++;
        n.noisePairHit += on;
      }
    }
  }
  return `${b.padEnd(13)} single ${(n.singleHit / n.single).toFixed(2)}  pairs ${(n.pairHit / n.pair).toFixed(2)}  with noise ${n.noisePairHit}/${n.noisePair}  false alarms ${String(n.fa).padStart(3)} (clean ${n.cleanFa})`;
});
console.log(`${rows.length} ${split} images of ${manifest}; coarse view at ${factor}x`);
console.log('native rules:');
for (const line of score((b, s) => s.predicted.includes(b))) console.log(`  ${line}`);
for (const t of [0.5, 0.6, 0.7, 0.8, 0.9]) {
  console.log(`native rules, or coarse probability >= ${t}:`);
  for (const line of score((b, s, c) => s.predicted.includes(b) || c[b] >= t)) console.log(`  ${line}`);
}
