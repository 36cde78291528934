/**
 * Renders one planned sample: picks a clean crop (photo or dead leaves; sharp when the labels need
 * it), applies the degradations and the camera finish (finish.ts: optional lens softness first, mild
 * sensor noise before any compression, an ordinary JPEG encode (or, opt-in, AVIF/WebP) last, then an
 * optional GIF round trip; never a label), writes the PNG atomically and returns its manifest line.
 * Runs inside a synth worker thread (or in-process with `workers: 0`). Output depends only on the
 * job and the config.
 */
import path from 'node:path';
import { readImage } from '../../image/io.js';
import { encodePng } from '../../image/io.js';
import { crop, type Box } from '../../image/transform.js';
import type { ImageF32 } from '../../image/tensor.js';
import { Rng } from '../../degrade/rng.js';
import { r4, type DegradationName } from '../../degrade/types.js';
import { writeFileAtomic } from '../../util/fs.js';
import { deadLeaves } from './dead_leaves.js';
import { applyFinishCodec, applyFinishJpeg, applyFinishGif, applyFinishSoftness, degradeWithSensorFinish, planFinish, type CameraFinish } from './finish.js';
import { photoSplits, type Job, type Split, type SynthConfig } from './plan.js';
import { servesLabels, STRICT_SHARPNESS } from './photo_notes.js';
import { sharpness, type SharpnessOptions } from './sharpness.js';

/** One line of manifest.jsonl. */
export interface ManifestEntry {
  id: number;
  /** Relative to the manifest's folder. */
  file: string;
  split: string;
  /** Degradation labels in physical order, or ['clean']. */
  labels: string[];
  severities: Record<string, number>;
  /** Every parameter used, per label. */
  params: Record<string, Record<string, unknown>>;
  source: {
    kind: 'photo' | 'dead-leaves';
    /** Photo file name (photo kind). */
    photo?: string;
    /** Crop box in the photo's full-resolution (EXIF-oriented) pixels, resized to size x size. */
    crop?: Box;
    /** Decode scale of the photo (crop side / size). */
    scale?: number;
    /** Seed of the procedural image (dead-leaves kind). */
    seed?: number;
    /** The planned photo, when it had no sharp crop (or its own problems are not among the labels) and another photo or dead leaves replaced it. */
    rejectedPhoto?: string;
  };
  seed: number;
  /** Camera finish (not a label, finish.ts): lens softness, mild sensor noise and an ordinary JPEG encode, as in real photos. */
  finish?: CameraFinish;
}
/** Share of samples whose labels do not depend on image detail that skip the sharpness check. */
export const ANY_CROP_PROB = 0.3;

/**
 * Default decode scales of photos: crops are taken at native resolution of one of these levels
 * (a photo too small for a level is decoded at the smallest scale that fits the crop). Datasets
 * can draw from others (SynthConfig.photoScales); 1 shows a photo's own grain at native scale.
 */
export const PHOTO_SCALES: readonly number[] = [0.35, 0.5, 0.7];

/** A tiny LRU of photos decoded at a scale (libvips shrink-on-load, Lanczos). */
export class PhotoCache {
  private readonly map = new Map<string, ImageF32>();
  constructor(private readonly capacity = 3) {}
  async get(file: string, scale: number): Promise<ImageF32> {
    const key = `${scale}:${file}`;
    const hit = this.map.get(key);
    if (hit) {
      this.map.delete(key);
      this.map.set(key, hit);
      return hit;
    }
    const img = await readImage(file, { scale });
    this.map.set(key, img);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
    return img;
  }
}

export interface CleanSource {
  image: ImageF32;
  source: ManifestEntry['source'];
}

/** Crop attempts per photo, and photos tried, before falling back to dead leaves. */
const CROP_TRIES = 4;
const PHOTO_TRIES = 3;

/**
 * A sharp size x size crop of an (already scaled) photo, or null after `tries` attempts. With
 * `requireSharp` false, the first random crop (smooth sky, bokeh, walls included); `test` sets the
 * sharpness test's thresholds (STRICT_SHARPNESS for partly blurred photos).
 */
export function sharpCrop(photo: ImageF32, size: number, rng: Rng, tries = CROP_TRIES, requireSharp = true, test: Readonly<SharpnessOptions> = {}): { image: ImageF32; box: Box } | null {
  if (photo.width < size || photo.height < size) return null;
  for (let t = 0; t < tries; t++) {
    const box = { left: rng.int(0, photo.width - size), top: rng.int(0, photo.height - size), width: size, height: size };
    const img = crop(photo, box);
    if (!requireSharp || sharpness(img, test).sharp) return { image: img, box };
  }
  return null;
}

/**
 * Blur labels need a sharp source (a blurred smooth crop is not blurrier than the crop itself); the
 * other labels, and clean, also learn from smooth crops some of the time, so that sky or bokeh is
 * not taken for blur.
 */
export function needsSharpSource(labels: readonly string[], rng: Rng): boolean {
  if (labels.includes('defocus_blur') || labels.includes('motion_blur')) return true;
  return !rng.bool(ANY_CROP_PROB);
}

/**
 * The clean input of a sample: a sharp crop of the planned photo at a random scale level; if that
 * photo has none (clouds, fog, bokeh), other photos of the same split; else dead leaves. A photo
 * the dataset lists as partly blurred (`cfg.partlyBlurred`: shallow depth of field, intentional
 * motion blur) gives only crops that pass the strict test, whatever the labels: its bokeh would
 * otherwise be labelled sharp. A photo with problems of its own (`cfg.ownProblems`: grain, fog,
 * JPEG artefacts, softness) serves only samples labelled with all of them; the others move on as
 * from a photo without a sharp crop.
 */
export async function cleanSource(job: Job, cfg: SynthConfig, cache: PhotoCache, rng: Rng): Promise<CleanSource> {
  if (job.photo && cfg.photosDir) {
    const splits = splitsOf(cfg);
    // A photo with problems of its own serves only samples labelled with all of them.
    const serves = (n: string) => servesLabels(cfg.ownProblems?.[n], job.labels);
    const pool = cfg.photos.filter((p) => splits.get(p.name) === job.split && serves(p.name));
    let name: string | undefined = serves(job.photo) ? job.photo : pool.length ? rng.choice(pool).name : undefined;
    const requireSharp = needsSharpSource(job.labels, rng);
    for (let attempt = 0; name !== undefined && attempt < PHOTO_TRIES; attempt++) {
      const info = cfg.photos.find((p) => p.name === name)!;
      const minScale = cfg.size / Math.min(info.width, info.height);
      const scale = Math.min(1, Math.max(minScale, rng.choice(cfg.photoScales ?? PHOTO_SCALES)));
      const photo = await cache.get(path.join(cfg.photosDir, name), scale);
      const strict = cfg.partlyBlurred?.includes(name) ?? false;
      const got = sharpCrop(photo, cfg.size, rng, CROP_TRIES, requireSharp || strict, strict ? STRICT_SHARPNESS : {});
      if (got) {
        // Crop box in full-resolution photo pixels.
        const f = info.width / photo.width;
        const box = { left: Math.round(got.box.left * f), top: Math.round(got.box.top * f), width: Math.round(cfg.size * f), height: Math.round(cfg.size * f) };
        return { image: got.image, source: { kind: 'photo', photo: name, crop: box, scale: r4(1 / f), ...(name !== job.photo ? { rejectedPhoto: job.photo } : {}) } };
      }
      name = pool.length ? rng.choice(pool).name : undefined;
    }
    const seed = rng.nextU32();
    return { image: deadLeaves(seed, { size: cfg.size }), source: { kind: 'dead-leaves', seed, rejectedPhoto: job.photo } };
  }
  const seed = rng.nextU32();
  return { image: deadLeaves(seed, { size: cfg.size }), source: { kind: 'dead-leaves', seed } };
}

let splitCache: { cfg: SynthConfig; splits: Map<string, Split> } | null = null;
function splitsOf(cfg: SynthConfig): Map<string, Split> {
  if (splitCache?.cfg !== cfg) splitCache = { cfg, splits: photoSplits(cfg) };
  return splitCache.splits;
}

/** Renders and writes one sample; returns its manifest entry. */
export async function renderJob(job: Job, cfg: SynthConfig, outDir: string, cache: PhotoCache): Promise<ManifestEntry> {
  const rng = new Rng(job.seed);
  const src = await cleanSource(job, cfg, cache, rng.fork('source'));
  const fin = planFinish(job.labels, rng.fork('finish'), cfg);
  // The coarse grain or the in-camera processing, when drawn, also shapes the noise label's noise (same camera).
  const labelNoise = fin.isp ? { model: 'isp' as const, isp: fin.isp } : fin.noiseGrain !== null ? { grain: fin.noiseGrain } : null;
  const recipe = job.labels.filter((l) => l !== 'clean').map((l) => ({
    name: l as DegradationName,
    severity: job.severities[l as DegradationName]!,
    ...(l === 'noise' && labelNoise ? { params: labelNoise } : {}),
    ...(l === 'rain' && fin.rainShutter !== null ? { params: { shutter: fin.rainShutter } } : {}),
  }));
  const finish: CameraFinish = {};
  let source = src.image;
  if (fin.softSigma !== null) {
    source = applyFinishSoftness(source, fin.softSigma);
    finish.softSigma = fin.softSigma;
  }
  const degraded = await degradeWithSensorFinish(source, recipe, fin.noise, rng.fork('degrade'), rng.fork('finish-noise'));
  const { applied } = degraded;
  if (fin.noise) finish.noiseSigma = Number(fin.noise.sigma.toPrecision(4));
  if (fin.noise?.grain) finish.noiseGrain = fin.noise.grain;
  if (fin.noise?.isp) finish.noiseIsp = fin.noise.isp;
  let image = degraded.image;
  if (fin.jpegQuality !== null) {
    image = await applyFinishJpeg(image, fin.jpegQuality);
    finish.jpegQuality = fin.jpegQuality;
  } else if (fin.codec) {
    image = await applyFinishCodec(image, fin.codec.codec, fin.codec.quality);
    finish.codec = fin.codec.codec;
    finish.codecQuality = fin.codec.quality;
  }
  if (fin.gifDither !== null) {
    image = await applyFinishGif(image, fin.gifDither);
    finish.gifDither = fin.gifDither;
  }
  await writeFileAtomic(path.join(outDir, job.file), await encodePng(image));
  return {
    id: job.id,
    file: job.file,
    split: job.split,
    labels: applied.length ? applied.map((a) => a.name) : ['clean'],
    severities: Object.fromEntries(applied.map((a) => [a.name, a.severity])),
    params: Object.fromEntries(applied.map((a) => [a.name, a.params])),
    source: src.source,
    seed: job.seed,
    ...(Object.keys(finish).length ? { finish } : {}),
  };
}
