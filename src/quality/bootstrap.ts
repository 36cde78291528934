/**
 * Paired bootstrap comparison of two inspectors on the same images (Efron & Tibshirani, "An
 * Introduction to the Bootstrap", 1993, ch. 16; the paired form used for classifier comparison):
 * resample the images with replacement, score both inspectors' decisions on every resample, and
 * read the spread of the score difference. Both sets of decisions are scored on the same resampled
 * rows, so what the images have in common cancels and only the models' disagreement is left.
 *
 * The score is the macro-F1 over the labels with support and "clean" (metrics.ts
 * `macroF1WithClean`), the objective the shipped rules are chosen for. An interval that contains 0
 * means the split cannot tell the two apart.
 */
import { Rng } from '../degrade/rng.js';
import { multiLabelMetrics } from '../train/metrics.js';
import { invalidArg } from '../util/errors.js';

/** One inspector's image probabilities [N, K] (dataset label order) and its per-label thresholds [K]. */
export interface ScoredDecisions {
  probs: Float64Array;
  thresholds: readonly number[];
}

export interface PairedBootstrap {
  /** Images. */
  n: number;
  /** Score of each inspector on all images, and b - a. */
  scoreA: number;
  scoreB: number;
  delta: number;
  /** Central `level` interval of the resampled b - a (percentile method). */
  lo: number;
  hi: number;
  level: number;
  /** Share of resamples in which b scores higher than a. */
  shareBHigher: number;
  iterations: number;
}

/**
 * @param targets 0/1 targets [N, K]
 * @param classes label names (K)
 */
export function pairedBootstrap(
  a: ScoredDecisions,
  b: ScoredDecisions,
  targets: Float32Array,
  classes: readonly string[],
  opts: { iterations?: number; level?: number; seed?: number } = {},
): PairedBootstrap {
  const K = classes.length;
  const n = targets.length / K;
  const where = 'pairedBootstrap';
  if (!Number.isInteger(n) || n < 2) invalidArg(where, 'targets', `[N, ${K}] with N >= 2`, `${targets.length} values`);
  for (const [name, d] of [['a', a], ['b', b]] as const) {
    if (d.probs.length !== targets.length) invalidArg(where, `${name}.probs`, `${targets.length} values ([${n}, ${K}])`, `${d.probs.length}`);
    if (d.thresholds.length !== K) invalidArg(where, `${name}.thresholds`, `${K} thresholds`, `${d.thresholds.length}`);
  }
  const iterations = opts.iterations ?? 2000;
  const level = opts.level ?? 0.95;
  if (!(Number.isInteger(iterations) && iterations >= 10)) invalidArg(where, 'iterations', 'an integer >= 10', iterations);
  if (!(level > 0 && level < 1)) invalidArg(where, 'level', 'a number in (0, 1)', level);
  const score = (d: ScoredDecisions, P: Float64Array, T: Float32Array) => multiLabelMetrics(P, T, classes, d.thresholds).macroF1WithClean;
  const scoreA = score(a, a.probs, targets);
  const scoreB = score(b, b.probs, targets);
  const rng = new Rng(opts.seed ?? 1);
  const Pa = new Float64Array(targets.length);
  const Pb = new Float64Array(targets.length);
  const T = new Float32Array(targets.length);
  const deltas = new Float64Array(iterations);
  let higher = 0;
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) {
      const j = rng.int(0, n - 1);
      // Row j of [N, K] -> row i of the resample.
      Pa.set(a.probs.subarray(j * K, (j + 1) * K), i * K);
      Pb.set(b.probs.subarray(j * K, (j + 1) * K), i * K);
      T.set(targets.subarray(j * K, (j + 1) * K), i * K);
    }
    const d = score(b, Pb, T) - score(a, Pa, T);
    deltas[it] = d;
    if (d > 0) higher++;
  }
  deltas.sort();
  const at = (q: number) => deltas[Math.min(iterations - 1, Math.max(0, Math.floor(q * iterations)))]!;
  return { n, scoreA, scoreB, delta: scoreB - scoreA, lo: at((1 - level) / 2), hi: at(1 - (1 - level) / 2), level, shareBHigher: higher / iterations, iterations };
}
