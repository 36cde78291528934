/**
 * Where an inspector's misses are, from its per-image decisions on a labelled split (the rows that
 * scripts/false_alarms.mjs writes): recall by severity bin, on images with the label alone and with
 * a partner; recall on two-label images by partner; and what single-label misses were called
 * instead. Misses that gather in the lowest severity bin point at a label definition that asks for
 * the invisible (a degradation weaker than the photo's own noise or softness); misses spread over
 * every bin point at the model. The model card's "missed pair blur is not weak blur" comes from here.
 */
import { checkInt } from '../util/errors.js';

/** One image: its true labels (no "clean"), their severities, and the labels the inspector said. */
export interface DecisionRow {
  truth: string[];
  severities: Record<string, number>;
  predicted: string[];
}

/** Found of n. */
export interface Count {
  found: number;
  n: number;
}

export interface LabelMisses {
  label: string;
  /** Per severity bin ([b/bins, (b+1)/bins), the last one closed), on images with the label alone. */
  alone: Count[];
  /** The same on images where the label has at least one partner. */
  partner: Count[];
  /** On two-label images, by the other label (sorted by name). */
  byPartner: { partner: string; found: number; n: number }[];
  /** Single-label images that miss it: how many, their median severity, what they were called (most frequent first, ties in order of first appearance; "clean" for nothing). */
  singleMisses: { n: number; medianSeverity: number; calledInstead: { as: string; n: number }[] };
}

/** Whether a severity falls in bin b of `bins` equal bins of [0, 1]: [b/bins, (b+1)/bins), the last one closed. */
function inBin(severity: number, b: number, bins: number): boolean {
  return severity >= b / bins && (severity < (b + 1) / bins || (b === bins - 1 && severity <= 1));
}

/** Per label of `rows` (sorted by name), where its misses are (see the module comment). */
export function analyseMisses(rows: readonly DecisionRow[], bins = 5): LabelMisses[] {
  checkInt('analyseMisses', 'bins', bins, 1);
  const labels = [...new Set(rows.flatMap((r) => r.truth))].sort();
  const count = (subset: readonly DecisionRow[], l: string): Count => ({ found: subset.filter((r) => r.predicted.includes(l)).length, n: subset.length });
  return labels.map((l) => {
    const pos = rows.filter((r) => r.truth.includes(l));
    const bySeverity = (keep: (r: DecisionRow) => boolean) =>
      Array.from({ length: bins }, (_, b) => count(pos.filter((r) => keep(r) && inBin(r.severities[l] ?? 0, b, bins)), l));
    const pairs = pos.filter((r) => r.truth.length === 2);
    const partners = [...new Set(pairs.map((r) => r.truth.find((t) => t !== l)!))].sort();
    const miss = pos.filter((r) => r.truth.length === 1 && !r.predicted.includes(l));
    const called = new Map<string, number>();
    for (const r of miss) {
      const as = r.predicted.length ? r.predicted.join('+') : 'clean';
      called.set(as, (called.get(as) ?? 0) + 1);
    }
    const sev = miss.map((r) => r.severities[l] ?? 0).sort((a, b) => a - b);
    return {
      label: l,
      alone: bySeverity((r) => r.truth.length === 1),
      partner: bySeverity((r) => r.truth.length > 1),
      byPartner: partners.map((p) => ({ partner: p, ...count(pairs.filter((r) => r.truth.includes(p)), l) })),
      singleMisses: {
        n: miss.length,
        medianSeverity: sev.length ? sev[Math.floor(sev.length / 2)]! : Number.NaN,
        calledInstead: [...called].sort((a, b) => b[1] - a[1]).map(([as, n]) => ({ as, n })),
      },
    };
  });
}
