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
 *
 * With `minCleanKept`, rules that keep fewer clean images clean than that share rank below every
 * rule set that meets it, and among themselves by the share kept: the ascent first climbs to the
 * floor, then maximises the score above it (a false-alarm budget: fewer flags on clean photos at
 * the cost of recall).
 *
 * Several starts. Climbing to the floor from each label's own best takes, label by label, whatever
 * keeps the most clean rows, whatever it costs in score; once there, loosening one label would need
 * another to tighten first, which a one-label step cannot do (seen in session 15: a model whose
 * 80% floor scored below its 85% floor). So the ascent also runs from the strictest rules (every
 * label at the candidate that fires least, so the floor is met from the first step and every step
 * is for the score) and, under a floor, from the unconstrained optimum; the best end point wins
 * (feasible first, then score). The first start is the given one, so the result is never below a
 * single ascent from it.
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
  /** Share of the clean rows that `rules` keep clean. */
  cleanKept: number;
  /** Whether `rules` meet `minCleanKept` (true when none was asked for). */
  feasible: boolean;
  /** Label columns without a positive row: they kept their starting rule. */
  unsupported: number[];
  /** Rounds run by the winning ascent, the last one included; `converged` is false when `maxRounds` stopped it. */
  rounds: number;
  converged: boolean;
  /** The start the winning ascent came from. */
  start: JointStart;
  /** Where each start's ascent ended, in the order run (the given start first). */
  starts: { start: JointStart; macroF1WithClean: number; cleanKept: number; feasible: boolean }[];
}

/**
 * Starts of the ascent: the given rules (each label's own best), the optimum without a floor (only
 * under a floor), and the strictest rules (see the module comment).
 */
export type JointStart = 'given' | 'unconstrained optimum' | 'strictest';

/** Rank of a rule set for the ascent (see the module comment). */
interface Rank {
  feasible: boolean;
  score: number;
  kept: number;
  meanFires: number;
}

/** Whether rank a is above rank b (beyond float noise). */
function above(a: Rank, b: Rank): boolean {
  const eps = 1e-12;
  if (a.feasible !== b.feasible) return a.feasible;
  if (a.feasible) return a.score > b.score + eps;
  if (Math.abs(a.kept - b.kept) > eps) return a.kept > b.kept;
  return a.meanFires < b.meanFires - eps;
}

/**
 * @param probs image probabilities [N, K] for each scanned tile share (key = fraction), or a single
 *   entry under `undefined` when the aggregation is fixed
 * @param targets 0/1 targets [N, K]
 * @param start the starting rule per label (each label's own best F1)
 * @param opts.multiStart also ascend from the other starts (default true); false runs the single
 *   ascent from `start` (the search of sessions 8-15)
 */
export function calibrateJointly(
  probs: ReadonlyMap<number | undefined, Float32Array | Float64Array>,
  targets: Float32Array,
  K: number,
  thresholds: readonly number[],
  start: readonly LabelRule[],
  opts: { maxRounds?: number; minCleanKept?: number; multiStart?: boolean } = {},
): JointCalibration {
  const maxRounds = opts.maxRounds ?? 20;
  const floor = opts.minCleanKept ?? 0;
  const N = targets.length / K;
  if (!Number.isInteger(N)) throw new Error(`calibrateJointly: ${targets.length} targets do not form rows of ${K} labels`);
  if (!(floor >= 0 && floor <= 1)) throw new Error(`calibrateJointly: expected minCleanKept in [0, 1] but received ${opts.minCleanKept}`);
  if (!thresholds.length) throw new Error('calibrateJointly: no thresholds to scan');
  for (const [fraction, P] of probs) {
    if (P.length !== targets.length) throw new Error(`calibrateJointly: probabilities for tile share ${fraction} hold ${P.length} values, targets ${targets.length}`);
  }
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
  const cleanRows = isClean.reduce((s, v) => s + v, 0);
  const hasClean = cleanRows > 0;
  if (floor > 0 && !hasClean) throw new Error('calibrateJointly: minCleanKept needs clean rows');
  const scored = support.filter(Boolean).length + (hasClean ? 1 : 0);
  /** F1 of the clean class and the share of clean rows kept clean, for per-row label counts `fires`. */
  const cleanScores = (fires: Int32Array) => {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < N; i++) {
      const said = fires[i] === 0;
      if (said && isClean[i]) tp++;
      else if (said) fp++;
      else if (isClean[i]) fn++;
    }
    let firesOnClean = 0;
    for (let i = 0; i < N; i++) if (isClean[i]) firesOnClean += fires[i]!;
    return { f1: f1(tp, fp, fn), kept: hasClean ? tp / cleanRows : 1, meanFires: hasClean ? firesOnClean / cleanRows : 0 };
  };

  if (start.length !== K) throw new Error(`calibrateJointly: expected ${K} starting rules but received ${start.length}`);
  const total = (labelSum: number, clean: number) => (labelSum + (hasClean ? clean : 0)) / Math.max(1, scored);
  /** Joint score and clean scores of a rule set (the starting point of an ascent). */
  const evaluate = (rules: readonly LabelRule[]) => {
    const preds = rules.map((r, c) => predict(c, r));
    const f1s = preds.map((p, c) => (support[c] ? labelF1(c, p) : 0));
    const fires = new Int32Array(N);
    for (const p of preds) for (let i = 0; i < N; i++) fires[i]! += p[i]!;
    const clean = cleanScores(fires);
    return { preds, f1s, fires, clean, score: total(f1s.reduce((s, v) => s + v, 0), clean.f1) };
  };
  /** Coordinate ascent from `from` under `minKept` (see the module comment). */
  const ascend = (from: readonly LabelRule[], minKept: number) => {
    const rank = (score: number, cs: { kept: number; meanFires: number }): Rank => ({ feasible: cs.kept >= minKept - 1e-12, score, kept: cs.kept, meanFires: cs.meanFires });
    const rules = from.map((r) => ({ ...r }));
    const at = evaluate(rules);
    const { preds, f1s, fires } = at;
    let { clean, score } = at;
    let rounds = 0;
    let changed = true;
    for (; changed && rounds < maxRounds; rounds++) {
      changed = false;
      for (let c = 0; c < K; c++) {
        if (!support[c]) continue;
        const others = f1s.reduce((s, v, k) => (k === c ? s : s + v), 0);
        let best: { rule: LabelRule; pred: Uint8Array; f1: number; score: number; clean: typeof clean; rank: Rank } | undefined;
        for (const cand of candidates) {
          const pred = predict(c, cand);
          const trial = Int32Array.from(fires, (v, i) => v - preds[c]![i]! + pred[i]!);
          const f = labelF1(c, pred);
          const cs = cleanScores(trial);
          const s = total(others + f, cs.f1);
          const r = rank(s, cs);
          if (above(r, best?.rank ?? rank(score, clean))) best = { rule: cand, pred, f1: f, score: s, clean: cs, rank: r };
        }
        if (!best) continue;
        for (let i = 0; i < N; i++) fires[i]! += best.pred[i]! - preds[c]![i]!;
        preds[c] = best.pred;
        f1s[c] = best.f1;
        rules[c] = { ...best.rule };
        score = best.score;
        clean = best.clean;
        changed = true;
      }
    }
    return { rules, score, clean, rank: rank(score, clean), rounds, converged: !changed };
  };
  /** Each label at the candidate that flags the fewest rows (the highest threshold among ties). */
  const strictest = start.map((r, c) => {
    if (!support[c]) return { ...r };
    const count = (cand: LabelRule) => predict(c, cand).reduce((s, v) => s + v, 0);
    return candidates.reduce((b, cand) => {
      const d = count(cand) - count(b);
      return d < 0 || (d === 0 && cand.threshold > b.threshold) ? cand : b;
    });
  });
  const starts: { name: JointStart; rules: readonly LabelRule[] }[] = [{ name: 'given', rules: start }];
  if (opts.multiStart ?? true) {
    if (floor > 0) starts.push({ name: 'unconstrained optimum', rules: ascend(start, 0).rules });
    starts.push({ name: 'strictest', rules: strictest });
  }
  const runs = starts.map((st) => ({ name: st.name, ...ascend(st.rules, floor) }));
  const won = runs.reduce((b, r) => (above(r.rank, b.rank) ? r : b));
  return {
    rules: won.rules.map((r) => (r.fraction === undefined ? { threshold: r.threshold } : r)),
    macroF1WithClean: won.score,
    startMacroF1WithClean: evaluate(start).score,
    cleanKept: won.clean.kept,
    feasible: won.rank.feasible,
    unsupported: support.flatMap((v, c) => (v ? [] : [c])),
    rounds: won.rounds,
    converged: won.converged,
    start: won.name,
    starts: runs.map((r) => ({ start: r.name, macroF1WithClean: r.score, cleanKept: r.clean.kept, feasible: r.rank.feasible })),
  };
}
