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

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const [, v] = args.splice(i, 2);
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a whole number >= 0 but received "${v}"`);
  return n;
};
const opts = { toVal: flag('val', 8), toTest: flag('test', 4), minSide: flag('min-side', 600), seed: flag('seed', 1) };
const [baseFile, photosDir, out] = args;
if (args.length !== 3) throw new Error(`usage: photo_split.mjs BASE/synth.json PHOTOS_DIR OUT.json [--val 8] [--test 4] [--min-side 600] [--seed 1] (received: ${args.join(' ') || 'nothing'})`);
const cfg = JSON.parse(await readFile(baseFile, 'utf8'));
const base = photoSplits(cfg);
// The photos the base dataset could use (short side >= its size); the others get no split.
const { photos } = await listPhotos(photosDir, cfg.size);
const split = widenHeldOut(base, photos, await readPhotoNotes(photosDir), opts);
split.made = `${split.made}; base ${baseFile}`;
await writePhotoSplitFile(out, split);
const count = (s) => Object.values(split.splits).filter((x) => x === s).length;
for (const m of split.moved) console.log(`${m.split.padEnd(4)} ${m.kind.padEnd(11)} ${m.photo}`);
console.log(`${out}: train ${count('train')}, val ${count('val')}, test ${count('test')} photos (${split.moved.length} moved from train)`);
