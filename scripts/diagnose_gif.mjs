#!/usr/bin/env node
// Diagnostic for the model card: what the inspector says about single-problem synthetic validation
// images (defocus blur, motion blur, clean) as they are and after a 256-colour GIF round trip
// (io.ts encodeGif, the synthesizer's GIF finish) with and without error diffusion. Tests whether
// palette images (web GIFs, the dual-pixel defocus GIF frames of the real set) hide blur or read as
// noise. Needs `npm run build` and a synthetic dataset with a manifest.
//   node scripts/diagnose_gif.mjs [DATASET.jsonl|DIR] [40] [--model FILE.onnx]
import { encodePng, encodeGif, readImage } from '../dist/src/image/io.js';
import { callTally, entryFile, loadProbeInspector, parseProbeArgs, singleLabelVal } from './lib/diagnose.mjs';

const { modelPath, manifest, positional } = parseProbeArgs(process.argv.slice(2), ['../data/quality', '40']);
const n = Number(positional[1]);
const labels = ['defocus_blur', 'motion_blur', 'clean'];
const single = await singleLabelVal(manifest, (label) => labels.includes(label));
const modes = [
  { name: 'as is', gif: null },
  { name: 'gif, dither 1', gif: 1 },
  { name: 'gif, dither 0', gif: 0 },
];

const inspector = await loadProbeInspector(modelPath, `single-problem validation images from ${manifest}`);
for (const label of labels) {
  const entries = single.filter((e) => e.labels[0] === label).slice(0, n);
  for (const mode of modes) {
    const tally = callTally();
    for (const e of entries) {
      const img = await readImage(entryFile(manifest, e));
      const bytes = mode.gif === null ? await encodePng(img) : await encodeGif(img, 256, mode.gif);
      tally.add(await inspector.inspect(Buffer.from(bytes)));
    }
    console.log(`${label.padEnd(13)} ${mode.name.padEnd(14)} ${label === 'clean' ? 'kept' : 'found'} ${String(tally.hits(label)).padStart(3)}/${entries.length} | ${tally.rows(4).join(', ')}`);
  }
}
await inspector.dispose();
