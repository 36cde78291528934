/**
 * Threshold calibration of a packaged inspector on the validation split of a synthetic manifest
 * (never on test data, never on real evaluation photos): every validation image goes through the
 * inspector exactly as in production, thresholds 0.05..0.95 are scanned, and the config next to the
 * model gets the threshold with the best macro-F1 and, optionally, each label's best threshold
 * and, with `fractions`, each label's best share of tiles averaged (aggregate.ts) with its threshold.
 * "Best" follows the objective: 'with-clean' (the default) scores "clean" as a class too and chooses
 * the labels' rules jointly (joint_calibration.ts); 'bars' chooses them jointly for the issue's two
 * synthetic bars (needs perLabel); 'label-f1' gives each label its own best F1.
 */
import { manifestDataset, resolveManifest } from '../data/dataset.js';
import { writeFileAtomic } from '../util/fs.js';
import { evaluateInspectorOnDataset, isJointObjective, type CalibrationObjective, type InspectorDatasetEval, type ScanPoint } from './dataset_eval.js';
import { Inspector } from './inspector.js';
import { configPathOf, type InspectorConfig } from './labels.js';
import { SCAN_FRACTIONS } from './aggregate.js';
import type { LabelRule } from './joint_calibration.js';
import { ArgumentError, AttnvisionError } from '../util/errors.js';

/** The calibration could not meet what was asked (e.g. a clean-kept floor); nothing was written. */
export class CalibrationError extends AttnvisionError {}

/** Thresholds scanned: 0.05, 0.10, ..., 0.95. */
export const SCAN_THRESHOLDS = Array.from({ length: 19 }, (_, i) => (5 * (i + 1)) / 100);

export interface CalibrationResult {
  threshold: number;
  labelThresholds?: number[];
  labelTopFraction?: number[];
  objective: CalibrationObjective;
  /** The config as written, and where. */
  config: InspectorConfig;
  configPath: string;
  /** The scan on the validation split (scores at the global threshold are in `best`). */
  validation: InspectorDatasetEval;
  best: ScanPoint;
}

export async function calibrateInspector(
  model: string,
  manifest: string,
  opts: {
    perLabel?: boolean;
    fractions?: boolean;
    objective?: CalibrationObjective;
    minCleanKept?: number;
    split?: string;
    onFile?: (i: number, n: number) => void;
    /** How messages name the config (package-inspector calibrates a temporary copy of its --out). */
    configName?: string;
  } = {},
): Promise<CalibrationResult> {
  const objective = opts.objective ?? 'with-clean';
  if (opts.minCleanKept !== undefined && (!isJointObjective(objective) || !opts.perLabel)) throw new ArgumentError('calibrateInspector: minCleanKept applies to the joint per-label search (objective with-clean or bars, perLabel)');
  if (objective === 'bars' && !opts.perLabel) throw new ArgumentError('calibrateInspector: the bars objective chooses per-label rules; it needs perLabel');
  if (opts.minCleanKept !== undefined && !(opts.minCleanKept > 0 && opts.minCleanKept <= 1)) throw new ArgumentError(`calibrateInspector: expected minCleanKept in (0, 1] but received ${opts.minCleanKept}`);
  if (opts.fractions && !opts.perLabel) throw new ArgumentError('calibrateInspector: fractions are chosen per label; they need perLabel');
  const configPath = configPathOf(model);
  const shown = opts.configName ?? configPath;
  manifest = await resolveManifest(manifest);
  const inspector = await Inspector.load({ model, config: configPath });
  const loaded = inspector.config; // read and checked by Inspector.load: the base of the rewrite
  let validation: InspectorDatasetEval;
  try {
    const ds = await manifestDataset(manifest, [...inspector.config.labels], opts.split ?? 'val', { strictLabels: true });
    validation = await evaluateInspectorOnDataset(inspector, ds, { scan: SCAN_THRESHOLDS, fractions: opts.fractions ? SCAN_FRACTIONS : undefined, objective, minCleanKept: opts.minCleanKept, onFile: opts.onFile });
  } finally {
    await inspector.dispose();
  }
  // Nothing to choose by: the config is left as it is rather than fitted to no images.
  const split = opts.split ?? 'val';
  const { n } = validation.metrics;
  if (n === 0) {
    const first = validation.errors[0];
    throw new CalibrationError(`${manifest}: no image of split "${split}" could be inspected${first ? ` (${validation.errors.length} failed; first: ${first.error})` : ''}; ${shown} left unchanged`);
  }
  if (validation.unsupportedLabels?.length === validation.metrics.classes.length) {
    throw new CalibrationError(`${manifest}: none of the ${n} images of split "${split}" has a label, so no threshold can be chosen by them; ${shown} left unchanged`);
  }
  const best = validation.bestScan!;
  const joint = validation.bestJoint;
  if (opts.minCleanKept !== undefined && joint && !joint.feasible) {
    throw new CalibrationError(`${manifest}: the clean-kept floor ${(100 * opts.minCleanKept).toFixed(1)}% cannot be met on split "${opts.split ?? 'val'}": the best rules found keep ${(100 * joint.cleanKept).toFixed(1)}% of its clean images clean; ${shown} left unchanged`);
  }
  const config: InspectorConfig = { ...loaded, threshold: best.threshold };
  delete config.labelThresholds;
  // Without `fractions` the scan used the config's own tile shares, so they stay.
  if (opts.fractions) delete config.labelTopFraction;
  if (opts.perLabel) {
    // Per label, in dataset label order: the joint rules, the own-F1 rules with tile shares, or the own-F1 thresholds.
    const rules: LabelRule[] = isJointObjective(objective)
      ? validation.bestJoint!.rules
      : validation.bestLabelAggregation ?? validation.bestLabelThresholds!.map((threshold) => ({ threshold }));
    // Dataset label order -> config label order (the dataset has every config label).
    const byLabel = new Map(validation.metrics.classes.map((c, i) => [c, rules[i]!]));
    config.labelThresholds = config.labels.map((l) => byLabel.get(l)?.threshold ?? best.threshold);
    if (opts.fractions) config.labelTopFraction = config.labels.map((l) => byLabel.get(l)?.fraction ?? 1);
  }
  await writeFileAtomic(configPath, JSON.stringify(config, null, 2) + '\n');
  return { objective, config, configPath, threshold: best.threshold, labelThresholds: config.labelThresholds, labelTopFraction: config.labelTopFraction, validation, best };
}
