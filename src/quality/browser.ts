/**
 * The image-quality inspector in the browser: the same model, tiling, aggregation and thresholds
 * as the Node inspector (core.ts), with onnxruntime-web for compute and a canvas for decoding and
 * resizing. Imports nothing Node-specific; `ort` is passed in, so this module does not pull
 * onnxruntime-web into Node installs.
 *
 *   import * as ort from 'onnxruntime-web';
 *   const inspector = await BrowserInspector.load({ ort, model: '/model.onnx', config: '/model.json' });
 *   const r = await inspector.inspect(fileInput.files[0]);   // { clean, labels: [{label, probability, severity}], ... }
 *
 * Resizing differs from the Node inspector's Lanczos (the canvas' own filter), so probabilities
 * can differ slightly from `attnvision inspect` on the same photo; with the same resized pixels
 * (`inspectResized`) they agree to float precision.
 */
import { checkInspectorConfig, checkModelDigest, webModelDigest, detailPlanOf, finePlanOf, labelThresholdsOf, probeModel, resultFromTileOutputs, runTiles, tileBatch, type OrtModule, type OrtSession } from './core.js';
import type { InspectorConfig, InspectResult } from './labels.js';
import { ArgumentError } from '../util/errors.js';
import { mosaicPlan, planTiles, type TilePlan } from './tiling.js';
import { isPaletteImage, paletteLowpass } from '../image/palette.js';

export type { OrtModule, OrtSession };

export interface BrowserLoadOptions {
  ort: OrtModule;
  /** Model bytes or URL. */
  model: Uint8Array | ArrayBuffer | string;
  /** Config object or URL of the model's JSON config. */
  config: InspectorConfig | string;
  /** Session options passed to ort (e.g. { executionProviders: ['wasm'] }). */
  sessionOptions?: Record<string, unknown>;
}

// The few browser APIs used, declared here because the project compiles without the DOM library.
interface BitmapLike {
  readonly width: number;
  readonly height: number;
}
interface Canvas2D {
  imageSmoothingEnabled: boolean;
  imageSmoothingQuality: string;
  fillStyle: string;
  fillRect(x: number, y: number, w: number, h: number): void;
  drawImage(image: BitmapLike, dx: number, dy: number, dw: number, dh: number): void;
  drawImage(image: BitmapLike, sx: number, sy: number, sw: number, sh: number, dx: number, dy: number, dw: number, dh: number): void;
  getImageData(sx: number, sy: number, sw: number, sh: number): ImageDataLike;
  putImageData(data: ImageDataLike, dx: number, dy: number): void;
}
interface ImageDataLike {
  readonly data: Uint8ClampedArray;
}
declare function createImageBitmap(image: Blob, options?: { imageOrientation?: string }): Promise<BitmapLike>;
declare const OffscreenCanvas: new (width: number, height: number) => BitmapLike & { getContext(kind: '2d'): Canvas2D | null };

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

export class BrowserInspector {
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: OrtSession,
    readonly config: InspectorConfig,
    readonly where: string,
  ) {}

  static async load(o: BrowserLoadOptions): Promise<BrowserInspector> {
    const where = typeof o.model === 'string' ? o.model : 'inspector model';
    let config: InspectorConfig;
    if (typeof o.config === 'string') {
      const r = await fetch(o.config);
      if (!r.ok) throw new Error(`${o.config}: HTTP ${r.status}`);
      config = (await r.json()) as InspectorConfig;
    } else config = o.config;
    checkInspectorConfig(config, typeof o.config === 'string' ? o.config : where);
    const bytes = typeof o.model === 'string' ? await fetchBytes(o.model) : o.model instanceof Uint8Array ? o.model : new Uint8Array(o.model);
    if (config.modelSha256) checkModelDigest(config, await webModelDigest(bytes), where, typeof o.config === 'string' ? o.config : 'the config');
    const session = await o.ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', ...o.sessionOptions });
    try {
      await probeModel(o.ort.Tensor, session, config, where, typeof o.config === 'string' ? o.config : 'the config');
    } catch (e) {
      await session.release().catch(() => undefined); // the probe's error is the one to report
      throw e;
    }
    return new BrowserInspector(o.ort, session, config, where);
  }

  /** The tile plan of a width x height image: resize the image to plan.width x plan.height first. */
  plan(width: number, height: number): TilePlan {
    return planTiles(width, height, this.config.inputSize, this.config.maxTilesPerSide);
  }

  thresholds(override?: number): number[] {
    return labelThresholdsOf(this.config, this.where, override);
  }

  /**
   * The native-scale detail tiles of a width x height image, when the config reads labels from
   * them and the image is downscaled for tiling (tiling.ts): copy each tile, at scale 1, into a
   * mosaic laid out as `mosaicPlan(detail)`.
   */
  detailPlan(width: number, height: number): TilePlan | null {
    return detailPlanOf(this.config, width, height);
  }

  /**
   * The finer coverage of a width x height image, when the config reads labels from one and the
   * image is downscaled for tiling (tiling.ts): resize the image to its width x height.
   */
  finePlan(width: number, height: number): TilePlan | null {
    return finePlanOf(this.config, width, height);
  }

  /**
   * Inspects pixels already resized to `plan(width, height)`: interleaved, `channels` per pixel
   * (4 for canvas ImageData). `size` is the original image size (reported in the result).
   * `detail`: the detail tiles' mosaic pixels (see `detailPlan`); `fine`: the image resized for
   * the finer coverage (see `finePlan`). Each is required when its plan for `size` is not null,
   * and every plan must be the one this inspector makes for `size` (else the result would
   * silently differ from the Node inspector's).
   */
  async inspectResized(
    pixels: ArrayLike<number>, channels: number, plan: TilePlan, size: { width: number; height: number },
    opts: { threshold?: number } = {}, detail?: { pixels: ArrayLike<number>; channels: number; plan: TilePlan },
    fine?: { pixels: ArrayLike<number>; channels: number; plan: TilePlan },
  ): Promise<InspectResult> {
    const same = (a: TilePlan, b: TilePlan) => JSON.stringify(a) === JSON.stringify(b);
    const { width, height } = size;
    if (!same(plan, this.plan(width, height))) throw new ArgumentError(`inspectResized: plan is not plan(${width}, ${height}) of this inspector`);
    const parts: [string, { plan: TilePlan } | undefined, TilePlan | null][] = [
      ['detail', detail, this.detailPlan(width, height)],
      ['fine', fine, this.finePlan(width, height)],
    ];
    for (const [name, given, want] of parts) {
      if (want && !given) throw new ArgumentError(`inspectResized: a ${width} x ${height} image needs its ${name} tiles (${name}Plan(${width}, ${height}))`);
      if (given && !(want && same(given.plan, want))) throw new ArgumentError(`inspectResized: ${name} tiles given for a ${width} x ${height} image whose ${name}Plan is ${want ? 'another' : 'null'}`);
    }
    const batch = tileBatch(pixels, channels, plan, this.config);
    const S = this.config.inputSize;
    const all = await runTiles(this.ort.Tensor, this.session, batch, plan.origins.length, S);
    let detailOut;
    if (detail) {
      const mosaic = mosaicPlan(detail.plan);
      const out = await runTiles(this.ort.Tensor, this.session, tileBatch(detail.pixels, detail.channels, mosaic, this.config), mosaic.origins.length, S);
      detailOut = { out, plan: detail.plan };
    }
    const fineOut = fine ? { out: await runTiles(this.ort.Tensor, this.session, tileBatch(fine.pixels, fine.channels, fine.plan, this.config), fine.plan.origins.length, S), plan: fine.plan } : undefined;
    return resultFromTileOutputs(all, plan, size, this.config, this.thresholds(opts.threshold), detailOut, fineOut);
  }

  /**
   * Inspects a File/Blob or an already decoded image (browser: createImageBitmap + OffscreenCanvas).
   * A palette Blob (GIF, palette PNG) gets the config's `paletteLowpass` first, as in Node; an
   * already decoded image cannot be told to be one and is tiled as it is.
   */
  async inspect(source: Blob | BitmapLike, opts: { threshold?: number } = {}): Promise<InspectResult> {
    const name = source instanceof Blob && 'name' in source && typeof source.name === 'string' ? source.name : 'image';
    const decoded =
      source instanceof Blob
        ? await createImageBitmap(source, { imageOrientation: 'from-image' }).catch((e: unknown) => {
            throw new Error(`${name}: not an image, or a format this browser cannot decode (${(e as Error).message ?? String(e)})`);
          })
        : source;
    // A canvas filled with white: transparency is composited onto white, as the Node inspector does.
    const whiteCanvas = (width: number, height: number, canvas = new OffscreenCanvas(width, height)) => {
      const ctx = canvas.getContext('2d');
      if (!ctx) throw new Error('inspect: no 2D canvas context');
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, 0, width, height);
      return ctx;
    };
    const lowpass = this.config.paletteLowpass;
    let bitmap: BitmapLike = decoded;
    if (lowpass && source instanceof Blob && isPaletteImage(new Uint8Array(await source.slice(0, 32).arrayBuffer()))) {
      // Palette images lose their dither at native resolution (image/palette.ts), then are tiled from that canvas.
      const { width, height } = decoded;
      const canvas = new OffscreenCanvas(width, height);
      const ctx = whiteCanvas(width, height, canvas);
      ctx.drawImage(decoded, 0, 0, width, height);
      const image = ctx.getImageData(0, 0, width, height); // data: [H, W, 4]
      image.data.set(paletteLowpass(image.data, width, height, 4, lowpass));
      ctx.putImageData(image, 0, 0);
      bitmap = canvas;
    }
    const plan = this.plan(bitmap.width, bitmap.height);
    // The image resized to a plan's size.
    const resized = (p: TilePlan) => {
      const ctx = whiteCanvas(p.width, p.height);
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(bitmap, 0, 0, p.width, p.height);
      return ctx.getImageData(0, 0, p.width, p.height).data;
    };
    const data = resized(plan);
    const fplan = this.finePlan(bitmap.width, bitmap.height);
    const fine = fplan ? { pixels: resized(fplan), channels: 4, plan: fplan } : undefined;
    const dplan = this.detailPlan(bitmap.width, bitmap.height);
    let detail;
    if (dplan) {
      const mosaic = mosaicPlan(dplan);
      const S = dplan.tile;
      const dctx = whiteCanvas(mosaic.width, mosaic.height);
      dplan.origins.forEach((o, i) => dctx.drawImage(bitmap, o.left, o.top, S, S, mosaic.origins[i]!.left, mosaic.origins[i]!.top, S, S));
      detail = { pixels: dctx.getImageData(0, 0, mosaic.width, mosaic.height).data, channels: 4, plan: dplan };
    }
    return this.inspectResized(data, 4, plan, { width: bitmap.width, height: bitmap.height }, opts, detail, fine);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
