/**
 * The image-quality inspector (Node): loads the shipped ONNX model and its config, tiles an image
 * of any size at near-native scale, runs the tiles through ONNX Runtime and aggregates per-label
 * probabilities and severities.
 *
 *   const inspector = await Inspector.load();
 *   const r = await inspector.inspect('photo.jpg');   // { clean, labels: [{label, probability, severity}], ... }
 *   inspector.dispose();
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp, type Metadata } from 'sharp';
import * as ort from 'onnxruntime-node';
import { defaultThreads } from '../runtime/session.js';
import { AttnvisionError } from '../util/errors.js';
import { planTiles, type TilePlan } from './tiling.js';
import { tilesAveraged, topMean } from './aggregate.js';
import { readImage } from '../image/io.js';
import { ImageDecodeError } from '../image/errors.js';
import { toInterleavedU8, type ImageF32 } from '../image/tensor.js';
import type { InspectorConfig, InspectResult, LabelResult } from './labels.js';

export class InspectError extends AttnvisionError {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** Folder holding the shipped model (models/ at the package root). */
export function shippedModelDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url)); // <root>/dist/src/quality
  return path.resolve(here, '../../../models');
}

export interface LoadOptions {
  /** ONNX model file (default: the shipped models/inspector.onnx). */
  model?: string;
  /** Config JSON (default: model path with .json). */
  config?: string;
  threads?: number;
}

export interface InspectOptions {
  /** Decision threshold for every label (default: the model's calibrated per-label or global thresholds). */
  threshold?: number;
  /** Name used in error messages for Buffer inputs. */
  name?: string;
  /** Refuse images above this many pixels before decoding (default 100 MP). */
  maxPixels?: number;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export class Inspector {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly config: InspectorConfig,
    readonly modelPath: string,
  ) {}

  static async load(opts: LoadOptions = {}): Promise<Inspector> {
    const modelPath = opts.model ?? path.join(shippedModelDir(), 'inspector.onnx');
    const configPath = opts.config ?? modelPath.replace(/\.onnx$/, '.json');
    let config: InspectorConfig;
    try {
      config = JSON.parse(await fs.readFile(configPath, 'utf8')) as InspectorConfig;
    } catch (e) {
      throw new AttnvisionError(`${configPath}: cannot read inspector config (${(e as Error).message})`);
    }
    const fractions = config.labelTopFraction;
    if (fractions && (!Array.isArray(fractions) || fractions.length !== config.labels?.length || fractions.some((f) => !(typeof f === 'number' && f > 0 && f <= 1)))) {
      throw new AttnvisionError(`${configPath}: labelTopFraction must hold ${config.labels?.length} numbers in (0, 1], one per label; got ${JSON.stringify(fractions)}`);
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: opts.threads ?? defaultThreads(), interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    } catch (e) {
      throw new AttnvisionError(`${modelPath}: cannot load inspector model (${(e as Error).message})`);
    }
    return new Inspector(session, config, modelPath);
  }

  /** Decodes, tiles and normalises an image: [T, 3, S, S]. */
  async prepare(input: string | Buffer, opts: InspectOptions = {}): Promise<{ batch: Float32Array; plan: TilePlan; width: number; height: number }> {
    const name = typeof input === 'string' ? input : (opts.name ?? '<buffer>');
    const S = this.config.inputSize;
    let img: Sharp;
    let meta: Metadata;
    try {
      img = sharp(input, { limitInputPixels: opts.maxPixels ?? 100_000_000, failOn: 'error', animated: false }).rotate();
      meta = await img.metadata();
    } catch (e) {
      // Formats libvips cannot read (BMP) go through attnvision's own decoders.
      let decoded: ImageF32;
      try {
        decoded = await readImage(typeof input === 'string' ? input : new Uint8Array(input), { maxPixels: opts.maxPixels });
      } catch (e2) {
        throw new InspectError(name, e2 instanceof ImageDecodeError ? e2.reason : describeDecodeError(e));
      }
      const { channels, width: w, height: h } = decoded;
      img = sharp(Buffer.from(toInterleavedU8(decoded)), { raw: { width: w, height: h, channels: channels as 1 | 3 | 4 } });
      meta = await img.metadata();
    }
    const swap = (meta.orientation ?? 1) >= 5;
    const width = (swap ? meta.height : meta.width) ?? 0;
    const height = (swap ? meta.width : meta.height) ?? 0;
    if (!width || !height) throw new InspectError(name, 'image has no dimensions');
    const plan = planTiles(width, height, S, this.config.maxTilesPerSide);
    let raw: Buffer;
    try {
      raw = await img.resize(plan.width, plan.height, { fit: 'fill', kernel: 'lanczos3' }).removeAlpha().toColourspace('srgb').raw().toBuffer();
    } catch (e) {
      throw new InspectError(name, describeDecodeError(e));
    }
    const ch = raw.length / (plan.width * plan.height);
    const T = plan.origins.length;
    const batch = new Float32Array(T * 3 * S * S);
    const { mean, std } = this.config;
    plan.origins.forEach(({ left, top }, t) => {
      for (let c = 0; c < 3; c++) {
        const src = ch === 1 ? 0 : c;
        const m = 255 * mean[c]!;
        const inv = 1 / (255 * std[c]!);
        const base = (t * 3 + c) * S * S;
        for (let y = 0; y < S; y++) {
          const row = ((top + y) * plan.width + left) * ch + src;
          for (let x = 0; x < S; x++) batch[base + y * S + x] = (raw[row + x * ch]! - m) * inv;
        }
      }
    });
    return { batch, plan, width, height };
  }

  /** Raw per-tile outputs [T, outputs]. */
  async runTiles(batch: Float32Array, tiles: number): Promise<Float32Array> {
    const S = this.config.inputSize;
    const per = 3 * S * S;
    const chunk = 16;
    const parts: Float32Array[] = [];
    for (let i = 0; i < tiles; i += chunk) {
      const n = Math.min(chunk, tiles - i);
      const x = new ort.Tensor('float32', batch.subarray(i * per, (i + n) * per), [n, 3, S, S]);
      const out = await this.session.run({ [this.session.inputNames[0]!]: x });
      parts.push(out[this.session.outputNames[0]!]!.data as Float32Array);
    }
    const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    return all;
  }

  /** Inspects one image (path or encoded bytes). */
  async inspect(input: string | Buffer, opts: InspectOptions = {}): Promise<InspectResult> {
    const { batch, plan, width, height } = await this.prepare(input, opts);
    const T = plan.origins.length;
    const K = this.config.labels.length;
    const out = await this.runTiles(batch, T);
    const D = out.length / T;
    const tileProbabilities: number[][] = [];
    const tileSeverity: number[][] = [];
    for (let t = 0; t < T; t++) {
      tileProbabilities.push(Array.from({ length: K }, (_, k) => sigmoid(out[t * D + k]!)));
      tileSeverity.push(Array.from({ length: K }, (_, k) => (this.config.severityHead ? sigmoid(out[t * D + K + k]!) : 0)));
    }
    const thresholds = this.thresholds(opts.threshold);
    const scores: LabelResult[] = this.config.labels.map((label, k) => {
      const { probability, severity } = topMean(tileProbabilities.map((p) => p[k]!), tilesAveraged(this.config, k, T), tileSeverity.map((s) => s[k]!));
      return { label, probability: round(probability), severity: round(severity) };
    });
    const labels = scores.filter((s, k) => s.probability >= thresholds[k]!).sort((a, b) => b.probability - a.probability);
    return { clean: labels.length === 0, labels, scores, tiles: { rows: plan.rows, cols: plan.cols, tileSize: Math.round(plan.tile / plan.scale), width, height }, tileProbabilities: tileProbabilities.map((r) => r.map(round)), thresholds };
  }

  /** The threshold of each label: `override` for all, else the config's per-label or global one. */
  thresholds(override?: number): number[] {
    const { labels, labelThresholds, threshold } = this.config;
    if (override !== undefined) return labels.map(() => override);
    if (labelThresholds && labelThresholds.length !== labels.length) throw new AttnvisionError(`${this.modelPath}: config has ${labelThresholds.length} labelThresholds for ${labels.length} labels`);
    return labels.map((_, k) => labelThresholds?.[k] ?? threshold);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

/** Turns libvips/sharp messages into short reasons. */
export function describeDecodeError(e: unknown): string {
  const m = (e as Error).message ?? String(e);
  if (/unsupported image format/i.test(m)) return 'not a supported image (unknown or unsupported format)';
  if (/pixel limit/i.test(m)) return `image is too large (${m.replace(/^.*?:\s*/, '')})`;
  if (/premature end|truncated|unexpected end|corrupt|Invalid/i.test(m)) return `corrupt or truncated image (${m.split('\n')[0]})`;
  if (/ENOENT|no such file/i.test(m)) return 'file not found';
  if (/empty/i.test(m)) return 'empty file';
  return m.split('\n')[0]!;
}
