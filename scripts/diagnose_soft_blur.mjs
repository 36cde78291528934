#!/usr/bin/env node
// Diagnostic for the model card: what the shipped inspector calls clean synthetic validation crops
// blurred with the training PSF (hard-edged disk) and with a soft (Gaussian) lens PSF, to test
// whether "real defocus is called motion blur" comes from the PSF shape. Needs `npm run build` and
// the synthetic dataset (scripts/train_inspector.sh step 1). PSFS is a comma list of disk:R and
// gauss:SIGMA (px); `none` scores the crops as they are. --model picks another inspector.
//   node scripts/diagnose_soft_blur.mjs [../data/quality] [40] [PSFS] [--model FILE.onnx]
import path from 'node:path';
import { Inspector } from '../dist/src/quality/inspector.js';
import { readImage, encodePng } from '../dist/src/image/io.js';
import { toLinear, toSrgb } from '../dist/src/image/tensor.js';
import { convolve, diskKernel } from '../dist/src/degrade/index.js';
import { readJsonl } from '../dist/src/io/jsonl.js';

const args = process.argv.slice(2);
const modelAt = args.indexOf('--model');
const modelPath = modelAt >= 0 ? args.splice(modelAt, 2)[1] : undefined;
const root = path.resolve(args[0] ?? '../data/quality');
const n = Number(args[1] ?? 40);
const psfList = args[2] ?? 'disk:3,disk:5,gauss:1.5,gauss:2.5,gauss:4';
const entries = (await readJsonl(path.join(root, 'manifest.jsonl')))
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

/** One PSF from `disk:R`, `gauss:SIGMA` or `none` (the crop unchanged). */
function parsePsf(spec) {
  if (spec === 'none') return ['none', null];
  const [kind, value] = spec.split(':');
  const v = Number(value);
  if (!(v > 0)) throw new Error(`PSF "${spec}": the size after the colon must be a positive number`);
  if (kind === 'disk') return [`disk r=${v}`, diskKernel(v)];
  if (kind === 'gauss') return [`gaussian sigma=${v}`, gaussianKernel(v)];
  throw new Error(`PSF "${spec}": kind must be disk, gauss or none`);
}

const psfs = psfList.split(',').map(parsePsf);
const inspector = await Inspector.load(modelPath ? { model: modelPath } : {});
console.log(`${entries.length} clean validation crops from ${root}; labels given by ${modelPath ?? 'the shipped inspector'}`);
for (const [name, kernel] of psfs) {
  const counts = {};
  for (const e of entries) {
    const crop = await readImage(path.resolve(root, e.file));
    const blurred = kernel ? toSrgb(convolve(toLinear(crop), kernel)) : crop;
    const r = await inspector.inspect(Buffer.from(await encodePng(blurred)));
    const got = r.clean ? 'clean' : r.labels.map((l) => l.label).sort().join('+');
    counts[got] = (counts[got] ?? 0) + 1;
  }
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`);
  console.log(`${name.padEnd(20)} ${rows.join(', ')}`);
}
await inspector.dispose();
