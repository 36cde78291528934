/**
 * Packages a trained quality checkpoint as the shipped inspector: a standalone ONNX model (dynamic
 * batch, presence logits then severity logits) plus its JSON config (labels, input size,
 * normalisation, threshold, tiling).
 */
import path from 'node:path';
import { readCheckpoint } from '../io/checkpoint.js';
import { exportOnnx } from '../io/export.js';
import { writeFileAtomic } from '../util/fs.js';
import { createModel, defaultForward } from '../models/index.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../data/loader/transform.js';
import { ArgumentError } from '../util/errors.js';
import { QUALITY_LABELS, type InspectorConfig, type QualityLabel } from './labels.js';

export interface PackageOptions {
  checkpoint: string;
  /** Output .onnx path; the config goes next to it with .json. */
  out: string;
  threshold?: number;
  topK?: number;
  maxTilesPerSide?: number;
  /** Labels read from native-scale detail tiles of downscaled images (config `detailLabels`, tiling.ts). */
  detailLabels?: string[];
  /** Detail tiles per side (config `detailTilesPerSide`; default maxTilesPerSide). */
  detailTilesPerSide?: number;
  /** Store weights as float16 to halve the file (default true; computation stays float32). */
  halfPrecisionWeights?: boolean;
}

export async function packageInspector(o: PackageOptions): Promise<{ onnx: string; config: string; bytes: number }> {
  const ck = await readCheckpoint(o.checkpoint);
  const model = ck.metadata.model;
  const classes = JSON.parse(ck.metadata.classes ?? '[]') as string[];
  const size = Number(ck.metadata.imageSize);
  const numOutputs = Number(ck.metadata.numOutputs);
  if (!model || !classes.length) throw new ArgumentError(`${o.checkpoint}: not a trainer checkpoint (no model/classes metadata)`);
  const unknown = classes.filter((c) => !(QUALITY_LABELS as readonly string[]).includes(c));
  if (unknown.length) throw new ArgumentError(`${o.checkpoint}: labels ${unknown.join(', ')} are not quality labels (${QUALITY_LABELS.join(', ')})`);
  const badDetail = (o.detailLabels ?? []).filter((l) => !classes.includes(l));
  if (badDetail.length) throw new ArgumentError(`${o.checkpoint}: detail labels ${badDetail.join(', ')} are not labels of this model (${classes.join(', ')})`);
  if (o.detailTilesPerSide !== undefined && !o.detailLabels?.length) throw new ArgumentError('detail tiles per side (--detail-tiles) need detail labels (--detail-labels)');
  const h = await createModel(model, { numClasses: numOutputs, inputSize: [3, size, size] });
  h.state.loadStateDict(ck.entries, { source: o.checkpoint });
  const bytes = exportOnnx({
    model: h.model,
    state: h.state,
    inputShape: [3, size, size],
    forward: (m, x) => defaultForward(h.info, m, { input: x }),
    docString: JSON.stringify({ producer: 'attnvision inspector', model, labels: classes, outputs: 'presence logits [K] then severity logits [K]' }),
    halfPrecisionWeights: o.halfPrecisionWeights ?? true,
  });
  const config: InspectorConfig = {
    labels: classes as QualityLabel[],
    inputSize: size,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    threshold: o.threshold ?? 0.5,
    severityHead: numOutputs === 2 * classes.length,
    model,
    topK: o.topK ?? 2,
    maxTilesPerSide: o.maxTilesPerSide ?? 4,
    ...(o.detailLabels?.length ? { detailLabels: [...o.detailLabels] as QualityLabel[] } : {}),
    ...(o.detailTilesPerSide !== undefined ? { detailTilesPerSide: o.detailTilesPerSide } : {}),
  };
  const onnxPath = o.out;
  const configPath = onnxPath.replace(/\.onnx$/, '') + '.json';
  await writeFileAtomic(onnxPath, bytes);
  await writeFileAtomic(configPath, JSON.stringify(config, null, 2) + '\n');
  return { onnx: path.resolve(onnxPath), config: path.resolve(configPath), bytes: bytes.length };
}
