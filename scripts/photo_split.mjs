#!/usr/bin/env node
// Makes a photo split file (src/data/synth/photo_split.ts): the photo -> split map of a dataset's
// synth.json with some training photos moved to val and test, chosen so that a 512 px split can
// crop them (short side >= --min-side, not partly blurred on purpose) and spread over the kinds
// of content the photo notes name. Prints what moved. Use it with `synth --splits-from SPLIT.json`
// and `scripts/merge_manifests.mjs --splits SPLIT.json`. Needs `npm run build`.
//   node scripts/photo_split.mjs BASE/synth.json PHOTOS_DIR OUT.json [--val 8] [--test 4] [--min-side 600] [--seed 1]
import { listPhotos } from '../dist/src/data/synth/generate.js';
import { readPhotoNotes } from '../dist/src/data/synth/photo_notes.js';
import { photoSplits } from '../dist/src/data/synth/plan.js';
import { widenHeldOut, writePhotoSplitFile } from '../dist/src/data/synth/photo_split.js';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

const usage = 'usage: photo_split.mjs BASE/synth.json PHOTOS_DIR OUT.json [--val 8] [--test 4] [--min-side 600] [--seed 1]';
const { values, positionals } = parseArgs({ allowPositionals: true, options: { val: { type: 'string', default: '8' }, test: { type: 'string', default: '4' }, 'min-side': { type: 'string', default: '600' }, seed: { type: 'string', default: '1' } } });
const count = (name) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a whole number >= 0 but received "${values[name]}"`);
  return n;
};
const opts = { toVal: count('val'), toTest: count('test'), minSide: count('min-side'), seed: count('seed') };
if (positionals.length !== 3) throw new Error(`${usage} (received: ${positionals.join(' ') || 'nothing'})`);
const [baseFile, photosDir, out] = positionals;
const cfg = JSON.parse(await readFile(baseFile, 'utf8'));
const base = photoSplits(cfg);
// The photos the base dataset could use (short side >= its size); the others get no split.
const { photos } = await listPhotos(photosDir, cfg.size);
const split = widenHeldOut(base, photos, await readPhotoNotes(photosDir), opts);
split.made = `${split.made}; base ${baseFile}`;
await writePhotoSplitFile(out, split);
const photosIn = (s) => Object.values(split.splits).filter((x) => x === s).length;
for (const m of split.moved) console.log(`${m.split.padEnd(4)} ${m.kind.padEnd(11)} ${m.photo}`);
console.log(`${out}: train ${photosIn('train')}, val ${photosIn('val')}, test ${photosIn('test')} photos (${split.moved.length} moved from train)`);
