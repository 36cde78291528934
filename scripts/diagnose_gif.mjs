#!/usr/bin/env node
// Diagnostic for the model card: what the inspector says about single-problem synthetic validation
// images (defocus blur, motion blur, clean) as they are and after a 256-colour GIF round trip
// (io.ts encodeGif, the synthesizer's GIF finish) with and without error diffusion. Tests whether
// palette images (web GIFs, the dual-pixel defocus GIF frames of the real set) hide blur or read as
// noise. Needs `npm run build` and a synthetic dataset with a manifest.
//   node scripts/diagnose_gif.mjs [DATASET.jsonl|DIR] [40] [--model FILE.onnx]
import fs from 'node:fs';
import path from 'node:path';
import { Inspector } from '../dist/src/quality/inspector.js';
import { readImage, encodePng, encodeGif } from '../dist/src/image/io.js';
import { readJsonl } from '../dist/src/io/jsonl.js';

const args = process.argv.slice(2);
const modelAt = args.indexOf('--model');
const modelPath = modelAt >= 0 ? args.splice(modelAt, 2)[1] : undefined;
const source = path.resolve(args[0] ?? '../data/quality');
const n = Number(args[1] ?? 40);
// A manifest file's entries name files relative to its folder; a dataset folder holds manifest.jsonl.
const manifest = fs.statSync(source).isDirectory() ? path.join(source, 'manifest.jsonl') : source;
const single = (await readJsonl(manifest)).filter((e) => e.split === 'val' && e.labels.length === 1);
const modes = [
  { name: 'as is', gif: null },
  { name: 'gif, dither 1', gif: 1 },
  { name: 'gif, dither 0', gif: 0 },
];

const inspector = await Inspector.load(modelPath ? { model: modelPath } : {});
console.log(`single-problem validation images from ${manifest}; labels given by ${modelPath ?? 'the shipped inspector'}`);
for (const label of ['defocus_blur', 'motion_blur', 'clean']) {
  const entries = single.filter((e) => e.labels[0] === label).slice(0, n);
  for (const mode of modes) {
    const counts = {};
    for (const e of entries) {
      const img = await readImage(path.resolve(path.dirname(manifest), e.file));
      const bytes = mode.gif === null ? await encodePng(img) : await encodeGif(img, 256, mode.gif);
      const r = await inspector.inspect(Buffer.from(bytes));
      const got = r.clean ? 'clean' : r.labels.map((l) => l.label).sort().join('+');
      counts[got] = (counts[got] ?? 0) + 1;
    }
    const hits = label === 'clean' ? counts.clean ?? 0 : Object.entries(counts).filter(([k]) => k.includes(label)).reduce((s, [, v]) => s + v, 0);
    const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${v}`);
    console.log(`${label.padEnd(13)} ${mode.name.padEnd(14)} ${label === 'clean' ? 'kept' : 'found'} ${String(hits).padStart(3)}/${entries.length} | ${rows.join(', ')}`);
  }
}
await inspector.dispose();
