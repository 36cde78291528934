import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedBootstrap } from '../../src/quality/bootstrap.js';
import { multiLabelMetrics } from '../../src/train/metrics.js';
import { Rng } from '../../src/degrade/rng.js';

const classes = ['blur', 'noise'];

/** N rows of [clean | blur | noise] targets and probabilities that get each row right with probability `acc`. */
function decisions(targets: Float32Array, acc: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from(targets, (t) => (rng.bool(acc) ? (t > 0.5 ? 0.9 : 0.1) : (t > 0.5 ? 0.1 : 0.9)));
}

function targetsOf(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const T = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const kind = rng.int(0, 2); // 0 clean, 1 blur, 2 noise
    if (kind > 0) T[i * 2 + kind - 1] = 1;
  }
  return T;
}

test('paired bootstrap: scores match the metrics, a clear gap excludes 0, identical decisions give a zero interval', () => {
  const T = targetsOf(600, 1);
  const weak = { probs: decisions(T, 0.7, 2), thresholds: [0.5, 0.5] };
  const strong = { probs: decisions(T, 0.95, 3), thresholds: [0.5, 0.5] };
  const r = pairedBootstrap(weak, strong, T, classes, { iterations: 400, seed: 5 });
  assert.equal(r.n, 600);
  assert.equal(r.scoreA, multiLabelMetrics(weak.probs, T, classes, [0.5, 0.5]).macroF1WithClean);
  assert.ok(r.delta > 0.2, `delta ${r.delta}`);
  assert.ok(r.lo > 0 && r.lo <= r.delta && r.delta <= r.hi, `${r.lo} .. ${r.hi}`);
  assert.equal(r.shareBHigher, 1);
  const same = pairedBootstrap(weak, weak, T, classes, { iterations: 50 });
  assert.deepEqual([same.delta, same.lo, same.hi, same.shareBHigher], [0, 0, 0, 0]);
  // Seeded: the same call gives the same interval.
  assert.deepEqual(pairedBootstrap(weak, strong, T, classes, { iterations: 400, seed: 5 }), r);
});

test('paired bootstrap: two equally good inspectors get an interval around 0 that narrows with more images', () => {
  const width = (n: number) => {
    const T = targetsOf(n, 7);
    const r = pairedBootstrap({ probs: decisions(T, 0.85, 8), thresholds: [0.5, 0.5] }, { probs: decisions(T, 0.85, 9), thresholds: [0.5, 0.5] }, T, classes, { iterations: 300 });
    assert.ok(r.lo < 0.02 && r.hi > -0.02, `n ${n}: ${r.lo} .. ${r.hi}`);
    return r.hi - r.lo;
  };
  const small = width(200);
  const large = width(3200);
  assert.ok(large < 0.5 * small, `interval width ${large} at 3200 images vs ${small} at 200`);
});

test('paired bootstrap: mismatched shapes are named', () => {
  const T = targetsOf(10, 1);
  assert.throws(() => pairedBootstrap({ probs: new Float64Array(18), thresholds: [0.5, 0.5] }, { probs: new Float64Array(20), thresholds: [0.5, 0.5] }, T, classes), /a\.probs/);
  assert.throws(() => pairedBootstrap({ probs: new Float64Array(20), thresholds: [0.5] }, { probs: new Float64Array(20), thresholds: [0.5, 0.5] }, T, classes), /a\.thresholds/);
  assert.throws(() => pairedBootstrap({ probs: new Float64Array(20), thresholds: [0.5, 0.5] }, { probs: new Float64Array(20), thresholds: [0.5, 0.5] }, T, classes, { iterations: 3 }), /iterations/);
});

test('cluster bootstrap: one image per group is the image bootstrap; copies of few photos widen the interval', () => {
  const T = targetsOf(300, 11);
  const a = { probs: decisions(T, 0.8, 12), thresholds: [0.5, 0.5] };
  const b = { probs: decisions(T, 0.85, 13), thresholds: [0.5, 0.5] };
  const plain = pairedBootstrap(a, b, T, classes, { iterations: 300, seed: 2 });
  const singletons = pairedBootstrap(a, b, T, classes, { iterations: 300, seed: 2, groups: Array.from({ length: 300 }, (_, i) => `img${i}`) });
  assert.deepEqual(singletons, plain);
  assert.equal(plain.units, 300);
  // 20 distinct images, each copied 30 times (like 30 crops of one photo sharing its errors):
  // per image the 600 rows look like 600 independent results; per photo there are 20.
  const few = targetsOf(20, 14);
  const rows = Array.from({ length: 600 }, (_, i) => i % 20);
  const copy = <A extends Float32Array | Float64Array>(src: A, make: (n: number) => A) => {
    const out = make(600 * 2);
    rows.forEach((r, i) => out.set(src.subarray(r * 2, r * 2 + 2), i * 2));
    return out;
  };
  const Tc = copy(few, (n) => new Float32Array(n));
  const ac = { probs: copy(decisions(few, 0.8, 15), (n) => new Float64Array(n)), thresholds: [0.5, 0.5] };
  const bc = { probs: copy(decisions(few, 0.8, 16), (n) => new Float64Array(n)), thresholds: [0.5, 0.5] };
  const byImage = pairedBootstrap(ac, bc, Tc, classes, { iterations: 400, seed: 3 });
  const byPhoto = pairedBootstrap(ac, bc, Tc, classes, { iterations: 400, seed: 3, groups: rows.map((r) => `photo${r}`) });
  assert.equal(byPhoto.units, 20);
  assert.equal(byPhoto.n, 600);
  assert.equal(byPhoto.delta, byImage.delta);
  assert.ok(byPhoto.hi - byPhoto.lo > 2.5 * (byImage.hi - byImage.lo), `per photo ${byPhoto.lo} .. ${byPhoto.hi}, per image ${byImage.lo} .. ${byImage.hi}`);
  assert.throws(() => pairedBootstrap(a, b, T, classes, { groups: ['x', 'y'] }), /expected 300 keys \(one per image\) for groups/);
});
