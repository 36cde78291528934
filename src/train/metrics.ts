/**
 * Classification metrics: top-k accuracy, confusion matrix, per-class precision/recall/F1, macro-F1,
 * expected calibration error; multi-label average precision (mAP) and per-label F1 at a threshold.
 */
import { ArgumentError } from '../util/errors.js';

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface SingleLabelMetrics {
  kind: 'single';
  n: number;
  top1: number;
  top5: number;
  macroF1: number;
  /** Expected calibration error of the max-softmax confidence (15 equal-width bins). */
  ece: number;
  perClass: ClassMetrics[];
  /** confusion[true][pred] counts. */
  confusion: number[][];
  classes: string[];
}

export interface MultiLabelMetrics {
  kind: 'multi';
  n: number;
  mAP: number;
  macroF1: number;
  /**
   * The derived class "clean" scored like a label: positive when a sample has no label, predicted
   * when no probability reaches its threshold (recall = share of clean samples kept clean).
   */
  clean: ClassMetrics;
  /**
   * Macro-F1 over the labels with support and "clean" (when there are clean samples): the score of
   * an inspector whose answers are "these problems" or "clean".
   */
  macroF1WithClean: number;
  /** Fraction of samples whose whole label set is predicted exactly. */
  exactMatch: number;
  /** ECE over all (sample, label) probabilities. */
  ece: number;
  /** The decision threshold: one for every label, or one per label (in `classes` order). */
  threshold: number | number[];
  perClass: (ClassMetrics & { ap: number })[];
  classes: string[];
  /** Confusion over "primary" labels (argmax, or 'clean' when none is above threshold). */
  confusion: number[][];
  confusionLabels: string[];
}

export function softmaxRows(logits: Float32Array, k: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i += k) {
    let m = -Infinity;
    for (let c = 0; c < k; c++) m = Math.max(m, logits[i + c]!);
    let s = 0;
    for (let c = 0; c < k; c++) s += out[i + c] = Math.exp(logits[i + c]! - m);
    for (let c = 0; c < k; c++) out[i + c]! /= s;
  }
  return out;
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

function prf(tp: number, fp: number, fn: number) {
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/** ECE: sum over bins of |accuracy - confidence| weighted by bin size. */
export function expectedCalibrationError(conf: ArrayLike<number>, correct: ArrayLike<number>, bins = 15): number {
  const cnt = new Float64Array(bins);
  const acc = new Float64Array(bins);
  const cf = new Float64Array(bins);
  for (let i = 0; i < conf.length; i++) {
    const b = Math.min(bins - 1, Math.floor(conf[i]! * bins));
    cnt[b]!++;
    acc[b]! += correct[i]!;
    cf[b]! += conf[i]!;
  }
  let e = 0;
  for (let b = 0; b < bins; b++) if (cnt[b]) e += Math.abs(acc[b]! - cf[b]!) / conf.length;
  return e;
}

/** Metrics from logits [N, K] and integer labels [N]. */
export function singleLabelMetrics(logits: Float32Array, labels: ArrayLike<number | bigint>, classes: readonly string[]): SingleLabelMetrics {
  const K = classes.length;
  const N = labels.length;
  const probs = softmaxRows(logits, K);
  const confusion = classes.map(() => new Array<number>(K).fill(0));
  let top1 = 0;
  let top5 = 0;
  const conf = new Float64Array(N);
  const correct = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const y = Number(labels[i]);
    const row = Array.from(probs.subarray(i * K, (i + 1) * K));
    let pred = 0;
    for (let c = 1; c < K; c++) if (row[c]! > row[pred]!) pred = c;
    const rank = row.filter((p) => p > row[y]!).length;
    if (rank === 0) top1++;
    if (rank < 5) top5++;
    confusion[y]![pred]!++;
    conf[i] = row[pred]!;
    correct[i] = pred === y ? 1 : 0;
  }
  const perClass = classes.map((label, c) => {
    const tp = confusion[c]![c]!;
    const fn = confusion[c]!.reduce((s, v) => s + v, 0) - tp;
    const fp = confusion.reduce((s, r) => s + r[c]!, 0) - tp;
    return { label, ...prf(tp, fp, fn), support: tp + fn };
  });
  const present = perClass.filter((p) => p.support > 0);
  return {
    kind: 'single',
    n: N,
    top1: top1 / N,
    top5: top5 / N,
    macroF1: present.reduce((s, p) => s + p.f1, 0) / Math.max(1, present.length),
    ece: expectedCalibrationError(conf, correct),
    perClass,
    confusion,
    classes: [...classes],
  };
}

/** Average precision of scores vs binary targets (area under the precision-recall steps). */
export function averagePrecision(scores: ArrayLike<number>, targets: ArrayLike<number>): number {
  const idx = [...Array(scores.length).keys()].sort((a, b) => scores[b]! - scores[a]!);
  const pos = Array.from(targets).filter((t) => t > 0.5).length;
  if (!pos) return NaN;
  let tp = 0;
  let ap = 0;
  idx.forEach((i, r) => {
    if (targets[i]! > 0.5) {
      tp++;
      ap += tp / (r + 1);
    }
  });
  return ap / pos;
}

/** Per-label thresholds from one threshold or a list (checked against the label count). */
export function labelThresholds(threshold: number | readonly number[], K: number): number[] {
  if (typeof threshold === 'number') return new Array<number>(K).fill(threshold);
  if (threshold.length !== K) throw new ArgumentError(`expected ${K} per-label thresholds but received ${threshold.length}`);
  return [...threshold];
}

/**
 * Multi-label metrics from probabilities [N, K] and 0/1 targets [N, K] at one threshold or one per
 * label. The derived label "clean" (no label at or above its threshold) is included in the
 * confusion matrix of primary labels.
 */
export function multiLabelMetrics(probs: Float32Array | Float64Array, targets: Float32Array, classes: readonly string[], threshold: number | readonly number[] = 0.5): MultiLabelMetrics {
  const K = classes.length;
  const N = probs.length / K;
  const thr = labelThresholds(threshold, K);
  const perClass = classes.map((label, c) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    const s = new Float64Array(N);
    const t = new Float32Array(N);
    for (let i = 0; i < N; i++) {
      const p = probs[i * K + c]!;
      const y = targets[i * K + c]! > 0.5;
      s[i] = p;
      t[i] = y ? 1 : 0;
      if (p >= thr[c]! && y) tp++;
      else if (p >= thr[c]!) fp++;
      else if (y) fn++;
    }
    return { label, ...prf(tp, fp, fn), support: tp + fn, ap: averagePrecision(s, t) };
  });
  let exact = 0;
  let cleanTp = 0;
  let cleanFp = 0;
  let cleanFn = 0;
  const conf: number[] = [];
  const correct: number[] = [];
  const labelsC = [...classes, 'clean'];
  const half = new Array<number>(K).fill(0.5);
  const confusion = labelsC.map(() => new Array<number>(K + 1).fill(0));
  const primary = (row: ArrayLike<number>, t: readonly number[]) => {
    let best = -1;
    for (let c = 0; c < K; c++) if (row[c]! >= t[c]! && (best < 0 || row[c]! > row[best]!)) best = c;
    return best < 0 ? K : best;
  };
  for (let i = 0; i < N; i++) {
    let all = true;
    const pr = probs.subarray(i * K, (i + 1) * K);
    const tr = targets.subarray(i * K, (i + 1) * K);
    for (let c = 0; c < K; c++) {
      const p = pr[c]!;
      const y = tr[c]! > 0.5;
      if (p >= thr[c]! !== y) all = false;
      conf.push(Math.max(p, 1 - p));
      correct.push(p >= 0.5 === y ? 1 : 0);
    }
    if (all) exact++;
    const isClean = tr.every((v) => v <= 0.5);
    const saidClean = pr.every((p, c) => p < thr[c]!);
    if (isClean && saidClean) cleanTp++;
    else if (saidClean) cleanFp++;
    else if (isClean) cleanFn++;
    confusion[primary(tr, half)]![primary(pr, thr)]!++;
  }
  const withSupport = perClass.filter((p) => p.support > 0);
  const aps = perClass.filter((p) => !Number.isNaN(p.ap));
  const clean = { label: 'clean', ...prf(cleanTp, cleanFp, cleanFn), support: cleanTp + cleanFn };
  const scored = clean.support > 0 ? [...withSupport, clean] : withSupport;
  return {
    kind: 'multi',
    n: N,
    mAP: aps.reduce((s, p) => s + p.ap, 0) / Math.max(1, aps.length),
    macroF1: withSupport.reduce((s, p) => s + p.f1, 0) / Math.max(1, withSupport.length),
    clean,
    macroF1WithClean: scored.reduce((s, p) => s + p.f1, 0) / Math.max(1, scored.length),
    exactMatch: exact / N,
    ece: expectedCalibrationError(conf, correct),
    threshold: typeof threshold === 'number' ? threshold : [...threshold],
    perClass,
    classes: [...classes],
    confusion,
    confusionLabels: labelsC,
  };
}
