#!/usr/bin/env node
// Diagnostic for the model card: what the inspector says about single-problem synthetic validation
// images (defocus blur, motion blur, clean) as they are and after a 256-colour GIF round trip
// (io.ts encodeGif, the synthesizer's GIF finish) with and without error diffusion. Tests whether
// palette images (web GIFs, the dual-pixel defocus GIF frames of the real set) hide blur or read as
// noise. Needs `npm run build` and a synthetic dataset with a manifest.
//   node scripts/diagnose_gif.mjs [DATASET.jsonl|DIR] [N|FROM:N] [FILTERS] [--model FILE.onnx]
// N images per kind (FROM:N skips the first FROM). FILTERS, a comma list, is applied to the decoded
// GIF before inspection (as PNG, so the inspector's own palette low-pass does not apply): `none`,
// `tapA` (separable [A, 1-2A, A], libvips), `gaussS` (libvips Gaussian blur, sigma S), `medianK`,
// `half` (Lanczos to half size). Without FILTERS the GIF bytes themselves are inspected, so an
// inspector whose config sets paletteLowpass applies it.
import { createRequire } from 'node:module';
import { encodePng, encodeGif, readImage } from '../dist/src/image/io.js';
import { callTally, entryFile, halfSizePng, loadProbeInspector, parseProbeArgs, singleLabelVal } from './lib/diagnose.mjs';

const sharp = createRequire(import.meta.url)('sharp');
const { modelPath, manifest, positional } = parseProbeArgs(process.argv.slice(2), ['../data/quality', '40', '']);
const [from, n] = positional[1].includes(':') ? positional[1].split(':').map(Number) : [0, Number(positional[1])];
const filters = positional[2] ? positional[2].split(',') : [null];
const labels = ['defocus_blur', 'motion_blur', 'clean'];
const single = await singleLabelVal(manifest, (label) => labels.includes(label));
const modes = [
  { name: 'as is', gif: null },
  { name: 'gif, dither 1', gif: 1 },
  { name: 'gif, dither 0', gif: 0 },
];

/** The decoded bytes after one named filter, re-encoded as PNG. */
async function filtered(bytes, filter) {
  if (filter === 'half') return halfSizePng(bytes);
  let p = sharp(bytes);
  if (filter === 'none') return p.png().toBuffer();
  if (filter.startsWith('tap')) {
    const a = Number(filter.slice(3));
    const k = [a, 1 - 2 * a, a];
    p = p.convolve({ width: 3, height: 3, kernel: k.flatMap((u) => k.map((v) => u * v)) });
  } else if (filter.startsWith('gauss')) p = p.blur(Number(filter.slice(5)));
  else if (filter.startsWith('median')) p = p.median(Number(filter.slice(6)));
  else throw new Error(`filter "${filter}": expected none, tapA, gaussS, medianK or half`);
  return p.png().toBuffer();
}

const inspector = await loadProbeInspector(modelPath, `single-problem validation images from ${manifest}`);
for (const label of labels) {
  const entries = single.filter((e) => e.labels[0] === label).slice(from, from + n);
  for (const mode of modes) {
    for (const filter of mode.gif === null ? [null] : filters) {
      const tally = callTally();
      for (const e of entries) {
        const img = await readImage(entryFile(manifest, e));
        let bytes = mode.gif === null ? await encodePng(img) : await encodeGif(img, 256, mode.gif);
        if (filter) bytes = await filtered(bytes, filter);
        tally.add(await inspector.inspect(Buffer.from(bytes)));
      }
      const name = filter ? `${mode.name}, ${filter}` : mode.name;
      console.log(`${label.padEnd(13)} ${name.padEnd(22)} ${label === 'clean' ? 'kept' : 'found'} ${String(tally.hits(label)).padStart(3)}/${entries.length} | ${tally.rows(4).join(', ')}`);
    }
  }
}
await inspector.dispose();
