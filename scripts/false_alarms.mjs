#!/usr/bin/env node
// Diagnostic for the model card: where an inspector's false alarms come from. For every label it
// counts the images of a split that get the label without having it, by what they do have (clean,
// one label, a pair), and for the labels asked about lists the severities of the true labels of
// those images, so a label called on the wrong images can be traced to a data cause (one
// partner class, low severities) before the data is changed. Needs `npm run build` and a
// synthesized dataset. Writes every image's scores as JSONL when OUT is given.
//   node scripts/false_alarms.mjs DATA/manifest.jsonl [models/inspector.onnx] [test] [motion_blur,defocus_blur] [OUT.jsonl]
import { writeFileAtomic } from '../dist/src/util/fs.js';
import path from 'node:path';
import { Inspector } from '../dist/src/quality/inspector.js';
import { readJsonl } from '../dist/src/io/jsonl.js';

const manifest = path.resolve(process.argv[2] ?? '../data/quality-512/manifest.jsonl');
const model = process.argv[3];
const split = process.argv[4] ?? 'test';
const detail = (process.argv[5] ?? 'motion_blur').split(',').filter(Boolean);
const out = process.argv[6];
const root = path.dirname(manifest);
const rows = (await readJsonl(manifest)).filter((e) => e.split === split);
if (!rows.length) throw new Error(`${manifest}: no rows in split '${split}'`);
const inspector = await Inspector.load(model ? { model } : {});
const labels = inspector.config.labels;
for (const d of detail) if (!labels.includes(d)) throw new Error(`${d}: not a label of this inspector (${labels.join(', ')})`);

const seen = [];
let done = 0;
for (const r of rows) {
  const res = await inspector.inspect(path.resolve(root, r.file));
  const truth = r.labels.filter((l) => l !== 'clean');
  seen.push({ file: r.file, truth, severities: r.severities ?? {}, predicted: res.labels.map((l) => l.label), scores: Object.fromEntries(res.scores.map((s) => [s.label, s.probability])) });
  if (++done % 100 === 0) process.stderr.write(`\r${done}/${rows.length}`);
}
process.stderr.write('\n');
await inspector.dispose();
if (out) await writeFileAtomic(out, seen.map((s) => JSON.stringify(s)).join('\n') + '\n');

const kind = (s) => (s.truth.length === 0 ? 'clean' : s.truth.length === 1 ? s.truth[0] : 'pair');
const kinds = ['clean', ...labels, 'pair'];
console.log(`${rows.length} ${split} images of ${manifest}`);
console.log(`false alarms per predicted label (rows), by what the image has (columns):`);
console.log(`${''.padEnd(14)}${kinds.map((k) => k.slice(0, 8).padStart(9)).join('')}   total  of negatives`);
for (const l of labels) {
  const fp = seen.filter((s) => s.predicted.includes(l) && !s.truth.includes(l));
  const negatives = seen.filter((s) => !s.truth.includes(l)).length;
  console.log(`${l.padEnd(14)}${kinds.map((k) => String(fp.filter((s) => kind(s) === k).length).padStart(9)).join('')}   ${String(fp.length).padStart(5)}  ${negatives}`);
}
for (const l of detail) {
  const fp = seen.filter((s) => s.predicted.includes(l) && !s.truth.includes(l));
  console.log(`\n${l}: ${fp.length} false alarms; true labels and severities:`);
  const byTruth = new Map();
  for (const s of fp) {
    const key = s.truth.length ? s.truth.join('+') : 'clean';
    byTruth.set(key, [...(byTruth.get(key) ?? []), s]);
  }
  for (const [key, g] of [...byTruth].sort((a, b) => b[1].length - a[1].length)) {
    const sev = g.map((s) => s.truth.map((t) => (s.severities[t] ?? 0).toFixed(2)).join('/') || '-').sort().join(' ');
    const p = g.map((s) => s.scores[l]);
    console.log(`  ${String(g.length).padStart(3)}  ${key.padEnd(26)} p ${Math.min(...p).toFixed(2)}-${Math.max(...p).toFixed(2)}  severities ${sev}`);
  }
  const tp = seen.filter((s) => s.predicted.includes(l) && s.truth.includes(l)).length;
  const pos = seen.filter((s) => s.truth.includes(l)).length;
  console.log(`  precision ${(tp / Math.max(1, tp + fp.length)).toFixed(3)}, recall ${(tp / Math.max(1, pos)).toFixed(3)} (${tp} of ${pos})`);
}
