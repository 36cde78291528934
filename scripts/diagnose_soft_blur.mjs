#!/usr/bin/env node
// Diagnostic for the model card: what the shipped inspector calls clean synthetic validation crops
// blurred with the training PSF (hard-edged disk) and with a soft (Gaussian) lens PSF, to test
// whether "real defocus is called motion blur" comes from the PSF shape. Needs `npm run build` and
// the synthetic dataset (scripts/train_inspector.sh step 1).
//   node scripts/diagnose_soft_blur.mjs [../data/quality] [40]
import fs from 'node:fs';
import path from 'node:path';
import { Inspector } from '../dist/src/quality/inspector.js';
import { readImage, encodePng } from '../dist/src/image/io.js';
import { toLinear, toSrgb } from '../dist/src/image/tensor.js';
import { convolve, diskKernel } from '../dist/src/degrade/index.js';

const root = path.resolve(process.argv[2] ?? '../data/quality');
const n = Number(process.argv[3] ?? 40);
const entries = fs.readFileSync(path.join(root, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  .filter((e) => e.split === 'val' && e.labels[0] === 'clean').slice(0, n);

/** Normalised isotropic Gaussian kernel, radius 3 sigma. */
function gaussianKernel(sigma) {
  const r = Math.ceil(3 * sigma);
  const size = 2 * r + 1;
  const data = new Float32Array(size * size);
  let sum = 0;
  for (let y = -r; y <= r; y++) for (let x = -r; x <= r; x++) sum += data[(y + r) * size + x + r] = Math.exp(-(x * x + y * y) / (2 * sigma * sigma));
  for (let i = 0; i < data.length; i++) data[i] /= sum;
  return { data, size };
}

const inspector = await Inspector.load();
const psfs = [['disk r=3', diskKernel(3)], ['disk r=5', diskKernel(5)], ['gaussian sigma=1.5', gaussianKernel(1.5)], ['gaussian sigma=2.5', gaussianKernel(2.5)], ['gaussian sigma=4', gaussianKernel(4)]];
console.log(`${entries.length} clean validation crops from ${root}; labels given by the shipped inspector`);
for (const [name, kernel] of psfs) {
  const counts = {};
  for (const e of entries) {
    const blurred = toSrgb(convolve(toLinear(await readImage(path.join(root, e.file))), kernel));
    const r = await inspector.inspect(Buffer.from(await encodePng(blurred)));
    const got = r.clean ? 'clean' : r.labels.map((l) => l.label).sort().join('+');
    counts[got] = (counts[got] ?? 0) + 1;
  }
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`);
  console.log(`${name.padEnd(20)} ${rows.join(', ')}`);
}
await inspector.dispose();
