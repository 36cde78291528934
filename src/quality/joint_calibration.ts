/**
 * Joint choice of the inspector's per-label decision rules (threshold, and optionally the share of
 * tiles averaged), for one objective over all labels at once.
 *
 * Objectives (`JointObjective`):
 * - 'with-clean': the macro-F1 over the labels *and* "clean". Choosing each label's threshold for
 *   its own F1 ignores that an image is called clean only when every label stays below its
 *   threshold: seven labels that each flag 5-10% of clean images together flag about half of them.
 *   Here "clean" is scored as one more class (metrics.ts `macroF1WithClean`).
 * - 'bars': the issue's two synthetic bars at once. The macro-F1 on the rows with at most one label
 *   (metrics.ts `macroF1` of those rows) divided by its bar, and the mean over labels of the recall
 *   on the rows with two or more labels divided by its bar; the score is the smaller of the two
 *   ratios (ties: their sum), so a step that buys pair recall with single-problem precision (or
 *   the other way) is taken only while it lifts the side that is further from its bar. Clean images
 *   enter only through label precision and the clean-kept floor.
 *
 * The rules are found by coordinate ascent: starting from each label's own best rule, every label
 * in turn takes the candidate rule that maximises the objective with the other labels fixed, until
 * a full round changes nothing (or `maxRounds`). Each step can only raise the score, so the search
 * ends; it finds a local optimum, at least as good as the start.
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

/** What the joint search maximises (see the module comment); 'bars' divides by `single` and `pair`. */
export type JointObjective = { kind: 'with-clean' } | { kind: 'bars'; single: number; pair: number };

/** The issue's synthetic bars: macro-F1 0.97 on single-problem images, recall 0.90 per label on two-problem ones. */
export const ISSUE_BARS = { single: 0.97, pair: 0.9 } as const;

/**
 * The 'bars' score of a single-problem macro-F1 and a mean two-problem recall: the smaller of
 * their ratios to the bars, and the tie key (the sum of the ratios).
 */
export function barsScore(singleMacroF1: number, pairRecallMean: number, bars: { single: number; pair: number }): { score: number; tie: number } {
  const a = singleMacroF1 / bars.single;
  const b = pairRecallMean / bars.pair;
  return { score: Math.min(a, b), tie: a + b };
}

/** One label's rule: the image probability is the mean of the top `fraction` of tiles (when scanned), flagged at `threshold`. */
export interface LabelRule {
  fraction?: number;
  threshold: number;
}

export interface JointCalibration {
  /** The objective the rules maximise. */
  objective: JointObjective['kind'];
  /** Per label (in `targets` column order). */
  rules: LabelRule[];
  /** The objective's value at `rules` (for 'with-clean', `macroF1WithClean`). */
  score: number;
  /** The objective's value at the starting rules. */
  startScore: number;
  /** Macro-F1 over labels with support and clean, at `rules` (whatever the objective). */
  macroF1WithClean: number;
  /** The same score at the starting rules. */
  startMacroF1WithClean: number;
  /** At `rules`: the macro-F1 on rows with at most one label and the mean label recall on rows with two or more (NaN without such rows). */
  singleMacroF1: number;
  pairRecallMean: number;
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
  starts: { start: JointStart; score: number; macroF1WithClean: number; cleanKept: number; feasible: boolean }[];
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
  /** Second key among equal scores ('bars': the sum of the two ratios; 'with-clean': 0). */
  tie: number;
  kept: number;
  meanFires: number;
}

/** Whether rank a is above rank b (beyond float noise). */
function above(a: Rank, b: Rank): boolean {
  const eps = 1e-12;
  if (a.feasible !== b.feasible) return a.feasible;
  if (a.feasible) return a.score > b.score + eps || (Math.abs(a.score - b.score) <= eps && a.tie > b.tie + eps);
  if (Math.abs(a.kept - b.kept) > eps) return a.kept > b.kept;
  return a.meanFires < b.meanFires - eps;
}

/** One label's part of the objectives under one rule: its F1 on all rows, on the rows with at most one label, and its recall on the rows with two or more. */
interface LabelTerms {
  f1: number;
  singleF1: number;
  pairRecall: number;
}

/**
 * @param probs image probabilities [N, K] for each scanned tile share (key = fraction), or a single
 *   entry under `undefined` when the aggregation is fixed
 * @param targets 0/1 targets [N, K]
 * @param start the starting rule per label (each label's own best F1)
 * @param opts.objective what to maximise (default 'with-clean')
 * @param opts.multiStart also ascend from the other starts (default true); false runs the single
 *   ascent from `start` (the search of sessions 8-15)
 */
export function calibrateJointly(
  probs: ReadonlyMap<number | undefined, Float32Array | Float64Array>,
  targets: Float32Array,
  K: number,
  thresholds: readonly number[],
  start: readonly LabelRule[],
  opts: { maxRounds?: number; minCleanKept?: number; multiStart?: boolean; objective?: JointObjective } = {},
): JointCalibration {
  const maxRounds = opts.maxRounds ?? 20;
  const floor = opts.minCleanKept ?? 0;
  const objective = opts.objective ?? { kind: 'with-clean' };
  const N = targets.length / K;
  if (!Number.isInteger(N)) throw new Error(`calibrateJointly: ${targets.length} targets do not form rows of ${K} labels`);
  if (!(floor >= 0 && floor <= 1)) throw new Error(`calibrateJointly: expected minCleanKept in [0, 1] but received ${opts.minCleanKept}`);
  if (!thresholds.length) throw new Error('calibrateJointly: no thresholds to scan');
  if (objective.kind === 'bars' && !(objective.single > 0 && objective.single <= 1 && objective.pair > 0 && objective.pair <= 1)) {
    throw new Error(`calibrateJointly: expected bars in (0, 1] but received single ${objective.single}, pair ${objective.pair}`);
  }
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
  const labelCount = Int32Array.from({ length: N }, (_, i) => [...Array(K).keys()].filter((c) => y(i, c)).length);
  /** A label's F1 (`rows` 'all' or 'single') or recall on the rows with two or more labels ('pair'). */
  const count = (c: number, pred: Uint8Array, rows: 'all' | 'single' | 'pair') => {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < N; i++) {
      if ((rows === 'single' && labelCount[i]! > 1) || (rows === 'pair' && labelCount[i]! < 2)) continue;
      const t = y(i, c);
      if (pred[i] && t) tp++;
      else if (pred[i]) fp++;
      else if (t) fn++;
    }
    return { tp, fp, fn };
  };
  const terms = (c: number, pred: Uint8Array): LabelTerms => {
    const all = count(c, pred, 'all');
    const single = count(c, pred, 'single');
    const pair = count(c, pred, 'pair');
    return { f1: f1(all.tp, all.fp, all.fn), singleF1: f1(single.tp, single.fp, single.fn), pairRecall: pair.tp + pair.fn ? pair.tp / (pair.tp + pair.fn) : 0 };
  };
  const supportIn = (c: number, keep: (n: number) => boolean) => [...Array(N).keys()].some((i) => keep(labelCount[i]!) && y(i, c));
  const support = Array.from({ length: K }, (_, c) => supportIn(c, () => true));
  const singleSupport = Array.from({ length: K }, (_, c) => supportIn(c, (n) => n <= 1));
  const pairSupport = Array.from({ length: K }, (_, c) => supportIn(c, (n) => n >= 2));
  const nSingle = singleSupport.filter(Boolean).length;
  const nPair = pairSupport.filter(Boolean).length;
  if (objective.kind === 'bars' && (!nSingle || !nPair)) {
    throw new Error(`calibrateJointly: the 'bars' objective needs labelled rows with one label and with two or more (labels with support: ${nSingle} single, ${nPair} pair)`);
  }
  const isClean = Uint8Array.from({ length: N }, (_, i) => (labelCount[i] === 0 ? 1 : 0));
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
  type CleanScores = ReturnType<typeof cleanScores>;
  const sumOver = (ts: readonly LabelTerms[], has: readonly boolean[], key: keyof LabelTerms) => ts.reduce((s, t, c) => (has[c] ? s + t[key] : s), 0);
  const withClean = (ts: readonly LabelTerms[], clean: CleanScores) => (sumOver(ts, support, 'f1') + (hasClean ? clean.f1 : 0)) / Math.max(1, scored);
  const singleMacro = (ts: readonly LabelTerms[]) => (nSingle ? sumOver(ts, singleSupport, 'singleF1') / nSingle : Number.NaN);
  const pairMean = (ts: readonly LabelTerms[]) => (nPair ? sumOver(ts, pairSupport, 'pairRecall') / nPair : Number.NaN);
  /** The objective's score and tie key. */
  const objectiveOf = (ts: readonly LabelTerms[], clean: CleanScores) => {
    if (objective.kind === 'with-clean') return { score: withClean(ts, clean), tie: 0 };
    return barsScore(singleMacro(ts), pairMean(ts), objective);
  };

  if (start.length !== K) throw new Error(`calibrateJointly: expected ${K} starting rules but received ${start.length}`);
  /** Predictions, label terms and clean scores of a rule set (the starting point of an ascent). */
  const evaluate = (rules: readonly LabelRule[]) => {
    const preds = rules.map((r, c) => predict(c, r));
    const ts = preds.map((p, c) => terms(c, p));
    const fires = new Int32Array(N);
    for (const p of preds) for (let i = 0; i < N; i++) fires[i]! += p[i]!;
    return { preds, ts, fires, clean: cleanScores(fires) };
  };
  /** Coordinate ascent from `from` under `minKept` (see the module comment). */
  const ascend = (from: readonly LabelRule[], minKept: number) => {
    const rank = (ts: readonly LabelTerms[], cs: CleanScores): Rank => ({ feasible: cs.kept >= minKept - 1e-12, ...objectiveOf(ts, cs), kept: cs.kept, meanFires: cs.meanFires });
    const rules = from.map((r) => ({ ...r }));
    const at = evaluate(rules);
    const { preds, ts, fires } = at;
    let { clean } = at;
    let rounds = 0;
    let changed = true;
    for (; changed && rounds < maxRounds; rounds++) {
      changed = false;
      for (let c = 0; c < K; c++) {
        if (!support[c]) continue;
        let best: { rule: LabelRule; pred: Uint8Array; terms: LabelTerms; clean: CleanScores; rank: Rank } | undefined;
        const current = rank(ts, clean);
        for (const cand of candidates) {
          const pred = predict(c, cand);
          const trial = Int32Array.from(fires, (v, i) => v - preds[c]![i]! + pred[i]!);
          const t = terms(c, pred);
          const cs = cleanScores(trial);
          const r = rank(ts.map((x, k) => (k === c ? t : x)), cs);
          if (above(r, best?.rank ?? current)) best = { rule: cand, pred, terms: t, clean: cs, rank: r };
        }
        if (!best) continue;
        for (let i = 0; i < N; i++) fires[i]! += best.pred[i]! - preds[c]![i]!;
        preds[c] = best.pred;
        ts[c] = best.terms;
        rules[c] = { ...best.rule };
        clean = best.clean;
        changed = true;
      }
    }
    return { rules, ts, clean, rank: rank(ts, clean), rounds, converged: !changed };
  };
  /** Each label at the candidate that flags the fewest rows (the highest threshold among ties). */
  const strictest = start.map((r, c) => {
    if (!support[c]) return { ...r };
    const fired = (cand: LabelRule) => predict(c, cand).reduce((s, v) => s + v, 0);
    return candidates.reduce((b, cand) => {
      const d = fired(cand) - fired(b);
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
  const atStart = evaluate(start);
  return {
    objective: objective.kind,
    rules: won.rules.map((r) => (r.fraction === undefined ? { threshold: r.threshold } : r)),
    score: won.rank.score,
    startScore: objectiveOf(atStart.ts, atStart.clean).score,
    macroF1WithClean: withClean(won.ts, won.clean),
    startMacroF1WithClean: withClean(atStart.ts, atStart.clean),
    singleMacroF1: singleMacro(won.ts),
    pairRecallMean: pairMean(won.ts),
    cleanKept: won.clean.kept,
    feasible: won.rank.feasible,
    unsupported: support.flatMap((v, c) => (v ? [] : [c])),
    rounds: won.rounds,
    converged: won.converged,
    start: won.name,
    starts: runs.map((r) => ({ start: r.name, score: r.rank.score, macroF1WithClean: withClean(r.ts, r.clean), cleanKept: r.clean.kept, feasible: r.rank.feasible })),
  };
}
