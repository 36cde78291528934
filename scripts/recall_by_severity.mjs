#!/usr/bin/env node
// Diagnostic for the model card: where an inspector's misses are on the severity scale. Reads the
// per-image scores that scripts/false_alarms.mjs writes (its OUT.jsonl: truth, severities,
// predicted) and prints, for every label, its recall in severity bins, on images with that label
// alone and on images where it has a partner, its recall on two-label images by partner, and what
// its single-label misses were called instead. Misses that gather in the lowest bin point at a
// label definition that asks for the invisible (a degradation weaker than the photo's own noise
// or softness) rather than at the model.
//   node scripts/recall_by_severity.mjs SCORES.jsonl [bins=5]
import { readJsonl } from '../dist/src/io/jsonl.js';

const file = process.argv[2];
if (!file) throw new Error('usage: node scripts/recall_by_severity.mjs SCORES.jsonl [bins]');
const bins = Number(process.argv[3] ?? 5);
if (!(Number.isInteger(bins) && bins >= 1)) throw new Error(`bins: expected a positive integer, got ${process.argv[3]}`);
const rows = await readJsonl(file);
const labels = [...new Set(rows.flatMap((r) => r.truth))].sort();
const edges = Array.from({ length: bins }, (_, b) => [b / bins, (b + 1) / bins]);
const cell = (hit, n) => (n ? `${(hit / n).toFixed(2)} (${String(n).padStart(3)})` : '     -     ').padStart(11);

console.log(`${rows.length} images of ${file}; recall (n) by severity bin`);
console.log(`${'label'.padEnd(14)} ${'with'.padEnd(7)}${edges.map(([a, b]) => `${a.toFixed(1)}-${b.toFixed(1)}`.padStart(11)).join('')}`);
for (const l of labels) {
  for (const [kind, keep] of [['alone', (r) => r.truth.length === 1], ['partner', (r) => r.truth.length > 1]]) {
    const pos = rows.filter((r) => r.truth.includes(l) && keep(r));
    const cells = edges.map(([a, b], k) => {
      const inBin = pos.filter((r) => {
        const s = r.severities[l] ?? 0;
        return s >= a && (s < b || (k === bins - 1 && s <= b));
      });
      return cell(inBin.filter((r) => r.predicted.includes(l)).length, inBin.length);
    });
    console.log(`${l.padEnd(14)} ${kind.padEnd(7)}${cells.join('')}`);
  }
}
// Recall on two-label images, by the other label.
console.log('\ntwo-label images: recall by partner, found of n');
for (const l of labels) {
  const pairs = rows.filter((r) => r.truth.length === 2 && r.truth.includes(l));
  const partners = [...new Set(pairs.map((r) => r.truth.find((t) => t !== l)))].sort();
  const cells = partners.map((p) => {
    const withP = pairs.filter((r) => r.truth.includes(p));
    return `${p} ${withP.filter((r) => r.predicted.includes(l)).length}/${withP.length}`;
  });
  console.log(`  ${l.padEnd(14)} ${cells.join(', ')}`);
}
// What the single-label misses were called instead, most frequent first.
console.log('\nsingle-label misses: how many, their median severity, what they were called instead');
for (const l of labels) {
  const miss = rows.filter((r) => r.truth.length === 1 && r.truth[0] === l && !r.predicted.includes(l));
  if (!miss.length) continue;
  const called = new Map();
  for (const r of miss) {
    const key = r.predicted.length ? r.predicted.join('+') : 'clean';
    called.set(key, (called.get(key) ?? 0) + 1);
  }
  const sev = miss.map((r) => r.severities[l] ?? 0).sort((a, b) => a - b);
  const median = sev[Math.floor(sev.length / 2)];
  console.log(`  ${l.padEnd(14)} ${String(miss.length).padStart(3)} missed, median severity ${median.toFixed(2)}: ${[...called].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
}
