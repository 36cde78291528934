#!/usr/bin/env node
// Diagnostic for the model card: which synthetic clean images an inspector flags with a label, by
// source (photo or dead leaves), photo decode scale (crop side in photo pixels / image side) and
// the camera finish's noise std, to tell a data cause (finish too close to the label, photo grain
// at native scale) from a model one. Needs `npm run build` and a synthesized dataset.
//   node scripts/diagnose_clean_flags.mjs [../data/quality-512] [noise] [0.35] [models/inspector.onnx]
import path from 'node:path';
import { Inspector } from '../dist/src/quality/inspector.js';
import { readJsonl } from '../dist/src/io/jsonl.js';

const root = path.resolve(process.argv[2] ?? '../data/quality-512');
const label = process.argv[3] ?? 'noise';
const threshold = Number(process.argv[4] ?? 0.35);
const model = process.argv[5];
const rows = (await readJsonl(path.join(root, 'manifest.jsonl')))
  .filter((e) => e.split !== 'train' && e.labels[0] === 'clean');
const inspector = await Inspector.load(model ? { model } : {});
if (!inspector.config.labels.includes(label)) throw new Error(`${label}: not a label of this inspector (${inspector.config.labels.join(', ')})`);
const seen = [];
for (const r of rows) {
  const res = await inspector.inspect(path.resolve(root, r.file));
  const p = res.scores.find((s) => s.label === label).probability;
  seen.push({ kind: r.source.kind, photo: r.source.photo ?? '', scale: r.source.scale ?? null, sigma: (r.finish?.noiseSigma ?? 0) * 255, p });
}
await inspector.dispose();

const flagged = (g) => g.filter((o) => o.p >= threshold).length;
console.log(`${rows.length} clean val/test images of ${root}; ${label} probability (the config's tile share for it) >= ${threshold}`);
const groups = [
  ['dead leaves', (o) => o.kind !== 'photo'],
  ['photo, decode scale < 0.6', (o) => o.kind === 'photo' && o.scale < 0.6],
  ['photo, decode scale 0.6-0.75', (o) => o.kind === 'photo' && o.scale >= 0.6 && o.scale < 0.75],
  ['photo, decode scale >= 0.75', (o) => o.kind === 'photo' && o.scale >= 0.75],
  ['finish noise none', (o) => o.sigma === 0],
  ['finish noise < 1.4/255', (o) => o.sigma > 0 && o.sigma < 1.4],
  ['finish noise >= 1.4/255', (o) => o.sigma >= 1.4],
];
for (const [name, keep] of groups) {
  const g = seen.filter(keep);
  console.log(`  ${name.padEnd(30)} ${String(flagged(g)).padStart(3)} of ${String(g.length).padStart(3)} flagged`);
}
const byPhoto = new Map();
for (const o of seen.filter((x) => x.kind === 'photo')) byPhoto.set(o.photo, [...(byPhoto.get(o.photo) ?? []), o]);
console.log('per photo (flagged of crops, max probability):');
for (const [photo, g] of [...byPhoto].sort((a, b) => flagged(b[1]) - flagged(a[1]) || a[0].localeCompare(b[0]))) {
  console.log(`  ${flagged(g)} of ${g.length}  max ${Math.max(...g.map((o) => o.p)).toFixed(2)}  ${photo}`);
}
