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

export interface InspectorDatasetEval {
  /** Every readable image. */
  metrics: MultiLabelMetrics;
  /** Of the images without any label, the share the inspector kept clean. */
  cleanKept: number;
  /** Images with at most one label (clean or one degradation), and images with two or more. */
  single?: MultiLabelMetrics;
  multi?: MultiLabelMetrics;
  /** Macro-F1 (all images) at each threshold of `scan`, when asked for. */
  scan?: { threshold: number; macroF1: number; cleanKept: number }[];
  /** With `scan`: the first scanned threshold with the best macro-F1. */
  bestScan?: { threshold: number; macroF1: number; cleanKept: number };
  /** With `scan`: for each label, the first scanned threshold with the best F1 of that label. */
  bestLabelThresholds?: number[];
  /** Files the inspector could not read, with the reason; they are left out of the metrics. */
  errors: { file: string; error: string }[];
}

export async function evaluateInspectorOnDataset(
  inspector: Inspector,
  ds: Dataset,
  opts: { threshold?: number; scan?: number[]; onFile?: (i: number, n: number) => void } = {},
): Promise<InspectorDatasetEval> {
  if (!ds.multiLabel) throw new ArgumentError(`${ds.root}: inspector evaluation needs a multi-label (manifest) dataset`);
  const labels = inspector.config.labels;
  const index = ds.classes.map((c) => {
    const k = labels.indexOf(c as (typeof labels)[number]);
    if (k < 0) throw new ArgumentError(`${ds.root}: dataset label "${c}" is not an inspector label (${labels.join(', ')})`);
    return k;
  });
  const K = ds.classes.length;
  const probs: number[] = [];
  const targets: number[] = [];
  const errors: InspectorDatasetEval['errors'] = [];
  for (const [i, s] of ds.samples.entries()) {
    try {
      const r = await inspector.inspect(s.file);
      for (const k of index) probs.push(r.scores[k]!.probability);
      for (let c = 0; c < K; c++) targets.push(s.labels![c]!);
    } catch (e) {
      errors.push({ file: s.file, error: (e as Error).message });
    }
    opts.onFile?.(i + 1, ds.samples.length);
  }
  // One threshold (override or the config's), or the config's per-label ones in dataset label order.
  const perLabel = inspector.thresholds(opts.threshold);
  const threshold = opts.threshold ?? (inspector.config.labelThresholds ? index.map((k) => perLabel[k]!) : inspector.config.threshold);
  const P = Float32Array.from(probs);
  const T = Float32Array.from(targets);
  const out: InspectorDatasetEval = { metrics: multiLabelMetrics(P, T, ds.classes, threshold), cleanKept: cleanKept(P, T, K, threshold), errors };
  // Rows by label count: [N, K] -> the rows with <= 1 and >= 2 positive labels.
  const rows = (keep: (n: number) => boolean) => {
    const idx: number[] = [];
    for (let i = 0; i < T.length / K; i++) if (keep(T.subarray(i * K, (i + 1) * K).reduce((s, v) => s + (v > 0.5 ? 1 : 0), 0))) idx.push(i);
    const pick = (a: Float32Array) => Float32Array.from(idx.flatMap((i) => Array.from(a.subarray(i * K, (i + 1) * K))));
    return idx.length ? multiLabelMetrics(pick(P), pick(T), ds.classes, threshold) : undefined;
  };
  out.single = rows((n) => n <= 1);
  out.multi = rows((n) => n >= 2);
  if (opts.scan) {
    const scanned = opts.scan.map((t) => ({ t, m: multiLabelMetrics(P, T, ds.classes, t) }));
    out.scan = scanned.map(({ t, m }) => ({ threshold: t, macroF1: m.macroF1, cleanKept: cleanKept(P, T, K, t) }));
    out.bestScan = out.scan.reduce((b, x) => (x.macroF1 > b.macroF1 ? x : b));
    out.bestLabelThresholds = ds.classes.map((_, c) => scanned.reduce((b, x) => (x.m.perClass[c]!.f1 > b.m.perClass[c]!.f1 ? x : b)).t);
  }
  return out;
}

/** Of the images with no label, the share whose probabilities all stay below their threshold. */
export function cleanKept(probs: Float32Array, targets: Float32Array, K: number, threshold: number | readonly number[]): number {
  const thr = labelThresholds(threshold, K);
  let clean = 0;
  let kept = 0;
  for (let i = 0; i < targets.length / K; i++) {
    if (targets.subarray(i * K, (i + 1) * K).some((v) => v > 0.5)) continue;
    clean++;
    if (probs.subarray(i * K, (i + 1) * K).every((p, c) => p < thr[c]!)) kept++;
  }
  return clean ? kept / clean : NaN;
}
