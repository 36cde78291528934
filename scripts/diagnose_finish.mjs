#!/usr/bin/env node
// Diagnostic for the model card: what the inspector says about single-problem synthetic validation
// images (defocus blur, motion blur, clean) after finishes common in real photos that the
// synthesizer does not draw on them: in-camera sharpening (unsharp mask), a low-quality JPEG
// re-encode, a web downscale. Tests whether such a finish hides blur or flags clean images.
// Needs `npm run build` and a synthetic dataset with a manifest.
//   node scripts/diagnose_finish.mjs [DATASET.jsonl|DIR] [N] [MODES] [--model FILE.onnx]
// MODES is a comma list of steps joined by `+`, applied in order: `asis`, `sharpen` (libvips
// unsharp mask, sigma 1 px, m1 1, m2 3: a camera's luma sharpening), `jpegQ` (re-encode at
// quality Q, 4:2:0), `half` (Lanczos to half size). Default: asis,jpeg40,sharpen,sharpen+jpeg80,half.
import { createRequire } from 'node:module';
import { encodePng, readImage } from '../dist/src/image/io.js';
import { callTally, entryFile, halfSizePng, loadProbeInspector, parseProbeArgs, singleLabelVal } from './lib/diagnose.mjs';

const sharp = createRequire(import.meta.url)('sharp');
const { modelPath, manifest, positional } = parseProbeArgs(process.argv.slice(2), ['../data/quality', '40', 'asis,jpeg40,sharpen,sharpen+jpeg80,half']);
const n = Number(positional[1]);
const modes = positional[2].split(',');
const labels = ['defocus_blur', 'motion_blur', 'clean'];
const single = await singleLabelVal(manifest, (label) => labels.includes(label));

/** PNG bytes after the `+`-joined steps of `mode`. */
async function finished(png, mode) {
  let bytes = png;
  for (const step of mode.split('+')) {
    if (step === 'asis') continue;
    if (step === 'sharpen') bytes = await sharp(bytes).sharpen({ sigma: 1, m1: 1, m2: 3 }).png().toBuffer();
    else if (/^jpeg\d+$/.test(step)) bytes = await sharp(bytes).jpeg({ quality: Number(step.slice(4)), chromaSubsampling: '4:2:0' }).toBuffer();
    else if (step === 'half') bytes = await halfSizePng(bytes);
    else throw new Error(`mode "${mode}": unknown step "${step}" (expected asis, sharpen, jpegQ or half)`);
  }
  return bytes;
}

const inspector = await loadProbeInspector(modelPath, `single-problem validation images from ${manifest}`);
for (const label of labels) {
  const entries = single.filter((e) => e.labels[0] === label).slice(0, n);
  for (const mode of modes) {
    const tally = callTally();
    for (const e of entries) {
      const png = await encodePng(await readImage(entryFile(manifest, e)));
      tally.add(await inspector.inspect(Buffer.from(await finished(png, mode))));
    }
    console.log(`${label.padEnd(13)} ${mode.padEnd(16)} ${label === 'clean' ? 'kept' : 'found'} ${String(tally.hits(label)).padStart(3)}/${entries.length} | ${tally.rows(4).join(', ')}`);
  }
}
await inspector.dispose();
