/**
 * The inspector's platform-independent core, shared by the Node inspector (inspector.ts: sharp +
 * onnxruntime-node) and the browser inspector (browser.ts: canvas + onnxruntime-web): config
 * checks, per-label thresholds, the normalised tile batch from resized pixels, and tile outputs
 * -> image result (aggregate.ts). Imports nothing Node-specific.
 */
import { tilesAveraged, topMean } from './aggregate.js';
import type { InspectorConfig, InspectResult, LabelResult, TileCell } from './labels.js';
import { planDetailTiles, planFineTiles, tileCells, type TilePlan } from './tiling.js';
import { ArgumentError, AttnvisionError } from '../util/errors.js';
import { isPaletteLowpassWeight } from '../image/palette.js';

export class InspectorConfigError extends AttnvisionError {}

/** The parts of onnxruntime (web or node) the inspectors use. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
  release(): Promise<void>;
}

/** Tiles per session run: bounds the memory of one run on images with many tiles. */
export const TILES_PER_RUN = 16;

/** Model outputs of a [T, 3, S, S] tile batch, [T, D] row-major, in runs of TILES_PER_RUN tiles. */
export async function runTiles(Tensor: OrtModule['Tensor'], session: OrtSession, batch: Float32Array, tiles: number, inputSize: number): Promise<Float32Array> {
  const S = inputSize;
  const per = 3 * S * S;
  const parts: Float32Array[] = [];
  for (let i = 0; i < tiles; i += TILES_PER_RUN) {
    const n = Math.min(TILES_PER_RUN, tiles - i);
    const x = new Tensor('float32', batch.subarray(i * per, (i + n) * per), [n, 3, S, S]);
    const out = await session.run({ [session.inputNames[0]!]: x });
    parts.push(out[session.outputNames[0]!]!.data as Float32Array);
  }
  const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return all;
}

/**
 * Checks every field of an inspector config that the inspectors use, so that a damaged or
 * hand-edited config is refused at load, naming the field (`where` names the file), instead of
 * giving NaN scores, thresholds that never fire or labels read from the wrong outputs.
 */
export function checkInspectorConfig(config: InspectorConfig, where: string): InspectorConfig {
  const bad = (field: string, expected: string, got: unknown): never => {
    throw new InspectorConfigError(`${where}: ${field} must be ${expected}; got ${got === undefined ? 'nothing' : JSON.stringify(got)}`);
  };
  if (typeof config !== 'object' || config === null || Array.isArray(config)) bad('the config', 'a JSON object', config);
  const labels = config.labels as unknown;
  if (!Array.isArray(labels) || !labels.length) throw new InspectorConfigError(`${where}: config has no labels`);
  if (labels.some((l) => typeof l !== 'string' || !l) || new Set(labels).size !== labels.length) bad('labels', 'a list of distinct label names', labels);
  const K = labels.length;
  const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!(Number.isInteger(config.inputSize) && config.inputSize > 0 && config.inputSize <= 4096)) bad('inputSize', 'an integer tile side in [1, 4096] px', config.inputSize);
  if (!Array.isArray(config.mean) || config.mean.length !== 3 || !config.mean.every(isNum)) bad('mean', 'three numbers (R, G, B)', config.mean);
  if (!Array.isArray(config.std) || config.std.length !== 3 || !config.std.every((v) => isNum(v) && v > 0)) bad('std', 'three positive numbers (R, G, B)', config.std);
  const inOpenUnit = (v: unknown) => isNum(v) && v > 0 && v < 1;
  if (!inOpenUnit(config.threshold)) bad('threshold', 'a number in (0, 1)', config.threshold);
  // Optional fields may be absent or null.
  const thresholds = config.labelThresholds;
  if (thresholds != null && (!Array.isArray(thresholds) || thresholds.length !== K || !thresholds.every(inOpenUnit))) {
    bad('labelThresholds', `${K} numbers in (0, 1), one per label`, thresholds);
  }
  if (config.severityHead != null && typeof config.severityHead !== 'boolean') bad('severityHead', 'true or false', config.severityHead);
  const fractions = config.labelTopFraction;
  if (fractions != null && (!Array.isArray(fractions) || fractions.length !== K || fractions.some((f) => !(isNum(f) && f > 0 && f <= 1)))) {
    throw new InspectorConfigError(`${where}: labelTopFraction must hold ${K} numbers in (0, 1], one per label; got ${JSON.stringify(fractions)}`);
  }
  if (fractions == null || config.topK != null) {
    if (!(Number.isInteger(config.topK) && config.topK >= 1)) bad('topK', 'an integer >= 1 (tiles averaged per label; or labelTopFraction)', config.topK);
  }
  if (!(Number.isInteger(config.maxTilesPerSide) && config.maxTilesPerSide >= 1 && config.maxTilesPerSide <= 16)) bad('maxTilesPerSide', 'an integer in [1, 16]', config.maxTilesPerSide);
  const detail = config.detailLabels;
  if (detail != null && (!Array.isArray(detail) || detail.some((l) => !config.labels.includes(l)))) {
    throw new InspectorConfigError(`${where}: detailLabels must be a list of the config's labels (${config.labels.join(', ')}); got ${JSON.stringify(detail)}`);
  }
  const perSide = config.detailTilesPerSide;
  if (perSide != null && !(Number.isInteger(perSide) && perSide >= 1 && perSide <= 16)) {
    throw new InspectorConfigError(`${where}: detailTilesPerSide must be an integer in [1, 16]; got ${JSON.stringify(perSide)}`);
  }
  const fine = config.fineLabels;
  if (fine != null && (!Array.isArray(fine) || fine.some((l) => !config.labels.includes(l)) || new Set(fine).size !== fine.length)) {
    throw new InspectorConfigError(`${where}: fineLabels must be a list of distinct labels of the config (${config.labels.join(', ')}); got ${JSON.stringify(fine)}`);
  }
  const both = fine?.filter((l) => detail?.includes(l));
  if (both?.length) throw new InspectorConfigError(`${where}: ${both.join(', ')} cannot be both a detail label and a fine label (read from the native-scale detail tiles or from the finer coverage, not both)`);
  const finePerSide = config.fineTilesPerSide;
  if (fine?.length || finePerSide != null) {
    if (config.maxTilesPerSide >= 16) throw new InspectorConfigError(`${where}: fineLabels and fineTilesPerSide need maxTilesPerSide under 16 (the finer coverage has more tiles per side, at most 16)`);
    if (!(Number.isInteger(finePerSide) && finePerSide! > config.maxTilesPerSide && finePerSide! <= 16)) {
      throw new InspectorConfigError(`${where}: fineTilesPerSide must be an integer in [${config.maxTilesPerSide + 1}, 16] (more tiles per side than maxTilesPerSide)${fine?.length ? ' with fineLabels' : ''}; got ${JSON.stringify(finePerSide)}`);
    }
  }
  const lowpass = config.paletteLowpass;
  if (lowpass != null && !isPaletteLowpassWeight(lowpass)) bad('paletteLowpass', 'a number in (0, 1/3] (the low-pass weight for palette images)', lowpass);
  if (config.modelSha256 != null && !(typeof config.modelSha256 === 'string' && /^[0-9a-f]{64}$/.test(config.modelSha256))) bad('modelSha256', 'a SHA-256 digest (64 hex digits)', config.modelSha256);
  return config;
}

/** SHA-256 (hex) of model bytes with Web Crypto (the browser), or null where it is not available (an insecure context). */
export async function webModelDigest(bytes: Uint8Array): Promise<string | null> {
  const subtle = (globalThis as { crypto?: { subtle?: { digest(alg: string, data: Uint8Array): Promise<ArrayBuffer> } } }).crypto?.subtle;
  if (!subtle) return null;
  return Array.from(new Uint8Array(await subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A config that names its model's digest must sit beside that model: otherwise an error naming
 * both files (one model's thresholds and tile rules would be applied to another's outputs).
 * `digest` is the model file's SHA-256, or null when it could not be computed (not checked).
 */
export function checkModelDigest(config: InspectorConfig, digest: string | null, modelName: string, configName: string): void {
  if (!config.modelSha256 || digest === null || digest === config.modelSha256) return;
  throw new InspectorConfigError(`${configName} was written for another model than ${modelName} (its modelSha256 does not match the file): an interrupted package-inspector or mixed-up files; package the model again`);
}

/** Outputs per tile the config expects: a presence logit per label, and a severity logit per label with `severityHead`. */
export function expectedOutputs(config: Pick<InspectorConfig, 'labels' | 'severityHead'>): number {
  return config.labels.length * (config.severityHead ? 2 : 1);
}

/**
 * Runs one blank tile through the model at load: a model that does not take the config's tile
 * size, or gives another number of outputs than the config's labels need, is refused naming both
 * files, instead of failing on every image or reading labels from the wrong outputs.
 */
export async function probeModel(Tensor: OrtModule['Tensor'], session: OrtSession, config: InspectorConfig, modelName: string, configName: string): Promise<void> {
  const S = config.inputSize;
  let out: Float32Array;
  try {
    out = await runTiles(Tensor, session, new Float32Array(3 * S * S), 1, S);
  } catch (e) {
    throw new InspectorConfigError(`${modelName}: the model does not take ${S} x ${S} tiles (inputSize in ${configName}): ${(e as Error).message.split('\n')[0]}`);
  }
  const want = expectedOutputs(config);
  if (out.length !== want) {
    throw new InspectorConfigError(`${modelName}: the model gives ${out.length} outputs per tile, but ${configName} needs ${want} (${config.labels.length} labels${config.severityHead ? ' and their severities' : ''})`);
  }
}

/** The native-scale detail tiles of a width x height image under `config` (tiling.ts), or null when it reads no label from them or the image is not downscaled. */
export function detailPlanOf(config: InspectorConfig, width: number, height: number): TilePlan | null {
  if (!config.detailLabels?.length) return null;
  return planDetailTiles(width, height, config.inputSize, config.detailTilesPerSide ?? config.maxTilesPerSide, config.maxTilesPerSide);
}

/** The finer coverage of a width x height image under `config` (tiling.ts), or null when it reads no label from one or the image is not downscaled. */
export function finePlanOf(config: InspectorConfig, width: number, height: number): TilePlan | null {
  if (!config.fineLabels?.length || config.fineTilesPerSide == null) return null;
  return planFineTiles(width, height, config.inputSize, config.fineTilesPerSide, config.maxTilesPerSide);
}

/** The threshold of each label: `override` for all, else the config's per-label or global one. */
export function labelThresholdsOf(config: InspectorConfig, where: string, override?: number): number[] {
  const { labels, labelThresholds, threshold } = config;
  if (override !== undefined) {
    if (typeof override !== 'number' || !(override > 0 && override < 1)) throw new ArgumentError(`threshold must be a number in (0, 1); got ${typeof override === 'number' ? String(override) : JSON.stringify(override)}`);
    return labels.map(() => override);
  }
  if (labelThresholds && labelThresholds.length !== labels.length) throw new InspectorConfigError(`${where}: config has ${labelThresholds.length} labelThresholds for ${labels.length} labels`);
  return labels.map((_, k) => labelThresholds?.[k] ?? threshold);
}

/**
 * The model input [T, 3, S, S] from the image resized to plan.width x plan.height, interleaved
 * with `channels` per pixel (1 = grey, 3 = RGB, 4 = RGBA; alpha ignored), normalised with the
 * config's mean and std.
 */
export function tileBatch(raw: ArrayLike<number>, channels: number, plan: TilePlan, config: Pick<InspectorConfig, 'inputSize' | 'mean' | 'std'>): Float32Array {
  const S = config.inputSize;
  if (raw.length !== plan.width * plan.height * channels) throw new RangeError(`tileBatch: expected ${plan.width}x${plan.height}x${channels} = ${plan.width * plan.height * channels} values, got ${raw.length}`);
  const batch = new Float32Array(plan.origins.length * 3 * S * S);
  const { mean, std } = config;
  plan.origins.forEach(({ left, top }, t) => {
    for (let c = 0; c < 3; c++) {
      const src = channels < 3 ? 0 : c;
      const m = 255 * mean[c]!;
      const inv = 1 / (255 * std[c]!);
      const base = (t * 3 + c) * S * S;
      for (let y = 0; y < S; y++) {
        const row = ((top + y) * plan.width + left) * channels + src;
        for (let x = 0; x < S; x++) batch[base + y * S + x] = (raw[row + x * channels]! - m) * inv;
      }
    }
  });
  return batch;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/**
 * Probabilities are reported to 4 decimals, and decisions are made on the reported values: tile
 * probabilities are rounded, the image probability is the rounded mean of the rounded tiles, and
 * a label fires when that value is >= its threshold. Calibration (dataset_eval.ts) recomputes
 * image probabilities from the reported tile probabilities with the same steps, so its decisions
 * are the inspector's exactly, also for a value that falls on a threshold.
 */
export const roundProbability = (x: number) => Math.round(x * 10000) / 10000;
const round = roundProbability;

/**
 * Model outputs [T, D] of the extra tiles of a downscaled image: its native-scale detail tiles
 * (tiling.ts planDetailTiles; origins in source pixels) or its finer coverage (planFineTiles;
 * origins in the image resized to plan.width x plan.height).
 */
export interface ExtraTileOutputs {
  out: ArrayLike<number>;
  plan: TilePlan;
}

/** Per-tile probabilities (rounded) and severities of T tiles' outputs [T, D]. */
function tileScores(out: ArrayLike<number>, T: number, config: InspectorConfig): { probabilities: number[][]; severity: number[][] } {
  const K = config.labels.length;
  const D = out.length / T;
  const probabilities: number[][] = [];
  const severity: number[][] = [];
  for (let t = 0; t < T; t++) {
    probabilities.push(Array.from({ length: K }, (_, k) => round(sigmoid(out[t * D + k]!))));
    severity.push(Array.from({ length: K }, (_, k) => (config.severityHead ? sigmoid(out[t * D + K + k]!) : 0)));
  }
  return { probabilities, severity };
}

/**
 * Image result from the model outputs of its T tiles ([T, D]: presence logits, then severity
 * logits when the config has a severity head), decided at `thresholds`. With `detail` (the image
 * was downscaled), the config's `detailLabels` are read from the detail tiles instead, and with
 * `fine`, its `fineLabels` from the finer coverage.
 */
export function resultFromTileOutputs(
  out: ArrayLike<number>, plan: TilePlan, size: { width: number; height: number }, config: InspectorConfig, thresholds: readonly number[],
  detail?: ExtraTileOutputs, fine?: ExtraTileOutputs,
): InspectResult {
  const T = plan.origins.length;
  const cover = tileScores(out, T, config);
  const tileProbabilities = cover.probabilities;
  const detailLabels = detail ? (config.detailLabels ?? []) : [];
  const fineLabels = fine ? (config.fineLabels ?? []) : [];
  const native = detail && detailLabels.length ? tileScores(detail.out, detail.plan.origins.length, config) : undefined;
  const finer = fine && fineLabels.length ? tileScores(fine.out, fine.plan.origins.length, config) : undefined;
  const scores: LabelResult[] = config.labels.map((label, k) => {
    const src = native && detailLabels.includes(label) ? native : finer && fineLabels.includes(label) ? finer : cover;
    const n = src.probabilities.length;
    const { probability, severity } = topMean(src.probabilities.map((p) => p[k]!), tilesAveraged(config, k, n), src.severity.map((s) => s[k]!));
    return { label, probability: round(probability), severity: round(severity) };
  });
  const labels = scores.filter((s, k) => s.probability >= thresholds[k]!).sort((a, b) => b.probability - a.probability);
  return {
    clean: labels.length === 0,
    labels,
    scores,
    tiles: { rows: plan.rows, cols: plan.cols, tileSize: Math.round(plan.tile / plan.scale), width: size.width, height: size.height, cells: tileCells(plan, size.width, size.height) },
    tileProbabilities,
    thresholds: [...thresholds],
    ...(native && detail
      ? {
          detail: {
            labels: [...detailLabels], rows: detail.plan.rows, cols: detail.plan.cols, tileSize: detail.plan.tile,
            origins: detail.plan.origins.map((o) => ({ ...o })), cells: tileCells(detail.plan, size.width, size.height), tileProbabilities: native.probabilities,
          },
        }
      : {}),
    ...(finer && fine
      ? {
          fine: {
            labels: [...fineLabels], rows: fine.plan.rows, cols: fine.plan.cols, tileSize: Math.round(fine.plan.tile / fine.plan.scale),
            cells: tileCells(fine.plan, size.width, size.height), tileProbabilities: finer.probabilities,
          },
        }
      : {}),
  };
}

/** The tile probabilities label k of a result was aggregated from: its detail tiles' for a detail label, its finer coverage's for a fine label, else the coverage tiles'. */
export function labelTileProbabilities(r: InspectResult, k: number): number[] {
  return labelTiles(r, k).probabilities;
}

/** The tiles label k was read from, as display cells (source pixels) and that label's probability per tile. */
export function labelTiles(r: InspectResult, k: number): { cells: TileCell[]; probabilities: number[] } {
  const label = r.scores[k]?.label;
  const d = label === undefined ? undefined : r.detail?.labels.includes(label) ? r.detail : r.fine?.labels.includes(label) ? r.fine : undefined;
  return { cells: d ? d.cells : r.tiles.cells, probabilities: (d ? d.tileProbabilities : r.tileProbabilities).map((p) => p[k]!) };
}
