import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyseMisses, type DecisionRow } from '../../src/quality/miss_analysis.js';

const row = (truth: string[], severities: number[], predicted: string[]): DecisionRow => ({ truth, severities: Object.fromEntries(truth.map((t, i) => [t, severities[i]!])), predicted });

test('miss analysis: recall by severity bin alone and with a partner, by partner, and single misses, counted by hand', () => {
  const rows: DecisionRow[] = [
    row([], [], []), // clean: no label of its own
    row(['blur'], [0.1], []), // blur alone, bin 0, missed (called clean)
    row(['blur'], [0.15], ['noise']), // bin 0, missed (called noise)
    row(["blur"], [0.3], ["blur"]), // bin 0 of 2 (bin 1 of 5), found
    row(['blur'], [1], ['blur']), // severity 1 falls in the last bin
    row(['blur'], [0.05], []), // bin 0, missed (clean again)
    row(['blur', 'noise'], [0.9, 0.2], ['noise']), // blur with noise, bin 1 (of 2), missed
    row(['blur', 'noise'], [0.6, 0.7], ['blur', 'noise']),
    row(['blur', 'rain'], [0.2, 0.5], ['blur']),
    row(['noise'], [0.5], ['noise']),
  ];
  const [blur, noise, rain] = analyseMisses(rows, 2);
  assert.deepEqual([blur!.label, noise!.label, rain!.label], ['blur', 'noise', 'rain']);
  // Bins [0, 0.5) and [0.5, 1].
  assert.deepEqual(blur!.alone, [{ found: 1, n: 4 }, { found: 1, n: 1 }]);
  assert.deepEqual(blur!.partner, [{ found: 1, n: 1 }, { found: 1, n: 2 }]);
  assert.deepEqual(blur!.byPartner, [{ partner: 'noise', found: 1, n: 2 }, { partner: 'rain', found: 1, n: 1 }]);
  // Misses at 0.05, 0.1, 0.15: median 0.1; called clean twice, noise once.
  assert.deepEqual(blur!.singleMisses, { n: 3, medianSeverity: 0.1, calledInstead: [{ as: 'clean', n: 2 }, { as: 'noise', n: 1 }] });
  assert.deepEqual(noise!.alone, [{ found: 0, n: 0 }, { found: 1, n: 1 }]);
  assert.deepEqual(noise!.partner, [{ found: 1, n: 1 }, { found: 1, n: 1 }]);
  assert.equal(noise!.singleMisses.n, 0);
  assert.ok(Number.isNaN(noise!.singleMisses.medianSeverity));
  assert.deepEqual(rain!.partner, [{ found: 0, n: 0 }, { found: 0, n: 1 }]);
  assert.deepEqual(rain!.byPartner, [{ partner: 'blur', found: 0, n: 1 }]);
  // Five bins: 0.3 falls in [0.2, 0.4), 1 in the last.
  const five = analyseMisses(rows.slice(3, 5), 5)[0]!;
  assert.deepEqual(five.alone.map((c) => c.n), [0, 1, 0, 0, 1]);
  assert.throws(() => analyseMisses(rows, 0), /analyseMisses: expected integer >= 1 for bins but received 0/);
});
