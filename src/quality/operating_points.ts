/**
 * Operating points of a packaged inspector, for the model card: the joint per-label rules (tile share
 * and threshold, joint_calibration.ts) chosen on a validation split without and with clean-kept
 * floors, each then scored once on a test split. Every image is inspected once; the rules are applied
 * to its reported tile probabilities, re-aggregated exactly as the inspector aggregates them
 * (dataset_eval.ts probsAtShare), so a point's test numbers are those of the inspector packaged with
 * its rules (tested against `evaluateInspectorOnDataset` with them written into the config).
 */
import type { Dataset } from '../data/dataset.js';
import { multiLabelMetrics } from '../train/metrics.js';
import { ArgumentError } from '../util/errors.js';
import { SCAN_FRACTIONS } from './aggregate.js';
import { calibrateJointly, type JointCalibration, type LabelRule } from './joint_calibration.js';
import { cleanKept, pickRows, probsAtShare, rowsByLabelCount, scanAggregation, tilesByLabel } from './dataset_eval.js';
import type { Inspector } from './inspector.js';

/** Every readable image of a split: its tile probabilities [image][label][tile] and 0/1 targets [N, K]. */
export interface SplitTiles {
  tiles: number[][][];
  targets: Float32Array;
  /** Files the inspector could not read, left out. */
  errors: { file: string; error: string }[];
}

/** Inspects every sample of `ds` (its classes must be the inspector's labels, in order). */
export async function collectSplitTiles(inspector: Inspector, ds: Dataset, onFile?: (i: number, n: number) => void): Promise<SplitTiles> {
  const labels = inspector.config.labels;
  if (!ds.multiLabel || ds.classes.join() !== labels.join()) {
    throw new ArgumentError(`${ds.root}: operating points need a manifest read with the inspector's labels (${labels.join(', ')}); got ${ds.classes.join(', ')}`);
  }
  const tiles: number[][][] = [];
  const targets: number[] = [];
  const errors: SplitTiles['errors'] = [];
  for (const [i, s] of ds.samples.entries()) {
    try {
      const r = await inspector.inspect(s.file);
      tiles.push(tilesByLabel(r));
      targets.push(...s.labels!);
    } catch (e) {
      errors.push({ file: s.file, error: (e as Error).message });
    }
    onFile?.(i + 1, ds.samples.length);
  }
  return { tiles, targets: Float32Array.from(targets), errors };
}

/** [N, K] image probabilities of a split for every scanned tile share. */
export function probsByShare(split: SplitTiles, K: number): Map<number, Float64Array> {
  const index = [...Array(K).keys()];
  return new Map(SCAN_FRACTIONS.map((f) => [f, probsAtShare(split.tiles, index, f)]));
}

/** [N, K] image probabilities under per-label rules (each label at its rule's tile share). */
export function probsUnderRules(byShare: ReadonlyMap<number, Float64Array>, rules: readonly LabelRule[]): Float64Array {
  const K = rules.length;
  const shares = rules.map((r, k) => {
    const P = byShare.get(r.fraction ?? 1);
    if (!P) throw new ArgumentError(`label ${k}: no probabilities for tile share ${r.fraction ?? 1}`);
    return P;
  });
  const N = shares[0] ? shares[0].length / K : 0;
  return Float64Array.from({ length: N * K }, (_, i) => shares[i % K]![i]!);
}

export interface OperatingPoint {
  /** The clean-kept floor on val (null: none). */
  floor: number | null;
  rules: LabelRule[];
  val: {
    macroF1WithClean: number;
    cleanKept: number;
    feasible: boolean;
    start: JointCalibration['start'];
    /** Per label, its recall on the val images with two or more labels (NaN without such an image). */
    multiRecall: Record<string, number>;
  };
  test: {
    macroF1: number;
    macroF1WithClean: number;
    cleanKept: number;
    /** On the test images with at most one label. */
    singleMacroF1: number;
    singleWithClean: number;
    recall: Record<string, number>;
    /** Per label, its recall on the test images with two or more labels. */
    multiRecall: Record<string, number>;
    /** Of the test images without a label, the share each label flags (NaN when there are none, as `cleanKept`). */
    falseAlarms: Record<string, number>;
  };
}

/** Per label, its recall on the rows with two or more labels under thresholds `thr` (NaN for a label without such a row). */
function multiLabelRecall(P: Float64Array, T: Float32Array, labels: readonly string[], thr: readonly number[]): Record<string, number> {
  const K = labels.length;
  const rows = rowsByLabelCount(T, K, (n) => n >= 2);
  const m = multiLabelMetrics(pickRows(P, rows, K), pickRows(T, rows, K), labels, thr);
  return Object.fromEntries(m.perClass.map((pc) => [pc.label, pc.support ? pc.recall : Number.NaN]));
}

/**
 * The rules chosen on `val` from each label's own best (share, threshold), without a floor and at
 * each of `floors`, scored on `test`. `multiStart: false` uses the single ascent of sessions 8-15.
 */
export function operatingPoints(val: SplitTiles, test: SplitTiles, labels: readonly string[], thresholds: readonly number[], floors: readonly number[], opts: { multiStart?: boolean } = {}): OperatingPoint[] {
  const K = labels.length;
  if (!val.tiles.length || !test.tiles.length) throw new ArgumentError(`operating points need images in both splits (val ${val.tiles.length}, test ${test.tiles.length})`);
  for (const f of floors) if (!(f > 0 && f <= 1)) throw new ArgumentError(`expected clean-kept floors in (0, 1] but received ${f}`);
  const valShares = probsByShare(val, K);
  const testShares = probsByShare(test, K);
  const start = scanAggregation(valShares, val.targets, labels, [...thresholds]).map(({ fraction, threshold }) => ({ fraction, threshold }));
  const single = rowsByLabelCount(test.targets, K, (n) => n <= 1);
  const cleanRows = rowsByLabelCount(test.targets, K, (n) => n === 0);
  return [undefined, ...floors].map((floor) => {
    const j = calibrateJointly(valShares, val.targets, K, thresholds, start, { minCleanKept: floor, multiStart: opts.multiStart });
    const thr = j.rules.map((r) => r.threshold);
    const Pt = probsUnderRules(testShares, j.rules);
    const m = multiLabelMetrics(Pt, test.targets, labels, thr);
    const s = multiLabelMetrics(pickRows(Pt, single, K), pickRows(test.targets, single, K), labels, thr);
    const flagged = (k: number) => cleanRows.filter((i) => Pt[i * K + k]! >= thr[k]!).length / cleanRows.length;
    return {
      floor: floor ?? null,
      rules: j.rules,
      val: { macroF1WithClean: j.macroF1WithClean, cleanKept: j.cleanKept, feasible: j.feasible, start: j.start, multiRecall: multiLabelRecall(probsUnderRules(valShares, j.rules), val.targets, labels, thr) },
      test: {
        macroF1: m.macroF1,
        macroF1WithClean: m.macroF1WithClean,
        cleanKept: cleanKept(m),
        singleMacroF1: s.macroF1,
        singleWithClean: s.macroF1WithClean,
        recall: Object.fromEntries(m.perClass.map((p) => [p.label, p.recall])),
        multiRecall: multiLabelRecall(Pt, test.targets, labels, thr),
        falseAlarms: Object.fromEntries(labels.map((l, k) => [l, flagged(k)])),
      },
    };
  });
}
