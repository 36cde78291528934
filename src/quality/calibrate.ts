/**
 * Threshold calibration of a packaged inspector on the validation split of a synthetic manifest
 * (never on test data, never on real evaluation photos): every validation image goes through the
 * inspector exactly as in production, thresholds 0.05..0.95 are scanned, and the config next to the
 * model gets the threshold with the best macro-F1 and, optionally, each label's best threshold
 * and, with `fractions`, each label's best share of tiles averaged (aggregate.ts) with its threshold.
 */
import { promises as fs } from 'node:fs';
import { manifestDataset } from '../data/dataset.js';
import { writeFileAtomic } from '../util/fs.js';
import { evaluateInspectorOnDataset, type InspectorDatasetEval } from './dataset_eval.js';
import { Inspector } from './inspector.js';
import type { InspectorConfig } from './labels.js';
import { SCAN_FRACTIONS } from './aggregate.js';
import { ArgumentError } from '../util/errors.js';

/** Thresholds scanned: 0.05, 0.10, ..., 0.95. */
export const SCAN_THRESHOLDS = Array.from({ length: 19 }, (_, i) => (5 * (i + 1)) / 100);

export interface CalibrationResult {
  threshold: number;
  labelThresholds?: number[];
  labelTopFraction?: number[];
  /** The scan on the validation split (macro-F1 at the global threshold is `best.macroF1`). */
  validation: InspectorDatasetEval;
  best: { threshold: number; macroF1: number; cleanKept: number };
}

export async function calibrateInspector(
  model: string,
  manifest: string,
  opts: { perLabel?: boolean; fractions?: boolean; split?: string; onFile?: (i: number, n: number) => void } = {},
): Promise<CalibrationResult> {
  if (opts.fractions && !opts.perLabel) throw new ArgumentError('calibrateInspector: fractions are chosen per label; they need perLabel');
  const configPath = model.replace(/\.onnx$/, '') + '.json';
  const inspector = await Inspector.load({ model, config: configPath });
  let validation: InspectorDatasetEval;
  try {
    const ds = await manifestDataset(manifest, [...inspector.config.labels], opts.split ?? 'val');
    validation = await evaluateInspectorOnDataset(inspector, ds, { scan: SCAN_THRESHOLDS, fractions: opts.fractions ? SCAN_FRACTIONS : undefined, onFile: opts.onFile });
  } finally {
    await inspector.dispose();
  }
  const best = validation.bestScan!;
  const config: InspectorConfig = { ...(JSON.parse(await fs.readFile(configPath, 'utf8')) as InspectorConfig), threshold: best.threshold };
  delete config.labelThresholds;
  delete config.labelTopFraction;
  if (opts.perLabel) config.labelThresholds = validation.bestLabelThresholds!;
  if (opts.fractions) {
    // Dataset label order -> config label order.
    const agg = validation.bestLabelAggregation!;
    const byLabel = new Map(validation.metrics.classes.map((c, i) => [c, agg[i]!]));
    config.labelThresholds = config.labels.map((l, k) => byLabel.get(l)?.threshold ?? config.labelThresholds![k]!);
    config.labelTopFraction = config.labels.map((l) => byLabel.get(l)?.fraction ?? 1);
  }
  await writeFileAtomic(configPath, JSON.stringify(config, null, 2) + '\n');
  return { threshold: best.threshold, labelThresholds: config.labelThresholds, labelTopFraction: config.labelTopFraction, validation, best };
}
