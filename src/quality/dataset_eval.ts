/**
 * Evaluation of a packaged inspector (ONNX + config) on a labelled dataset, e.g. the synthesizer's
 * test split: every image goes through `Inspector.inspect` exactly as in production (tiles at native
 * scale, top-k aggregation, the config's threshold), and the aggregated probabilities are scored
 * with the multi-label metrics of training (per-label P/R/F1, mAP, confusion including "clean").
 */
import type { Dataset } from '../data/dataset.js';
import { multiLabelMetrics, type MultiLabelMetrics } from '../train/metrics.js';
import { ArgumentError } from '../util/errors.js';
import type { Inspector } from './inspector.js';

export interface InspectorDatasetEval {
  metrics: MultiLabelMetrics;
  /** Files the inspector could not read, with the reason; they are left out of the metrics. */
  errors: { file: string; error: string }[];
}

export async function evaluateInspectorOnDataset(
  inspector: Inspector,
  ds: Dataset,
  opts: { threshold?: number; onFile?: (i: number, n: number) => void } = {},
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
  const threshold = opts.threshold ?? inspector.config.threshold;
  return { metrics: multiLabelMetrics(Float32Array.from(probs), Float32Array.from(targets), ds.classes, threshold), errors };
}
