/**
 * Evaluation of a packaged inspector (ONNX + config) on a labelled dataset, e.g. the synthesizer's
 * test split: every image goes through `Inspector.inspect` exactly as in production (tiles at native
 * scale, top-k aggregation, the config's threshold), and the aggregated probabilities are scored
 * with the multi-label metrics of training (per-label P/R/F1, mAP, confusion including "clean").
 */
import type { Dataset } from '../data/dataset.js';
import { labelThresholds, multiLabelMetrics, type MultiLabelMetrics } from '../train/metrics.js';
import { ArgumentError } from '../util/errors.js';
import type { Inspector } from './inspector.js';
import type { InspectResult } from './labels.js';
import { tilesInShare, topMean } from './aggregate.js';
import { labelTileProbabilities, roundProbability } from './core.js';
import { calibrateJointly, ISSUE_BARS, type JointCalibration } from './joint_calibration.js';
import { analyseMisses, type DecisionRow } from './miss_analysis.js';

/**
 * What a calibration scan maximises: 'label-f1' gives each label the rule with its own best F1 and
 * the global threshold the best macro-F1 over labels; 'with-clean' scores "clean" as one more class
 * and chooses all labels' rules jointly (joint_calibration.ts); 'bars' chooses them jointly for the
 * issue's two synthetic bars (single-problem macro-F1 and two-problem recall, ISSUE_BARS), its
 * global threshold (the fallback of labels without a rule) as 'with-clean'.
 */
export type CalibrationObjective = 'label-f1' | 'with-clean' | 'bars';
export const CALIBRATION_OBJECTIVES: readonly CalibrationObjective[] = ['label-f1', 'with-clean', 'bars'];

/** Whether the objective chooses the labels' rules jointly (joint_calibration.ts) and scores the global threshold with clean. */
export function isJointObjective(o: CalibrationObjective | undefined): o is 'with-clean' | 'bars' {
  return o === 'with-clean' || o === 'bars';
}

export interface InspectorDatasetEval {
  /** Every readable image. */
  metrics: MultiLabelMetrics;
  /** Of the images without any label, the share the inspector kept clean. */
  cleanKept: number;
  /** Images with at most one label (clean or one degradation), and images with two or more. */
  single?: MultiLabelMetrics;
  multi?: MultiLabelMetrics;
  /**
   * When the manifest names at least two source kinds (synthesizer lines' `source.kind`: photo crops
   * and procedural dead leaves), the same scores for each kind's images (first-seen order; images
   * without one are grouped as "unknown").
   */
  bySource?: SourceScores[];
  /**
   * For each label with a positive image: how often it was found on the images carrying it, by
   * severity band (SEVERITY_BANDS; the manifest's per-label severity, as the synthesizer records it),
   * so a miss can be told from a label too weak to see. Empty bands are left out.
   */
  bySeverity?: { label: string; bands: SeverityBand[] }[];
  /** Images with exactly two labels, by label pair (dataset label order): how often each label was found. */
  pairs?: { labels: [string, string]; n: number; recall: [number, number] }[];
  /** Macro-F1 (all images) at each threshold of `scan`, when asked for. */
  scan?: ScanPoint[];
  /** With `scan`: the first scanned threshold with the best score of the objective. */
  bestScan?: ScanPoint;
  /** With `scan`: for each label, the first scanned threshold with the best F1 of that label. */
  bestLabelThresholds?: number[];
  /**
   * With `scan` and `fractions`: for each label, the tile share and threshold with the best F1 of
   * that label, the tiles re-aggregated for every share (aggregate.ts).
   */
  bestLabelAggregation?: { fraction: number; threshold: number; f1: number }[];
  /**
   * With `scan` and a joint objective ('with-clean', 'bars'): every label's rule (threshold, and tile
   * share when `fractions` are scanned) chosen jointly for it, starting from the per-label bests.
   */
  bestJoint?: JointCalibration;
  /** With `scan`: labels without a positive image in the split (their rules are left as they were). */
  unsupportedLabels?: string[];
  /** Files the inspector could not read, with the reason; they are left out of the metrics. */
  errors: { file: string; error: string }[];
}

export interface SourceScores {
  source: string;
  metrics: MultiLabelMetrics;
  /** Of its images without any label, the share kept clean (NaN when it has none). */
  cleanKept: number;
  /** Its images with at most one label. */
  single?: MultiLabelMetrics;
}

export interface SeverityBand {
  /** Severity range [from, to) (the last band includes 1). */
  from: number;
  to: number;
  /** Images carrying the label with a severity in the range, and the share of them it was found on. */
  n: number;
  recall: number;
}

/** Severity bands of `bySeverity`: thirds of [0, 1], as miss_analysis.ts bins them (the last one closed). */
export const SEVERITY_BANDS: readonly [number, number][] = [0, 1, 2].map((b) => [b / 3, (b + 1) / 3]);

export interface ScanPoint {
  threshold: number;
  macroF1: number;
  macroF1WithClean: number;
  cleanKept: number;
}

export async function evaluateInspectorOnDataset(
  inspector: Inspector,
  ds: Dataset,
  opts: { threshold?: number; scan?: number[]; fractions?: readonly number[]; objective?: CalibrationObjective; minCleanKept?: number; onFile?: (i: number, n: number) => void } = {},
): Promise<InspectorDatasetEval> {
  if (!ds.multiLabel) throw new ArgumentError(`${ds.root}: inspector evaluation needs a multi-label (manifest) dataset`);
  const labels = inspector.config.labels;
  const index = ds.classes.map((c) => {
    const k = labels.indexOf(c as (typeof labels)[number]);
    if (k < 0) throw new ArgumentError(`${ds.root}: dataset label "${c}" is not an inspector label (${labels.join(', ')})`);
    return k;
  });
  // One threshold (override or the config's), or the config's per-label ones: checked before any image.
  const perLabel = inspector.thresholds(opts.threshold);
  const K = ds.classes.length;
  const probs: number[] = [];
  const targets: number[] = [];
  const errors: InspectorDatasetEval['errors'] = [];
  /** Source kind of each scored row. */
  const sources: string[] = [];
  /** Per-label severity of each scored row [N, K] (the dataset's; 1 where a manifest gives none). */
  const severities: number[] = [];
  /** Per image and inspector label, the probabilities of the tiles it is aggregated from [label][T]. */
  const tiles: number[][][] = [];
  for (const [i, s] of ds.samples.entries()) {
    try {
      const r = await inspector.inspect(s.file);
      if (opts.fractions) tiles.push(tilesByLabel(r));
      for (const k of index) probs.push(r.scores[k]!.probability);
      for (let c = 0; c < K; c++) targets.push(s.labels![c]!);
      sources.push(s.source ?? 'unknown');
      for (let c = 0; c < K; c++) severities.push(s.severities?.[c] ?? 1);
    } catch (e) {
      errors.push({ file: s.file, error: (e as Error).message });
    }
    opts.onFile?.(i + 1, ds.samples.length);
  }
  // In dataset label order.
  const threshold = opts.threshold ?? (inspector.config.labelThresholds ? index.map((k) => perLabel[k]!) : inspector.config.threshold);
  // Doubles, as the inspector decides on them (a Float32 copy of 0.35 is below a 0.35 threshold).
  const P = Float64Array.from(probs);
  const T = Float32Array.from(targets);
  const metrics = multiLabelMetrics(P, T, ds.classes, threshold);
  const out: InspectorDatasetEval = { metrics, cleanKept: cleanKept(metrics), errors };
  // The metrics of some rows of [N, K] (undefined for none).
  const scoreRows = (idx: readonly number[]) => (idx.length ? multiLabelMetrics(pickRows(P, idx, K), pickRows(T, idx, K), ds.classes, threshold) : undefined);
  // Rows by label count: the rows with <= 1 and >= 2 positive labels.
  const singleRows = rowsByLabelCount(T, K, (n) => n <= 1);
  out.single = scoreRows(singleRows);
  out.multi = scoreRows(rowsByLabelCount(T, K, (n) => n >= 2));
  const thresholds = labelThresholds(threshold, K);
  out.pairs = pairRecall(P, T, ds.classes, thresholds);
  out.bySeverity = recallBySeverity(P, T, Float64Array.from(severities), ds.classes, thresholds);
  const kinds = [...new Set(sources)];
  if (kinds.length >= 2) {
    const isSingle = new Set(singleRows);
    out.bySource = kinds.map((source) => {
      const idx = sources.flatMap((k, i) => (k === source ? [i] : []));
      const m = scoreRows(idx)!;
      return { source, metrics: m, cleanKept: cleanKept(m), single: scoreRows(idx.filter((i) => isSingle.has(i))) };
    });
  }
  if (opts.scan) {
    const scanned = opts.scan.map((t) => ({ t, m: multiLabelMetrics(P, T, ds.classes, t) }));
    out.scan = scanned.map(({ t, m }) => ({ threshold: t, macroF1: m.macroF1, macroF1WithClean: m.macroF1WithClean, cleanKept: cleanKept(m) }));
    const score = (x: ScanPoint) => (isJointObjective(opts.objective) ? x.macroF1WithClean : x.macroF1);
    out.bestScan = out.scan.reduce((b, x) => (score(x) > score(b) ? x : b));
    // Labels without a positive image have no F1 to choose by: they keep the inspector's current
    // rule (its threshold; its tile share when that is one of the scanned ones, else all tiles).
    const unsupported = new Set(ds.classes.flatMap((_, c) => (out.metrics.perClass[c]!.support > 0 ? [] : [c])));
    out.unsupportedLabels = [...unsupported].map((c) => ds.classes[c]!);
    const current = (c: number) => {
      const f = inspector.config.labelTopFraction?.[index[c]!];
      return { threshold: perLabel[index[c]!]!, fraction: f !== undefined && opts.fractions?.includes(f) ? f : 1 };
    };
    out.bestLabelThresholds = ds.classes.map((_, c) => (unsupported.has(c) ? current(c).threshold : scanned.reduce((b, x) => (x.m.perClass[c]!.f1 > b.m.perClass[c]!.f1 ? x : b)).t));
    // [N, K] image probabilities for each scanned tile share (computed once for both searches).
    const shares = opts.fractions && new Map(opts.fractions.map((f) => [f, probsAtShare(tiles, index, f)]));
    if (shares) out.bestLabelAggregation = scanAggregation(shares, T, ds.classes, opts.scan).map((r, c) => (unsupported.has(c) ? { ...current(c), f1: NaN } : r));
    if (isJointObjective(opts.objective)) {
      const byShare = new Map<number | undefined, Float64Array>(shares ?? [[undefined, P]]);
      const start = out.bestLabelAggregation?.map(({ fraction, threshold }) => ({ fraction, threshold })) ?? out.bestLabelThresholds.map((threshold) => ({ threshold }));
      out.bestJoint = calibrateJointly(byShare, T, K, opts.scan, start, { minCleanKept: opts.minCleanKept, objective: opts.objective === 'bars' ? { kind: 'bars', ...ISSUE_BARS } : { kind: 'with-clean' } });
    }
  }
  return out;
}

/**
 * Recall of each label on the rows carrying it, by severity band (SEVERITY_BANDS), in dataset label
 * order: the rows' decisions at `thr` binned by miss_analysis.ts (alone and with a partner
 * together); labels and bands without rows are left out.
 */
export function recallBySeverity(P: Float64Array, T: Float32Array, S: Float64Array, classes: readonly string[], thr: readonly number[]): NonNullable<InspectorDatasetEval['bySeverity']> {
  const K = classes.length;
  const rows: DecisionRow[] = [];
  for (let i = 0; i < T.length / K; i++) {
    const truth = classes.filter((_, c) => T[i * K + c]! > 0.5);
    if (!truth.length) continue;
    rows.push({
      truth,
      severities: Object.fromEntries(classes.flatMap((l, c) => (T[i * K + c]! > 0.5 ? [[l, S[i * K + c]!]] : []))),
      predicted: classes.filter((_, c) => P[i * K + c]! >= thr[c]!),
    });
  }
  const byLabel = new Map(analyseMisses(rows, SEVERITY_BANDS.length).map((m) => [m.label, m]));
  return classes.flatMap((label) => {
    const m = byLabel.get(label);
    if (!m) return [];
    const bands = SEVERITY_BANDS.flatMap(([from, to], b) => {
      const n = m.alone[b]!.n + m.partner[b]!.n;
      return n ? [{ from, to, n, recall: (m.alone[b]!.found + m.partner[b]!.found) / n }] : [];
    });
    return [{ label, bands }];
  });
}

/** Recall of each label of the two-label rows, grouped by their label pair (pairs that occur only). */
function pairRecall(P: Float64Array, T: Float32Array, classes: readonly string[], thr: readonly number[]): NonNullable<InspectorDatasetEval['pairs']> {
  const K = classes.length;
  const groups = new Map<string, { a: number; b: number; n: number; found: [number, number] }>();
  for (let i = 0; i < T.length / K; i++) {
    const pos = [...Array(K).keys()].filter((c) => T[i * K + c]! > 0.5);
    if (pos.length !== 2) continue;
    const [a, b] = pos as [number, number];
    const g = groups.get(`${a},${b}`) ?? { a, b, n: 0, found: [0, 0] };
    g.n++;
    if (P[i * K + a]! >= thr[a]!) g.found[0]++;
    if (P[i * K + b]! >= thr[b]!) g.found[1]++;
    groups.set(`${a},${b}`, g);
  }
  return [...groups.values()].sort((x, y) => x.a - y.a || x.b - y.b).map((g) => ({ labels: [classes[g.a]!, classes[g.b]!], n: g.n, recall: [g.found[0] / g.n, g.found[1] / g.n] }));
}

/**
 * For each label, the (tile share, threshold) with the best F1, from the image probabilities [N, K]
 * recomputed for every share (`shares`, probsAtShare); the first best pair in scan order wins.
 */
export function scanAggregation(shares: ReadonlyMap<number, Float64Array>, targets: Float32Array, classes: readonly string[], thresholds: number[]): { fraction: number; threshold: number; f1: number }[] {
  const [first] = shares.keys();
  const best = classes.map(() => ({ fraction: first!, threshold: thresholds[0]!, f1: -1 }));
  for (const [fraction, P] of shares) {
    for (const threshold of thresholds) {
      const m = multiLabelMetrics(P, targets, classes, threshold);
      m.perClass.forEach((pc, c) => {
        if (pc.f1 > best[c]!.f1) best[c] = { fraction, threshold, f1: pc.f1 };
      });
    }
  }
  return best;
}

/**
 * One image's tile probabilities in the layout probsAtShare takes: [label][tile], each inspector
 * label with the tiles it is aggregated from (its detail tiles for a detail label, its finer
 * coverage for a fine label; core.ts labelTiles). Scripts that
 * re-aggregate inspect() results must use this, not `tileProbabilities` ([tile][label], coverage only).
 */
export function tilesByLabel(r: InspectResult): number[][] {
  return r.scores.map((_, k) => labelTileProbabilities(r, k));
}

/**
 * [N, K] image probabilities (dataset label order) with the top share `fraction` of tiles averaged
 * for every label, from the reported tile probabilities (`tiles`: per image and inspector label,
 * the tiles that label is read from, core.ts labelTileProbabilities) and rounded as the inspector does (core.ts
 * roundProbability), so they equal what the inspector would report with that share.
 */
export function probsAtShare(tiles: number[][][], index: number[], fraction: number): Float64Array {
  const K = index.length;
  const P = new Float64Array(tiles.length * K);
  tiles.forEach((t, i) => index.forEach((k, c) => (P[i * K + c] = roundProbability(topMean(t[k]!, tilesInShare(fraction, t[k]!.length)).probability))));
  return P;
}

/** Of the images with no label, the share kept clean (metrics' clean recall; NaN when there are none). */
export function cleanKept(m: MultiLabelMetrics): number {
  return m.clean.support ? m.clean.recall : NaN;
}

/** Rows of [N, K] targets whose label count passes `keep`. */
export function rowsByLabelCount(T: Float32Array, K: number, keep: (n: number) => boolean): number[] {
  return [...Array(T.length / K).keys()].filter((i) => keep(T.subarray(i * K, (i + 1) * K).reduce((s, v) => s + (v > 0.5 ? 1 : 0), 0)));
}

/** The rows `rows` of an [N, K] array, as an [rows.length, K] array of the same type. */
export function pickRows<A extends Float32Array | Float64Array>(a: A, rows: readonly number[], K: number): A {
  const out = new (a.constructor as new (n: number) => A)(rows.length * K);
  rows.forEach((i, r) => out.set(a.subarray(i * K, (i + 1) * K), r * K));
  return out;
}
