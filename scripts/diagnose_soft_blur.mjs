#!/usr/bin/env node
// Diagnostic for the model card: what the shipped inspector calls clean synthetic validation crops
// blurred with the training PSF (hard-edged disk) and with a soft (Gaussian) lens PSF, to test
// whether "real defocus is called motion blur" comes from the PSF shape. Needs `npm run build` and
// the synthetic dataset (scripts/train_inspector.sh step 1). PSFS is a comma list of disk:R and
// gauss:SIGMA (px); `none` scores the crops as they are. --model picks another inspector.
//   node scripts/diagnose_soft_blur.mjs [DATASET.jsonl|DIR] [40] [PSFS] [--model FILE.onnx]
import { readImage, encodePng } from '../dist/src/image/io.js';
import { toLinear, toSrgb } from '../dist/src/image/tensor.js';
import { convolve, diskKernel } from '../dist/src/degrade/index.js';
import { callTally, entryFile, loadProbeInspector, parseProbeArgs, singleLabelVal } from './lib/diagnose.mjs';

const { modelPath, manifest, positional } = parseProbeArgs(process.argv.slice(2),
  ['../data/quality', '40', 'disk:3,disk:5,gauss:1.5,gauss:2.5,gauss:4']);
const n = Number(positional[1]);
const psfList = positional[2];
const entries = (await singleLabelVal(manifest, (label) => label === 'clean')).slice(0, n);

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
const inspector = await loadProbeInspector(modelPath, `${entries.length} clean validation crops from ${manifest}`);
for (const [name, kernel] of psfs) {
  const tally = callTally();
  for (const e of entries) {
    const crop = await readImage(entryFile(manifest, e));
    const blurred = kernel ? toSrgb(convolve(toLinear(crop), kernel)) : crop;
    tally.add(await inspector.inspect(Buffer.from(await encodePng(blurred))));
  }
  console.log(`${name.padEnd(20)} ${tally.rows().join(', ')}`);
}
await inspector.dispose();
