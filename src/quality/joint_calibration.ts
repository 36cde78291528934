/**
 * Joint choice of the inspector's per-label decision rules (threshold, and optionally the share of
 * tiles averaged) for the macro-F1 over the labels *and* "clean".
 *
 * Choosing each label's threshold for its own F1 ignores that an image is called clean only when
 * every label stays below its threshold: seven labels that each flag 5-10% of clean images
 * together flag about half of them. Here "clean" is scored as one more class (metrics.ts
 * `macroF1WithClean`) and the rules are found by coordinate ascent: starting from each label's
 * own best rule, every label in turn takes the candidate rule that maximises the joint score with
 * the other labels fixed, until a full round changes nothing (or `maxRounds`). Each step can only
 * raise the score, so the search ends; it finds a local optimum, at least as good as the start.
 */

/** One label's rule: the image probability is the mean of the top `fraction` of tiles (when scanned), flagged at `threshold`. */
export interface LabelRule {
  fraction?: number;
  threshold: number;
}

export interface JointCalibration {
  /** Per label (in `targets` column order). */
  rules: LabelRule[];
  /** Macro-F1 over labels with support and clean, at `rules`. */
  macroF1WithClean: number;
  /** The same score at the starting rules. */
  startMacroF1WithClean: number;
  rounds: number;
}

/**
 * @param probs image probabilities [N, K] for each scanned tile share (key = fraction), or a single
 *   entry under `undefined` when the aggregation is fixed
 * @param targets 0/1 targets [N, K]
 * @param start the starting rule per label (each label's own best F1)
 */
export function calibrateJointly(
  probs: ReadonlyMap<number | undefined, Float32Array>,
  targets: Float32Array,
  K: number,
  thresholds: readonly number[],
  start: readonly LabelRule[],
  maxRounds = 20,
): JointCalibration {
  const N = targets.length / K;
  const y = (i: number, c: number) => targets[i * K + c]! > 0.5;
  const candidates: LabelRule[] = [...probs.keys()].flatMap((fraction) => thresholds.map((threshold) => ({ fraction, threshold })));
  const predict = (c: number, r: LabelRule): Uint8Array => {
    const P = probs.get(r.fraction);
    if (!P) throw new Error(`calibrateJointly: no probabilities for tile share ${r.fraction}`);
    const out = new Uint8Array(N);
    for (let i = 0; i < N; i++) out[i] = P[i * K + c]! >= r.threshold ? 1 : 0;
    return out;
  };
  const f1 = (tp: number, fp: number, fn: number) => (tp ? (2 * tp) / (2 * tp + fp + fn) : 0);
  const labelF1 = (c: number, pred: Uint8Array) => {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < N; i++) {
      const t = y(i, c);
      if (pred[i] && t) tp++;
      else if (pred[i]) fp++;
      else if (t) fn++;
    }
    return f1(tp, fp, fn);
  };
  const support = Array.from({ length: K }, (_, c) => [...Array(N).keys()].some((i) => y(i, c)));
  const isClean = Uint8Array.from({ length: N }, (_, i) => ([...Array(K).keys()].every((c) => !y(i, c)) ? 1 : 0));
  const hasClean = isClean.some((v) => v === 1);
  const scored = support.filter(Boolean).length + (hasClean ? 1 : 0);
  const cleanF1 = (fires: Int32Array) => {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < N; i++) {
      const said = fires[i] === 0;
      if (said && isClean[i]) tp++;
      else if (said) fp++;
      else if (isClean[i]) fn++;
    }
    return f1(tp, fp, fn);
  };

  const rules = start.map((r) => ({ ...r }));
  if (rules.length !== K) throw new Error(`calibrateJointly: expected ${K} starting rules but received ${rules.length}`);
  const preds = rules.map((r, c) => predict(c, r));
  const f1s = preds.map((p, c) => (support[c] ? labelF1(c, p) : 0));
  const fires = new Int32Array(N);
  for (const p of preds) for (let i = 0; i < N; i++) fires[i]! += p[i]!;
  const total = (labelSum: number, clean: number) => (labelSum + (hasClean ? clean : 0)) / Math.max(1, scored);
  const startScore = total(f1s.reduce((s, v) => s + v, 0), cleanF1(fires));
  let score = startScore;
  let rounds = 0;
  for (let changed = true; changed && rounds < maxRounds; rounds++) {
    changed = false;
    for (let c = 0; c < K; c++) {
      const others = f1s.reduce((s, v, k) => (k === c ? s : s + v), 0);
      let best: { rule: LabelRule; pred: Uint8Array; f1: number; score: number } | undefined;
      for (const cand of candidates) {
        const pred = predict(c, cand);
        const trial = Int32Array.from(fires, (v, i) => v - preds[c]![i]! + pred[i]!);
        const f = support[c] ? labelF1(c, pred) : 0;
        const s = total(others + f, cleanF1(trial));
        if (s > (best?.score ?? score) + 1e-12) best = { rule: cand, pred, f1: f, score: s };
      }
      if (!best) continue;
      for (let i = 0; i < N; i++) fires[i]! += best.pred[i]! - preds[c]![i]!;
      preds[c] = best.pred;
      f1s[c] = best.f1;
      rules[c] = { ...best.rule };
      score = best.score;
      changed = true;
    }
  }
  return { rules: rules.map((r) => (r.fraction === undefined ? { threshold: r.threshold } : r)), macroF1WithClean: score, startMacroF1WithClean: startScore, rounds };
}
