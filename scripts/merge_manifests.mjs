#!/usr/bin/env node
// Merges synthesizer manifests into one (src/data/synth/merge.ts), for a validation or test split
// larger than one synth run; file paths are rewritten relative to the output's folder. With
// --splits SPLIT.json (a photo split file, scripts/photo_split.mjs) only lines whose source photo
// is in their own split there are kept, so samples made on one photo split serve another that
// moved photos out of training (one manifest is then enough). Needs `npm run build`.
//   node scripts/merge_manifests.mjs [--splits SPLIT.json] OUT.jsonl A/manifest.jsonl [B/manifest.jsonl ...]
import { parseArgs } from 'node:util';
import { mergeManifests } from '../dist/src/data/synth/merge.js';
import { readPhotoSplitFile } from '../dist/src/data/synth/photo_split.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { splits: { type: 'string' } } });
const splitsFile = values.splits;
const [out, ...inputs] = positionals;
if (!out || inputs.length < (splitsFile ? 1 : 2)) throw new Error('usage: merge_manifests.mjs [--splits SPLIT.json] OUT.jsonl A/manifest.jsonl [B/manifest.jsonl ...]');
const splits = splitsFile ? await readPhotoSplitFile(splitsFile) : undefined;
const { kept, dropped } = await mergeManifests(out, inputs, { splits });
console.log(`${out}: ${kept} lines from ${inputs.length} manifest(s)${splits ? `; ${dropped} dropped (photo in another split of ${splitsFile})` : ''}`);
