#!/usr/bin/env node
// Merges synthesizer manifests into one (src/data/synth/merge.ts), for a validation or test split
// larger than one synth run; file paths are rewritten relative to the output's folder. Needs
// `npm run build`.
//   node scripts/merge_manifests.mjs OUT.jsonl A/manifest.jsonl B/manifest.jsonl [...]
import { mergeManifests } from '../dist/src/data/synth/merge.js';

const [out, ...inputs] = process.argv.slice(2);
if (!out || inputs.length < 2) throw new Error('usage: merge_manifests.mjs OUT.jsonl A/manifest.jsonl B/manifest.jsonl [...]');
console.log(`${out}: ${await mergeManifests(out, inputs)} lines from ${inputs.length} manifests`);
