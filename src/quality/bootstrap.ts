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
 *
 * With `groups` (one key per image, e.g. its source photo) it is a cluster bootstrap (Davison &
 * Hinkley, "Bootstrap Methods and their Application", 1997, sec. 3.8): whole groups are drawn with
 * replacement, so images that share a photo, and with it their errors, are not counted as
 * independent evidence. Synthetic splits hold many crops of few photos, so this interval is the
 * honest one for them; it is wider than the per-image interval whenever errors cluster by photo.
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
  /** Resampled units: distinct groups with `groups`, else images. */
  units: number;
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
  opts: { iterations?: number; level?: number; seed?: number; groups?: readonly string[] } = {},
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
  if (opts.groups && opts.groups.length !== n) invalidArg(where, 'groups', `${n} keys (one per image)`, `${opts.groups.length}`);
  const units = rowsByGroup(opts.groups, n);
  const score = (d: ScoredDecisions, P: Float64Array, T: Float32Array) => multiLabelMetrics(P, T, classes, d.thresholds).macroF1WithClean;
  const scoreA = score(a, a.probs, targets);
  const scoreB = score(b, b.probs, targets);
  const rng = new Rng(opts.seed ?? 1);
  // A resample draws as many units as there are; with groups its row count varies, so the buffers
  // hold the largest possible draw (every pick the largest group).
  const maxRows = units.length * Math.max(...units.map((u) => u.length));
  const Pa = new Float64Array(maxRows * K);
  const Pb = new Float64Array(maxRows * K);
  const T = new Float32Array(maxRows * K);
  const deltas = new Float64Array(iterations);
  let higher = 0;
  for (let it = 0; it < iterations; it++) {
    let i = 0;
    for (let u = 0; u < units.length; u++) {
      for (const j of units[rng.int(0, units.length - 1)]!) {
        // Row j of [N, K] -> row i of the resample.
        Pa.set(a.probs.subarray(j * K, (j + 1) * K), i * K);
        Pb.set(b.probs.subarray(j * K, (j + 1) * K), i * K);
        T.set(targets.subarray(j * K, (j + 1) * K), i * K);
        i++;
      }
    }
    const d = score(b, Pb.subarray(0, i * K), T.subarray(0, i * K)) - score(a, Pa.subarray(0, i * K), T.subarray(0, i * K));
    deltas[it] = d;
    if (d > 0) higher++;
  }
  deltas.sort();
  const at = (q: number) => deltas[Math.min(iterations - 1, Math.max(0, Math.floor(q * iterations)))]!;
  return { n, units: units.length, scoreA, scoreB, delta: scoreB - scoreA, lo: at((1 - level) / 2), hi: at(1 - (1 - level) / 2), level, shareBHigher: higher / iterations, iterations };
}

/** The row indices of each group, in order of first appearance; without groups, one row each. */
function rowsByGroup(groups: readonly string[] | undefined, n: number): number[][] {
  if (!groups) return Array.from({ length: n }, (_, i) => [i]);
  const rows = new Map<string, number[]>();
  groups.forEach((g, i) => {
    const list = rows.get(g);
    if (list) list.push(i);
    else rows.set(g, [i]);
  });
  return [...rows.values()];
}
