#!/usr/bin/env node
// Diagnostic for the model card: do two inspectors make their mistakes on the same images? Reads
// the per-image score dumps of scripts/false_alarms.mjs (its OUT.jsonl: truth, predicted labels,
// severities per image) of two inspectors on the same split, and prints how many images each gets
// wrong (predicted label set != true set), how many both get wrong against the count expected if
// their mistakes were independent, the shared label errors (a missed or a false label on the same
// image) by kind, by source photo and, for shared misses, by severity. If the overlap is far above
// independence, averaging the two (an ensemble) cannot remove much: the errors are systematic.
//   node scripts/shared_errors.mjs A.jsonl B.jsonl MANIFEST.jsonl
import { readJsonl } from '../dist/src/io/jsonl.js';

const [fileA, fileB, manifest] = process.argv.slice(2);
if (!fileA || !fileB || !manifest) throw new Error('usage: shared_errors.mjs A.jsonl B.jsonl MANIFEST.jsonl');
const byFile = (rows) => new Map(rows.map((r) => [r.file, r]));
const a = byFile(await readJsonl(fileA));
const b = byFile(await readJsonl(fileB));
const sources = new Map((await readJsonl(manifest)).map((e) => [e.file, e.source?.photo ?? e.source?.kind ?? 'unknown']));
const files = [...a.keys()].filter((f) => b.has(f));
if (files.length !== a.size || files.length !== b.size) throw new Error(`${fileA} (${a.size} images) and ${fileB} (${b.size}) do not cover the same images (${files.length} in common)`);
for (const f of files) {
  const ta = a.get(f).truth.join(',');
  if (ta !== b.get(f).truth.join(',')) throw new Error(`${f}: the two dumps disagree on the true labels (${ta} vs ${b.get(f).truth.join(',')})`);
}

/** Label errors of one image: 'miss <label>' and 'false <label>'. */
function errors(r) {
  const truth = new Set(r.truth);
  const pred = new Set(r.predicted);
  return [...[...truth].filter((l) => !pred.has(l)).map((l) => `miss ${l}`), ...[...pred].filter((l) => !truth.has(l)).map((l) => `false ${l}`)];
}
const count = (xs) => [...xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map())].sort((p, q) => q[1] - p[1]);
const fmt = (pairs, n = 12) => pairs.slice(0, n).map(([k, v]) => `${k} ${v}`).join(', ');

const N = files.length;
// Each image's label errors, once per inspector.
const errsA = new Map(files.map((f) => [f, errors(a.get(f))]));
const errsB = new Map(files.map((f) => [f, new Set(errors(b.get(f)))]));
const wrongA = files.filter((f) => errsA.get(f).length);
const wrongB = files.filter((f) => errsB.get(f).size);
const both = wrongA.filter((f) => errsB.get(f).size);
console.log(`${N} images; wrong: A ${wrongA.length}, B ${wrongB.length}, both ${both.length} (${((wrongA.length * wrongB.length) / N).toFixed(0)} if independent)`);
const shared = files.flatMap((f) => errsA.get(f).filter((e) => errsB.get(f).has(e)).map((error) => ({ file: f, error })));
const errA = files.reduce((n, f) => n + errsA.get(f).length, 0);
const errB = files.reduce((n, f) => n + errsB.get(f).size, 0);
console.log(`label errors: A ${errA}, B ${errB}, shared ${shared.length}`);
console.log(`shared, by kind: ${fmt(count(shared.map((s) => s.error)))}`);
const kind = (f) => (a.get(f).truth.length === 0 ? 'clean' : a.get(f).truth.length === 1 ? 'one label' : 'two labels');
console.log(`shared, by image: ${fmt(count(shared.map((s) => kind(s.file))))}`);
console.log(`shared, by source photo: ${fmt(count(shared.map((s) => sources.get(s.file) ?? 'unknown')), 8)}`);
console.log(`images, by source photo: ${fmt(count(files.map((f) => sources.get(f) ?? 'unknown')), 8)}`);
const missSeverities = shared.filter((s) => s.error.startsWith('miss ')).map((s) => a.get(s.file).severities?.[s.error.slice(5)] ?? 0);
const bins = [0, 0, 0, 0, 0];
for (const v of missSeverities) bins[Math.min(4, Math.floor(v * 5))]++;
console.log(`shared misses by severity 0-0.2, 0.2-0.4, 0.4-0.6, 0.6-0.8, 0.8-1: ${bins.join(', ')} (of ${missSeverities.length})`);
