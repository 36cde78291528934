#!/usr/bin/env node
// Diagnostic for the model card: what the shipped inspector calls clean synthetic validation crops
// given camera noise (Brooks et al. 2019 model, as in degrade/noise.ts) whose grain is coarser than
// the training's [c, 1, c] smoothing, as in real photos after demosaicing and in-camera denoising
// (blotchy, low-frequency residual), optionally followed by an in-camera JPEG encode. Tests whether
// "real noise photos are called clean or blurred" comes from the grain size. Needs `npm run build`
// and the synthetic dataset (scripts/train_inspector.sh step 1).
//   node scripts/diagnose_noise_grain.mjs [../data/quality] [80] [SPECS] [--model FILE.onnx]
// SPECS is a comma list of STD:GRAIN[:Q]: noise std in 8-bit levels at mid grey, Gaussian sigma
// (px) of the residual smoothing (0 = white; the std is kept), optional JPEG quality; `none` scores
// the crops as they are.
import path from 'node:path';
import { Inspector } from '../dist/src/quality/inspector.js';
import { readImage, encodePng } from '../dist/src/image/io.js';
import { applyNoise, cameraShotRead, SRGB_SLOPE_MID } from '../dist/src/degrade/noise.js';
import { jpegRoundTrip, Rng } from '../dist/src/degrade/index.js';
import { readJsonl } from '../dist/src/io/jsonl.js';

const args = process.argv.slice(2);
const modelAt = args.indexOf('--model');
const modelPath = modelAt >= 0 ? args.splice(modelAt, 2)[1] : undefined;
const root = path.resolve(args[0] ?? '../data/quality');
const n = Number(args[1] ?? 80);
const specList = args[2] ?? 'none,6:0,6:1,6:2,12:0,12:1,12:2,12:2:85';
const entries = (await readJsonl(path.join(root, 'manifest.jsonl')))
  .filter((e) => e.split === 'val' && e.labels[0] === 'clean').slice(0, n);

/** Parses `STD:GRAIN[:Q]` or `none`. */
function parseSpec(spec) {
  if (spec === 'none') return { name: 'none' };
  const [std, grain, q] = spec.split(':').map(Number);
  if (!(std > 0) || !(grain >= 0) || (q !== undefined && !(q >= 1 && q <= 100))) {
    throw new Error(`spec "${spec}": expected STD:GRAIN[:Q] with STD > 0 (8-bit levels), GRAIN >= 0 (px), Q in 1..100`);
  }
  return { name: `std ${std} grain ${grain}${q ? ` jpeg q${q}` : ''}`, std: std / 255, grain, q };
}

/** Camera noise of sRGB std `std` at mid grey, residual smoothed by a Gaussian of `grain` px (std kept; noise.ts `grain`). */
function grainNoise(img, std, grain, rng) {
  const { shot, read } = cameraShotRead(std / SRGB_SLOPE_MID, 0);
  return applyNoise(img, { model: 'camera', sigma: std, shot, read, gains: [2.1, 1, 1.7], correlation: 0, ...(grain ? { grain } : {}) }, rng);
}

const specs = specList.split(',').map(parseSpec);
const inspector = await Inspector.load(modelPath ? { model: modelPath } : {});
console.log(`${entries.length} clean validation crops from ${root}; labels given by ${modelPath ?? 'the shipped inspector'}`);
for (const spec of specs) {
  const counts = {};
  let noiseFound = 0;
  for (const [i, e] of entries.entries()) {
    const crop = await readImage(path.resolve(root, e.file));
    let img = crop;
    if (spec.std) img = grainNoise(crop, spec.std, spec.grain, new Rng(1000 + i));
    if (spec.q) img = await jpegRoundTrip(img, spec.q, '4:2:0');
    const r = await inspector.inspect(Buffer.from(await encodePng(img)));
    const got = r.clean ? 'clean' : r.labels.map((l) => l.label).sort().join('+');
    if (got.includes('noise')) noiseFound++;
    counts[got] = (counts[got] ?? 0) + 1;
  }
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`);
  console.log(`${spec.name.padEnd(24)} noise ${String(noiseFound).padStart(3)}/${entries.length} | ${rows.join(', ')}`);
}
await inspector.dispose();
