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
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';
import * as ort from 'onnxruntime-node';
import { checkThreads, defaultThreads } from '../runtime/session.js';
import { AttnvisionError } from '../util/errors.js';
import { planTiles, type TilePlan } from './tiling.js';
import { checkInspectorConfig, checkModelDigest, detailPlanOf, finePlanOf, labelThresholdsOf, probeModel, resultFromTileOutputs, runTiles, tileBatch } from './core.js';
import { DECODE_TIMEOUT_SECONDS, decodeFailureReason, isBenignDecodeWarning, openImagePipeline } from '../image/io.js';
import { ImageDecodeError } from '../image/errors.js';
import { paletteLowpass } from '../image/palette.js';
import { configPathOf, type InspectorConfig, type InspectResult } from './labels.js';

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
  /** Refuse images above this many pixels before decoding (default 100 MP; Infinity: no limit, as in readImage). */
  maxPixels?: number;
}

/** An image decoded, tiled and normalised for the model (`Inspector.prepare`). */
export interface PreparedImage {
  batch: Float32Array;
  plan: TilePlan;
  width: number;
  height: number;
  detail?: { batch: Float32Array; plan: TilePlan };
  /** The finer coverage of a downscaled image, for the config's `fineLabels` (tiling.ts planFineTiles). */
  fine?: { batch: Float32Array; plan: TilePlan };
}

export class Inspector {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly config: InspectorConfig,
    readonly modelPath: string,
  ) {}

  /** Loads an inspector: `Inspector.load()` (the shipped model), `Inspector.load('model.onnx')` or `Inspector.load({ model, config, threads })`. */
  static async load(options: LoadOptions | string = {}): Promise<Inspector> {
    const opts: LoadOptions = typeof options === 'string' ? { model: options } : options;
    if (typeof opts !== 'object' || opts === null) throw new AttnvisionError(`Inspector.load: expected a model path or { model, config, threads }; got ${String(opts)}`);
    const modelPath = opts.model ?? path.join(shippedModelDir(), 'inspector.onnx');
    if (typeof modelPath !== 'string') throw new AttnvisionError(`Inspector.load: model must be a file path; got ${typeof modelPath}`);
    if (!opts.config && !/\.onnx$/i.test(modelPath)) throw new AttnvisionError(`${modelPath}: expected an .onnx inspector model (its config is read from the same name with .json)`);
    const threads = opts.threads === undefined ? defaultThreads() : checkThreads('Inspector.load', opts.threads);
    const configPath = opts.config ?? configPathOf(modelPath);
    // The model first: a missing model is named as such, not as its missing config.
    const modelStat = await fs.stat(modelPath).catch((e: NodeJS.ErrnoException) => e);
    if (modelStat instanceof Error) throw new AttnvisionError(`${modelPath}: cannot read inspector model (${modelStat.code === 'ENOENT' ? 'file not found' : (modelStat.code ?? modelStat.message)})`);
    if (!modelStat.isFile()) throw new AttnvisionError(`${modelPath}: cannot read inspector model (not a file)`);
    const config = await readInspectorConfig(configPath);
    if (config.modelSha256) checkModelDigest(config, createHash('sha256').update(await fs.readFile(modelPath)).digest('hex'), modelPath, configPath);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    } catch (e) {
      throw new AttnvisionError(`${modelPath}: cannot load inspector model (${(e as Error).message})`);
    }
    try {
      await probeModel(ort.Tensor, session, config, modelPath, configPath);
    } catch (e) {
      await session.release().catch(() => undefined); // the probe's error is the one to report
      throw e;
    }
    return new Inspector(session, config, modelPath);
  }

  /**
   * Decodes, tiles and normalises an image: [T, 3, S, S]; for a downscaled image with config
   * `detailLabels`, also the native-scale detail tiles [Td, 3, S, S], and with `fineLabels`, the
   * finer coverage [Tf, 3, S, S] (tiling.ts).
   */
  async prepare(source: ImageInput, options: InspectOptions | null = {}): Promise<PreparedImage> {
    return this.prepareChecked(source, checkInspectOptions(options));
  }

  private async prepareChecked(source: ImageInput, opts: InspectOptions): Promise<PreparedImage> {
    const input = imageInput(source);
    const name = typeof input === 'string' ? input : (opts.name ?? '<buffer>');
    const S = this.config.inputSize;
    const { img, width, height, palette } = await openImage(input, name, opts.maxPixels);
    // Benign libjpeg warnings (image/io.ts): decoded again with warnings allowed.
    const tolerant = async () => (await openImage(input, name, opts.maxPixels, 'error')).img;
    let plan: TilePlan;
    try {
      plan = planTiles(width, height, S, this.config.maxTilesPerSide);
    } catch (e) {
      throw new InspectError(name, (e as Error).message);
    }
    const detailPlan = detailPlanOf(this.config, width, height);
    const finePlan = finePlanOf(this.config, width, height);
    let raw: Buffer;
    let native: Buffer | undefined;
    let finer: Buffer | undefined;
    try {
      // The native decode first: resize() changes the pipeline it is called on. Transparency is
      // composited onto white, as the photo is seen and as the training images were made.
      const decoded = (p: Sharp) => p.flatten({ background: '#ffffff' }).toColourspace('srgb').timeout({ seconds: DECODE_TIMEOUT_SECONDS }).raw();
      const finish = (p: Sharp) => decoded(p).toBuffer();
      const finishWithInfo = (p: Sharp) => decoded(p).toBuffer({ resolveWithObject: true });
      // Resized to a plan's size (a plan at scale 1 is the image itself: no resampling).
      const resized = (base: Sharp, p: TilePlan) => (p.scale === 1 ? base : base.resize(p.width, p.height, { fit: 'fill', kernel: 'lanczos3' }));
      // Palette images (GIF, palette PNG) lose their dither first, at native resolution (palette.ts).
      const lowpass = palette ? (this.config.paletteLowpass ?? 0) : 0;
      const decode = async (opened: Sharp) => {
        const base = lowpass ? lowpassed(await finishWithInfo(opened), lowpass) : opened;
        if (detailPlan) native = await finish(base.clone());
        if (finePlan) finer = await finish(resized(base.clone(), finePlan));
        return finish(resized(base, plan));
      };
      raw = await decode(img).catch(async (e: unknown) => {
        if (isBenignDecodeWarning(e)) return decode(await tolerant());
        throw e;
      });
    } catch (e) {
      throw new InspectError(name, decodeFailureReason(e));
    }
    const batch = tileBatch(raw, raw.length / (plan.width * plan.height), plan, this.config);
    const detail = detailPlan && native ? { batch: tileBatch(native, native.length / (width * height), detailPlan, this.config), plan: detailPlan } : undefined;
    const fine = finePlan && finer ? { batch: tileBatch(finer, finer.length / (finePlan.width * finePlan.height), finePlan, this.config), plan: finePlan } : undefined;
    return { batch, plan, width, height, ...(detail ? { detail } : {}), ...(fine ? { fine } : {}) };
  }

  /** Raw per-tile outputs [T, outputs]. */
  async runTiles(batch: Float32Array, tiles: number): Promise<Float32Array> {
    return runTiles(ort.Tensor, this.session, batch, tiles, this.config.inputSize);
  }

  /** Inspects one image: a file path (or file: URL) or its encoded bytes (Buffer, Uint8Array, ArrayBuffer). */
  async inspect(input: ImageInput, options: InspectOptions | null = {}): Promise<InspectResult> {
    const opts = checkInspectOptions(options);
    const thresholds = this.thresholds(opts.threshold);
    const { batch, plan, width, height, detail, fine } = await this.prepareChecked(input, opts);
    const out = await this.runTiles(batch, plan.origins.length);
    const detailOut = detail ? { out: await this.runTiles(detail.batch, detail.plan.origins.length), plan: detail.plan } : undefined;
    const fineOut = fine ? { out: await this.runTiles(fine.batch, fine.plan.origins.length), plan: fine.plan } : undefined;
    return resultFromTileOutputs(out, plan, { width, height }, this.config, thresholds, detailOut, fineOut);
  }

  /** The threshold of each label: `override` for all, else the config's per-label or global one. */
  thresholds(override?: number): number[] {
    return labelThresholdsOf(this.config, this.modelPath, override);
  }

  private disposed = false;

  /** Releases the ONNX Runtime session (once; later calls do nothing). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }
}

/**
 * Reads and checks an inspector config (JSON; a UTF-8 byte-order mark is skipped): the one reader
 * for Inspector.load and calibrate. Errors name the file.
 */
export async function readInspectorConfig(configPath: string): Promise<InspectorConfig> {
  let config: InspectorConfig;
  try {
    config = JSON.parse((await fs.readFile(configPath, 'utf8')).replace(/^\uFEFF/, '')) as InspectorConfig;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AttnvisionError(`${configPath}: cannot read inspector config (${code === 'ENOENT' ? 'file not found' : (e as Error).message})`);
  }
  return checkInspectorConfig(config, configPath);
}

/** What `inspect` reads: a file path or file: URL, or the encoded bytes of an image. */
export type ImageInput = string | URL | Buffer | Uint8Array | ArrayBuffer;

/** A path or the bytes of an image; anything else is an error saying what was given. */
function imageInput(source: ImageInput): string | Buffer {
  if (typeof source === 'string') {
    if (!source) throw new AttnvisionError('inspect: expected an image path but received an empty string');
    return source.startsWith('file://') ? fileURLToPath(source) : source;
  }
  if (source instanceof URL) {
    if (source.protocol !== 'file:') throw new AttnvisionError(`inspect: only file: URLs can be read (got ${source.protocol} ${source.href}); fetch the bytes and pass a Buffer`);
    return fileURLToPath(source);
  }
  if (Buffer.isBuffer(source)) return source;
  if (source instanceof Uint8Array) return Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  if (source instanceof ArrayBuffer) return Buffer.from(source);
  const got = source === null || source === undefined ? String(source) : typeof source === 'object' ? ((source as object).constructor?.name ?? 'object') : typeof source;
  throw new AttnvisionError(`inspect: expected an image path, file: URL, Buffer, Uint8Array or ArrayBuffer but received ${got}`);
}

/** Inspect options with their values checked (null = none). */
function checkInspectOptions(options: InspectOptions | null | undefined): InspectOptions {
  const opts = options ?? {};
  if (typeof opts !== 'object') throw new AttnvisionError(`inspect: expected an options object but received ${typeof opts}`);
  if (opts.maxPixels !== undefined && opts.maxPixels !== Infinity && !(Number.isInteger(opts.maxPixels) && opts.maxPixels > 0)) {
    throw new AttnvisionError(`inspect: maxPixels must be a positive integer (or Infinity); got ${String(opts.maxPixels)}`);
  }
  if (opts.name !== undefined && typeof opts.name !== 'string') throw new AttnvisionError(`inspect: name must be a string; got ${typeof opts.name}`);
  return opts;
}

/** An image's decoded pixels low-passed as palette.ts does, as a raw sharp pipeline of the same size. */
function lowpassed({ data, info }: { data: Buffer; info: { width: number; height: number; channels: number } }, weight: number): Sharp {
  const out = paletteLowpass(data, info.width, info.height, info.channels, weight);
  return sharp(Buffer.from(out.buffer, out.byteOffset, out.byteLength), { raw: { width: info.width, height: info.height, channels: info.channels as 1 | 3 } });
}

/** Opens an image as `openImagePipeline` (image/io.ts) does; errors become InspectError naming `name`. */
export async function openImage(input: string | Buffer, name: string, maxPixels?: number, failOn?: 'warning' | 'error'): Promise<{ img: Sharp; width: number; height: number; palette: boolean }> {
  try {
    return await openImagePipeline(typeof input === 'string' ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength), { maxPixels, failOn });
  } catch (e) {
    throw new InspectError(name, e instanceof ImageDecodeError ? e.reason : decodeFailureReason(e));
  }
}

