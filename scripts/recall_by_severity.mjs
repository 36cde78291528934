#!/usr/bin/env node
// Diagnostic for the model card (src/quality/miss_analysis.ts): where an inspector's misses are on
// the severity scale. Reads the per-image scores that scripts/false_alarms.mjs writes (its
// OUT.jsonl: truth, severities, predicted) and prints, for every label, its recall in severity bins
// on images with that label alone and with a partner, its recall on two-label images by partner,
// and what its single-label misses were called instead. Needs `npm run build`.
//   node scripts/recall_by_severity.mjs SCORES.jsonl [bins=5]
import { readJsonl } from '../dist/src/io/jsonl.js';
import { analyseMisses } from '../dist/src/quality/miss_analysis.js';

const file = process.argv[2];
if (!file) throw new Error('usage: node scripts/recall_by_severity.mjs SCORES.jsonl [bins]');
const bins = Number(process.argv[3] ?? 5);
const rows = await readJsonl(file);
const result = analyseMisses(rows, bins);
const cell = ({ found, n }) => (n ? `${(found / n).toFixed(2)} (${String(n).padStart(3)})` : '     -     ').padStart(11);
const edges = Array.from({ length: bins }, (_, b) => `${(b / bins).toFixed(1)}-${((b + 1) / bins).toFixed(1)}`.padStart(11));

console.log(`${rows.length} images of ${file}; recall (n) by severity bin`);
console.log(`${'label'.padEnd(14)} ${'with'.padEnd(7)}${edges.join('')}`);
for (const m of result) {
  console.log(`${m.label.padEnd(14)} ${'alone'.padEnd(7)}${m.alone.map(cell).join('')}`);
  console.log(`${m.label.padEnd(14)} ${'partner'.padEnd(7)}${m.partner.map(cell).join('')}`);
}
console.log('\ntwo-label images: recall by partner, found of n');
for (const m of result) console.log(`  ${m.label.padEnd(14)} ${m.byPartner.map((p) => `${p.partner} ${p.found}/${p.n}`).join(', ')}`);
console.log('\nsingle-label misses: how many, their median severity, what they were called instead');
for (const m of result) {
  const s = m.singleMisses;
  if (s.n) console.log(`  ${m.label.padEnd(14)} ${String(s.n).padStart(3)} missed, median severity ${s.medianSeverity.toFixed(2)}: ${s.calledInstead.map((c) => `${c.as} ${c.n}`).join(', ')}`);
}
