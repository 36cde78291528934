#!/usr/bin/env node
// Diagnostic for the model card: what the shipped inspector calls clean synthetic validation crops
// given camera noise (Brooks et al. 2019 model, as in degrade/noise.ts) whose grain is coarser than
// the training's [c, 1, c] smoothing, as in real photos after demosaicing and in-camera denoising
// (blotchy, low-frequency residual), optionally followed by an in-camera JPEG encode. Tests whether
// "real noise photos are called clean or blurred" comes from the grain size. Needs `npm run build`
// and the synthetic dataset (scripts/train_inspector.sh step 1).
//   node scripts/diagnose_noise_grain.mjs [DATASET.jsonl|DIR] [80] [SPECS] [--model FILE.onnx]
// SPECS is a comma list of STD:GRAIN[:Q]: noise std in 8-bit levels at mid grey, Gaussian sigma
// (px) of the residual smoothing (0 = white; the std is kept), optional JPEG quality; `none` scores
// the crops as they are.
import { readImage, encodePng } from '../dist/src/image/io.js';
import { applyNoise, cameraShotRead, SRGB_SLOPE_MID } from '../dist/src/degrade/noise.js';
import { jpegRoundTrip, Rng } from '../dist/src/degrade/index.js';
import { callTally, entryFile, loadProbeInspector, parseProbeArgs, singleLabelVal } from './lib/diagnose.mjs';

const { modelPath, manifest, positional } = parseProbeArgs(process.argv.slice(2),
  ['../data/quality', '80', 'none,6:0,6:1,6:2,12:0,12:1,12:2,12:2:85']);
const n = Number(positional[1]);
const specList = positional[2];
const entries = (await singleLabelVal(manifest, (label) => label === 'clean')).slice(0, n);

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
const inspector = await loadProbeInspector(modelPath, `${entries.length} clean validation crops from ${manifest}`);
for (const spec of specs) {
  const tally = callTally();
  for (const [i, e] of entries.entries()) {
    const crop = await readImage(entryFile(manifest, e));
    let img = crop;
    if (spec.std) img = grainNoise(crop, spec.std, spec.grain, new Rng(1000 + i));
    if (spec.q) img = await jpegRoundTrip(img, spec.q, '4:2:0');
    tally.add(await inspector.inspect(Buffer.from(await encodePng(img))));
  }
  console.log(`${spec.name.padEnd(24)} noise ${String(tally.hits('noise')).padStart(3)}/${entries.length} | ${tally.rows().join(', ')}`);
}
await inspector.dispose();
