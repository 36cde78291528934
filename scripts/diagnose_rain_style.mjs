#!/usr/bin/env node
// Diagnostic for the model card: what the inspector says about clean synthetic validation crops given
// rain streaks of a chosen style, one streak layer per spec (degrade/rain.ts's model: impulses smeared
// along a line and blurred across it, over a veil). Tests whether real rain photos that are missed
// (dense, short, fine, faint streaks) lie outside the styles the synthesizer draws. Needs
// `npm run build` and a synthetic dataset with a manifest (scripts/train_inspector.sh step 1).
//   node scripts/diagnose_rain_style.mjs [DATASET.jsonl|DIR] [80] [SPECS] [--model FILE.onnx]
// SPECS is a comma list of DENSITY:LENGTH:WIDTH:BRIGHT[:VEIL[:Q]]: drops per 10,000 px, streak length
// (px), blur sigma across the streak (px), peak streak intensity (0-1), veil strength (0-1, default
// 0.05), optional JPEG quality of a last encode; `none` scores the crops as they are. The wind angle
// is drawn per crop in 90 +- 25 degrees, as the synthesizer does.
import { readImage, encodePng } from '../dist/src/image/io.js';
import { applyRain, jpegRoundTrip, Rng } from '../dist/src/degrade/index.js';
import { callTally, entryFile, loadProbeInspector, parseProbeArgs, singleLabelVal } from './lib/diagnose.mjs';

const { modelPath, manifest, positional } = parseProbeArgs(process.argv.slice(2),
  ['../data/quality', '80', 'none,40:20:0.8:0.3,120:8:0.5:0.12:0.1:75']);
const n = Number(positional[1]);
const specList = positional[2];
const entries = (await singleLabelVal(manifest, (label) => label === 'clean')).slice(0, n);

/** Parses `DENSITY:LENGTH:WIDTH:BRIGHT[:VEIL[:Q]]` or `none`. */
function parseSpec(spec) {
  if (spec === 'none') return { name: 'none' };
  const [density, length, width, brightness, veil = 0.05, q] = spec.split(':').map(Number);
  const ok = density > 0 && length >= 1 && width >= 0 && brightness > 0 && veil >= 0 && veil < 1
    && (q === undefined || (q >= 1 && q <= 100));
  if (!ok) {
    throw new Error(`spec "${spec}": expected DENSITY:LENGTH:WIDTH:BRIGHT[:VEIL[:Q]] with DENSITY > 0 (per 10,000 px), LENGTH >= 1 (px), WIDTH >= 0 (px), BRIGHT > 0, VEIL in [0, 1), Q in 1..100`);
  }
  return { name: `d${density} len${length} w${width} b${brightness} veil${veil}${q ? ` q${q}` : ''}`, density, length, width, brightness, veil, q };
}

const specs = specList.split(',').map(parseSpec);
const inspector = await loadProbeInspector(modelPath, `${entries.length} clean validation crops from ${manifest}`);
const rainIndex = inspector.config.labels.indexOf('rain');
for (const spec of specs) {
  const tally = callTally();
  const probabilities = [];
  for (const [i, e] of entries.entries()) {
    let img = await readImage(entryFile(manifest, e));
    if (spec.density) {
      const rng = new Rng(2000 + i);
      const layer = { density: spec.density, length: spec.length, width: spec.width, brightness: spec.brightness, angle: 90 + rng.uniform(-25, 25), seed: rng.nextU32() };
      img = applyRain(img, { layers: [layer], veil: spec.veil, tone: 0.9 });
    }
    if (spec.q) img = await jpegRoundTrip(img, spec.q, '4:2:0');
    const r = await inspector.inspect(Buffer.from(await encodePng(img)));
    probabilities.push(r.scores[rainIndex].probability);
    tally.add(r);
  }
  probabilities.sort((a, b) => a - b);
  const median = probabilities[Math.floor(probabilities.length / 2)];
  console.log(`${spec.name.padEnd(40)} rain ${String(tally.hits('rain')).padStart(3)}/${entries.length} median p ${median.toFixed(2)} | ${tally.rows(4).join(', ')}`);
}
await inspector.dispose();
