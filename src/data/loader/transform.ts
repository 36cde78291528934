/**
 * Per-sample image pipeline run in loader workers: decode with sharp (image/io.ts openImagePipeline: format by content, EXIF orientation applied),
 * crop (random-resized, random at native scale, or center), optional horizontal flip, and
 * normalisation to a CHW float tensor.
 *
 * For quality inspection use 'crop' (native scale): resizing would change how strong blur, noise
 * and JPEG artifacts look.
 */
import sharp from 'sharp';
import { DECODE_TIMEOUT_SECONDS, DEFAULT_MAX_PIXELS, openImagePipeline } from '../../image/io.js';
import { mulberry32 } from '../../util/rng.js';

export interface TransformSpec {
  /** Output side in pixels. */
  size: number;
  /** 'resized-crop' (Inception-style, scale/ratio jitter), 'crop' (random crop at native scale), 'center'. */
  mode: 'resized-crop' | 'crop' | 'center';
  /** Area fraction range for 'resized-crop' (default [0.08, 1]). */
  scale?: [number, number];
  /** Horizontal flip with probability 0.5. */
  flip: boolean;
  /** Per-channel mean and std (default ImageNet). */
  mean?: [number, number, number];
  std?: [number, number, number];
  /** Pixel limit before refusing a file (default 100 MP). */
  maxPixels?: number;
  /** Robustness evaluation: rotate the final crop by this many degrees (0, 90, 180, 270). */
  rotate?: 0 | 90 | 180 | 270;
  /** Robustness evaluation: flip the final crop upside down. */
  upsideDown?: boolean;
}

export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

/** Small deterministic PRNG for per-sample augmentation (seeded by the loader). */
export function sampleRng(seed: number): () => number {
  return mulberry32(seed >>> 0 || 1);
}

/** Decodes and transforms one file into out[offset .. offset + 3*size*size). */
export async function loadSample(file: string | Buffer, spec: TransformSpec, seed: number, out: Float32Array, offset: number): Promise<void> {
  const rnd = sampleRng(seed);
  const S = spec.size;
  // The one way in for image files (image/io.ts): format by content (BMP through our decoder; SVG,
  // pipes and devices refused), EXIF orientation, first frame. failOn 'error': training folders
  // of camera photos often carry benign libjpeg warnings (trailing bytes); the inspector, which
  // scores user photos, is the strict one.
  const { img: base, width: W, height: H } = await openImagePipeline(file, { maxPixels: spec.maxPixels ?? DEFAULT_MAX_PIXELS, failOn: 'error' });
  let pipeline = base;
  if (spec.mode === 'resized-crop') {
    const [lo, hi] = spec.scale ?? [0.08, 1];
    let box = { left: 0, top: 0, width: W, height: H };
    for (let attempt = 0; attempt < 10; attempt++) {
      const area = W * H * (lo + (hi - lo) * rnd());
      const logR = Math.log(3 / 4) + (Math.log(4 / 3) - Math.log(3 / 4)) * rnd();
      const ratio = Math.exp(logR);
      const w = Math.round(Math.sqrt(area * ratio));
      const h = Math.round(Math.sqrt(area / ratio));
      if (w > 0 && h > 0 && w <= W && h <= H) {
        box = { left: Math.floor(rnd() * (W - w + 1)), top: Math.floor(rnd() * (H - h + 1)), width: w, height: h };
        break;
      }
    }
    pipeline = pipeline.extract(box).resize(S, S, { fit: 'fill' });
  } else {
    // Native scale: upscale only if the image is smaller than the crop.
    let w = W;
    let h = H;
    if (W < S || H < S) {
      const f = S / Math.min(W, H);
      w = Math.max(S, Math.round(W * f));
      h = Math.max(S, Math.round(H * f));
      pipeline = sharp(await pipeline.resize(w, h, { fit: 'fill' }).timeout({ seconds: DECODE_TIMEOUT_SECONDS }).toBuffer());
    }
    const left = spec.mode === 'crop' ? Math.floor(rnd() * (w - S + 1)) : Math.floor((w - S) / 2);
    const top = spec.mode === 'crop' ? Math.floor(rnd() * (h - S + 1)) : Math.floor((h - S) / 2);
    pipeline = pipeline.extract({ left, top, width: S, height: S });
  }
  if (spec.flip && rnd() < 0.5) pipeline = pipeline.flop();
  if (spec.rotate || spec.upsideDown) {
    // Materialise the crop first so the rotation applies to it (sharp orders rotate before extract).
    let t = sharp(await pipeline.png().toBuffer());
    if (spec.rotate) t = t.rotate(spec.rotate);
    if (spec.upsideDown) t = t.flip();
    pipeline = t;
  }
  // Transparency composited onto white (image/io.ts readImage's contract, as the synthesizer's images).
  const { data, info } = await pipeline.flatten({ background: '#ffffff' }).toColourspace('srgb').timeout({ seconds: DECODE_TIMEOUT_SECONDS }).raw().toBuffer({ resolveWithObject: true });
  const mean = spec.mean ?? IMAGENET_MEAN;
  const std = spec.std ?? IMAGENET_STD;
  const ch = info.channels;
  const plane = S * S;
  for (let c = 0; c < 3; c++) {
    const src = ch === 1 ? 0 : c;
    const m = mean[c]!;
    const inv = 1 / (255 * std[c]!);
    const o = offset + c * plane;
    for (let i = 0; i < plane; i++) out[o + i] = (data[i * ch + src]! - 255 * m) * inv;
  }
}
