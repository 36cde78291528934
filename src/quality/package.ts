/**
 * Packages a trained quality checkpoint as the shipped inspector: a standalone ONNX model (dynamic
 * batch, presence logits then severity logits) plus its JSON config (labels, input size,
 * normalisation, threshold, tiling). Several checkpoints with the same labels and tile size give
 * one ensemble model that averages their logits (io/onnx_ensemble.ts).
 */
import path from 'node:path';
import { readCheckpoint } from '../io/checkpoint.js';
import { exportOnnx } from '../io/export.js';
import { ensembleOnnx } from '../io/onnx_ensemble.js';
import { writeFileAtomic } from '../util/fs.js';
import { createModel, defaultForward } from '../models/index.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../data/loader/transform.js';
import { ArgumentError } from '../util/errors.js';
import { QUALITY_LABELS, type InspectorConfig, type QualityLabel } from './labels.js';

export interface PackageOptions {
  /** A trainer checkpoint, or several (same labels, outputs and input size) for an ensemble that averages their logits. */
  checkpoint: string | readonly string[];
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

interface ExportedMember {
  model: string;
  classes: string[];
  size: number;
  numOutputs: number;
  bytes: Uint8Array;
}

/** One checkpoint as a standalone ONNX model (checked to be a quality checkpoint). */
async function exportMember(checkpoint: string, o: PackageOptions): Promise<ExportedMember> {
  const ck = await readCheckpoint(checkpoint);
  const model = ck.metadata.model;
  const classes = JSON.parse(ck.metadata.classes ?? '[]') as string[];
  const size = Number(ck.metadata.imageSize);
  const numOutputs = Number(ck.metadata.numOutputs);
  if (!model || !classes.length) throw new ArgumentError(`${checkpoint}: not a trainer checkpoint (no model/classes metadata)`);
  const unknown = classes.filter((c) => !(QUALITY_LABELS as readonly string[]).includes(c));
  if (unknown.length) throw new ArgumentError(`${checkpoint}: labels ${unknown.join(', ')} are not quality labels (${QUALITY_LABELS.join(', ')})`);
  const badDetail = (o.detailLabels ?? []).filter((l) => !classes.includes(l));
  if (badDetail.length) throw new ArgumentError(`${checkpoint}: detail labels ${badDetail.join(', ')} are not labels of this model (${classes.join(', ')})`);
  const h = await createModel(model, { numClasses: numOutputs, inputSize: [3, size, size] });
  h.state.loadStateDict(ck.entries, { source: checkpoint });
  const bytes = exportOnnx({
    model: h.model,
    state: h.state,
    inputShape: [3, size, size],
    forward: (m, x) => defaultForward(h.info, m, { input: x }),
    docString: JSON.stringify({ producer: 'attnvision inspector', model, labels: classes, outputs: 'presence logits [K] then severity logits [K]' }),
    halfPrecisionWeights: o.halfPrecisionWeights ?? true,
  });
  return { model, classes, size, numOutputs, bytes };
}

export async function packageInspector(o: PackageOptions): Promise<{ onnx: string; config: string; bytes: number }> {
  const checkpoints = typeof o.checkpoint === 'string' ? [o.checkpoint] : [...o.checkpoint];
  if (!checkpoints.length) throw new ArgumentError('package-inspector: no checkpoint given');
  if (o.detailTilesPerSide !== undefined && !o.detailLabels?.length) throw new ArgumentError('detail tiles per side (--detail-tiles) need detail labels (--detail-labels)');
  const members: ExportedMember[] = [];
  for (const c of checkpoints) members.push(await exportMember(c, o));
  const first = members[0]!;
  members.forEach((m, i) => {
    const what = (x: ExportedMember) => `labels ${x.classes.join(',')}, ${x.numOutputs} outputs, ${x.size} px input`;
    if (what(m) !== what(first)) throw new ArgumentError(`package-inspector: ${checkpoints[i]} has ${what(m)} but ${checkpoints[0]} has ${what(first)}; ensemble members must agree`);
  });
  const { classes, size, numOutputs } = first;
  const model = members.map((m) => m.model).join(' + ');
  const bytes =
    members.length === 1
      ? first.bytes
      : ensembleOnnx(
          members.map((m, i) => ({ name: checkpoints[i]!, bytes: m.bytes })),
          { docString: JSON.stringify({ producer: 'attnvision inspector', model, members: members.map((m) => m.model), combine: 'mean of the members\' logits', labels: classes, outputs: 'presence logits [K] then severity logits [K]' }) },
        );
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
