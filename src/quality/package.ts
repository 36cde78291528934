/**
 * Packages a trained quality checkpoint as the shipped inspector: a standalone ONNX model (dynamic
 * batch, presence logits then severity logits) plus its JSON config (labels, input size,
 * normalisation, threshold, tiling). Several checkpoints with the same labels and tile size give
 * one ensemble model that averages their logits (io/onnx_ensemble.ts).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readCheckpoint } from '../io/checkpoint.js';
import { exportOnnx } from '../io/export.js';
import { ensembleOnnx } from '../io/onnx_ensemble.js';
import { trackTemp, writeFileAtomic } from '../util/fs.js';
import { createModel, defaultForward } from '../models/index.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../data/loader/transform.js';
import { ArgumentError } from '../util/errors.js';
import { unfinishedRunNote } from '../train/trainer.js';
import { configPathOf, QUALITY_LABELS, type InspectorConfig, type QualityLabel } from './labels.js';
import { checkInspectorConfig } from './core.js';

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
  /** Labels read from a finer coverage of downscaled images (config `fineLabels`, tiling.ts planFineTiles); needs fineTilesPerSide. */
  fineLabels?: string[];
  /** Tiles per side of that coverage (config `fineTilesPerSide`; more than maxTilesPerSide). */
  fineTilesPerSide?: number;
  /** Low-pass weight for palette images (config `paletteLowpass`, image/palette.ts). */
  paletteLowpass?: number;
  /** Store weights as float16 to halve the file (default true; computation stays float32). */
  halfPrecisionWeights?: boolean;
  /**
   * Called with the checkpoints' labels once they are read and agree, before anything is exported
   * or written (e.g. to check that a calibration split can be read with those labels).
   */
  beforeWriting?: (labels: readonly string[]) => Promise<void>;
  /**
   * Called with a complete package written under a temporary name (its .onnx path; the .json beside
   * it) before it replaces `out`: calibration rewrites that config there, so a package is never
   * in place uncalibrated or half calibrated. If it throws, nothing at `out` changes.
   */
  beforeReplacing?: (tempOnnx: string) => Promise<void>;
}

/** A trainer checkpoint read and checked to be a quality checkpoint (not yet exported). */
interface Member {
  checkpoint: string;
  model: string;
  classes: string[];
  size: number;
  numOutputs: number;
  entries: Awaited<ReturnType<typeof readCheckpoint>>['entries'];
  /** Set when the checkpoint is of a run that has not reached its last epoch. */
  unfinished?: string;
}

async function readMember(checkpoint: string, o: PackageOptions): Promise<Member> {
  const ck = await readCheckpoint(checkpoint);
  const model = ck.metadata.model;
  const classes = JSON.parse(ck.metadata.classes ?? '[]') as string[];
  const size = Number(ck.metadata.imageSize);
  const numOutputs = Number(ck.metadata.numOutputs);
  if (!model || !classes.length) throw new ArgumentError(`${checkpoint}: not a trainer checkpoint (no model/classes metadata)`);
  if (ck.metadata.head === 'single-label') throw new ArgumentError(`${checkpoint}: a single-label (softmax) checkpoint; an inspector needs a multi-label model trained on a manifest (train --data manifest.jsonl --labels ...)`);
  const unknown = classes.filter((c) => !(QUALITY_LABELS as readonly string[]).includes(c));
  if (unknown.length) throw new ArgumentError(`${checkpoint}: labels ${unknown.join(', ')} are not quality labels (${QUALITY_LABELS.join(', ')})`);
  const badDetail = (o.detailLabels ?? []).filter((l) => !classes.includes(l));
  if (badDetail.length) throw new ArgumentError(`${checkpoint}: detail labels ${badDetail.join(', ')} are not labels of this model (${classes.join(', ')})`);
  const badFine = (o.fineLabels ?? []).filter((l) => !classes.includes(l));
  if (badFine.length) throw new ArgumentError(`${checkpoint}: fine labels ${badFine.join(', ')} are not labels of this model (${classes.join(', ')})`);
  const unfinished = await unfinishedRunNote(checkpoint);
  return { checkpoint, model, classes, size, numOutputs, entries: ck.entries, ...(unfinished ? { unfinished } : {}) };
}

/** One member as a standalone ONNX model. */
async function exportMember(m: Member, o: PackageOptions): Promise<Uint8Array> {
  const h = await createModel(m.model, { numClasses: m.numOutputs, inputSize: [3, m.size, m.size] });
  h.state.loadStateDict(m.entries, { source: m.checkpoint });
  return exportOnnx({
    model: h.model,
    state: h.state,
    inputShape: [3, m.size, m.size],
    forward: (mod, x) => defaultForward(h.info, mod, { input: x }),
    docString: JSON.stringify({ producer: 'attnvision inspector', model: m.model, labels: m.classes, outputs: 'presence logits [K] then severity logits [K]' }),
    halfPrecisionWeights: o.halfPrecisionWeights ?? true,
  });
}

export async function packageInspector(o: PackageOptions): Promise<{ onnx: string; config: string; bytes: number; warnings: string[] }> {
  const checkpoints = typeof o.checkpoint === 'string' ? [o.checkpoint] : [...o.checkpoint];
  if (!checkpoints.length) throw new ArgumentError('package-inspector: no checkpoint given');
  if (o.detailTilesPerSide !== undefined && !o.detailLabels?.length) throw new ArgumentError('detail tiles per side (--detail-tiles) need detail labels (--detail-labels)');
  if ((o.fineTilesPerSide !== undefined) !== !!o.fineLabels?.length) throw new ArgumentError('fine labels (--fine-labels) and fine tiles per side (--fine-tiles) go together');
  const members: Member[] = [];
  for (const c of checkpoints) members.push(await readMember(c, o));
  // Members must agree before any (slow) export starts.
  const first = members[0]!;
  const what = (x: Member) => `labels ${x.classes.join(',')}, ${x.numOutputs} outputs, ${x.size} px input`;
  for (const m of members) {
    if (what(m) !== what(first)) throw new ArgumentError(`package-inspector: ${m.checkpoint} has ${what(m)} but ${first.checkpoint} has ${what(first)}; ensemble members must agree`);
  }
  const { classes, size, numOutputs } = first;
  const model = members.map((m) => m.model).join(' + ');
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
    ...(o.fineLabels?.length ? { fineLabels: [...o.fineLabels] as QualityLabel[], fineTilesPerSide: o.fineTilesPerSide } : {}),
    ...(o.paletteLowpass !== undefined ? { paletteLowpass: o.paletteLowpass } : {}),
  };
  const onnxPath = o.out;
  const configPath = configPathOf(onnxPath);
  // The config must load: checked before the (slow) export and before anything is written.
  try {
    checkInspectorConfig(config, configPath);
  } catch (e) {
    throw new ArgumentError(`package-inspector: ${(e as Error).message}`);
  }
  await o.beforeWriting?.(classes);
  const exported: Uint8Array[] = [];
  for (const m of members) exported.push(await exportMember(m, o));
  const bytes =
    members.length === 1
      ? exported[0]!
      : ensembleOnnx(
          members.map((m, i) => ({ name: m.checkpoint, bytes: exported[i]! })),
          { docString: JSON.stringify({ producer: 'attnvision inspector', model, members: members.map((m) => m.model), combine: 'mean of the members\' logits', labels: classes, outputs: 'presence logits [K] then severity logits [K]' }) },
        );
  config.modelSha256 = createHash('sha256').update(bytes).digest('hex');
  // Written under temporary names, then moved into place model first: a run stopped between the
  // two moves leaves the old config beside the new model, which its modelSha256 makes an error at
  // load (not a silent mix of one model's rules with another's outputs).
  const tempOnnx = path.join(path.dirname(onnxPath), `.${path.basename(onnxPath, '.onnx')}.pkg-${process.pid}.onnx`);
  const tempConfig = configPathOf(tempOnnx);
  const untrack = [trackTemp(tempOnnx), trackTemp(tempConfig)]; // removed on Ctrl-C too
  try {
    await writeFileAtomic(tempOnnx, bytes);
    await writeFileAtomic(tempConfig, JSON.stringify(config, null, 2) + '\n');
    await o.beforeReplacing?.(tempOnnx);
    await fs.rename(tempOnnx, onnxPath);
    await fs.rename(tempConfig, configPath);
  } finally {
    await Promise.all([fs.rm(tempOnnx, { force: true }), fs.rm(tempConfig, { force: true })]);
    for (const u of untrack) u();
  }
  return { onnx: path.resolve(onnxPath), config: path.resolve(configPath), bytes: bytes.length, warnings: members.flatMap((m) => (m.unfinished ? [m.unfinished] : [])) };
}
