/**
 * Cross-validated comparison of calibration objectives on one validation split, without a test split.
 *
 * A calibration objective scored on the images it was calibrated on favours itself: the rules that
 * maximise a score on val are, by construction, the best on val for that score. To choose between
 * objectives honestly, the split is cut into folds by group (the source photo, so crops of one photo
 * never sit on both sides), the rules are chosen on all folds but one and applied to the fold left
 * out, and the out-of-fold decisions of every fold are pooled and scored once (k-fold
 * cross-validation; Hastie, Tibshirani & Friedman, "The Elements of Statistical Learning", 2nd ed.,
 * sec. 7.10, with grouped folds). Each image is decided by rules that never saw it.
 */
import { SeededRng } from '../util/rng.js';
import { multiLabelMetrics, type MultiLabelMetrics } from '../train/metrics.js';
import { ArgumentError } from '../util/errors.js';
import { barsScore, calibrateJointly, type JointObjective, type LabelRule } from './joint_calibration.js';
import { cleanKept, pickRows, rowsByLabelCount, scanAggregation } from './dataset_eval.js';

export interface CrossValidatedObjective {
  objective: JointObjective;
  folds: number;
  /** The rules chosen on each fold's complement, and whether they met the floor there. */
  foldRules: { rules: LabelRule[]; feasible: boolean }[];
  /** Out-of-fold scores over every image of the split. */
  macroF1WithClean: number;
  cleanKept: number;
  /** On the images with at most one label. */
  singleMacroF1: number;
  /** Per label, its recall on the images with two or more labels (NaN without such an image). */
  pairRecall: Record<string, number>;
  /** Mean of `pairRecall` over the labels with support. */
  pairRecallMean: number;
  /** The objective's own score on the pooled decisions ('bars': min of the two ratios). */
  score: number;
}

/**
 * Fold of each image: the distinct `groups` shuffled with `seed` and dealt round-robin to `k` folds,
 * so fold sizes differ by at most one group.
 */
export function groupFolds(groups: readonly string[], k: number, seed: number): number[] {
  if (!(Number.isInteger(k) && k >= 2)) throw new ArgumentError(`expected at least 2 folds but received ${k}`);
  const distinct = [...new Set(groups)];
  if (distinct.length < k) throw new ArgumentError(`${k} folds need at least ${k} groups; the split has ${distinct.length}`);
  const rng = new SeededRng(seed);
  for (let i = distinct.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [distinct[i], distinct[j]] = [distinct[j]!, distinct[i]!];
  }
  const fold = new Map(distinct.map((g, i) => [g, i % k]));
  return groups.map((g) => fold.get(g)!);
}

/**
 * Out-of-fold scores of the joint per-label rules chosen for `objective` under `minCleanKept`.
 * @param byShare image probabilities [N, K] per scanned tile share (operating_points.ts probsByShare)
 * @param targets 0/1 targets [N, K]
 * @param folds fold of each image (groupFolds)
 */
export function crossValidateObjective(
  byShare: ReadonlyMap<number, Float64Array>,
  targets: Float32Array,
  labels: readonly string[],
  thresholds: readonly number[],
  folds: readonly number[],
  objective: JointObjective,
  minCleanKept?: number,
): CrossValidatedObjective {
  const K = labels.length;
  const N = targets.length / K;
  if (folds.length !== N) throw new ArgumentError(`cross-validation: ${folds.length} fold indices for ${N} images`);
  const k = Math.max(...folds) + 1;
  const sub = (rows: number[]) => new Map([...byShare].map(([f, P]) => [f, pickRows(P, rows, K)]));
  // Out-of-fold decisions as 0/1 "probabilities", scored at 0.5.
  const decided = new Float64Array(N * K);
  const foldRules: CrossValidatedObjective['foldRules'] = [];
  for (let f = 0; f < k; f++) {
    const fit = [...Array(N).keys()].filter((i) => folds[i] !== f);
    const held = [...Array(N).keys()].filter((i) => folds[i] === f);
    if (!held.length) throw new ArgumentError(`cross-validation: fold ${f} holds no image`);
    const fitShares = sub(fit);
    const fitTargets = pickRows(targets, fit, K);
    const start = scanAggregation(fitShares, fitTargets, labels, [...thresholds]).map(({ fraction, threshold }) => ({ fraction, threshold }));
    const j = calibrateJointly(fitShares, fitTargets, K, thresholds, start, { minCleanKept, objective });
    foldRules.push({ rules: j.rules, feasible: j.feasible });
    for (const i of held) {
      j.rules.forEach((r, c) => {
        const P = byShare.get(r.fraction ?? 1)!;
        decided[i * K + c] = P[i * K + c]! >= r.threshold ? 1 : 0;
      });
    }
  }
  const all = multiLabelMetrics(decided, targets, labels, 0.5);
  const on = (keep: (n: number) => boolean): MultiLabelMetrics => {
    const rows = rowsByLabelCount(targets, K, keep);
    return multiLabelMetrics(pickRows(decided, rows, K), pickRows(targets, rows, K), labels, 0.5);
  };
  const single = on((n) => n <= 1);
  const multi = on((n) => n >= 2);
  const withPairs = multi.perClass.filter((p) => p.support > 0);
  const pairRecallMean = withPairs.reduce((s, p) => s + p.recall, 0) / Math.max(1, withPairs.length);
  const score = objective.kind === 'bars' ? barsScore(single.macroF1, pairRecallMean, objective).score : all.macroF1WithClean;
  return {
    objective,
    folds: k,
    foldRules,
    macroF1WithClean: all.macroF1WithClean,
    cleanKept: cleanKept(all),
    singleMacroF1: single.macroF1,
    pairRecall: Object.fromEntries(multi.perClass.map((p) => [p.label, p.support ? p.recall : Number.NaN])),
    pairRecallMean,
    score,
  };
}
