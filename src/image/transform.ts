/**
 * Geometric transforms on ImageF32 (synchronous, pure JS): crop, pad and resize.
 *
 * `resize` is a separable resampler with a triangle (bilinear) filter whose support widens by the
 * downscale factor, i.e. antialiased like PIL's `Image.resize(..., BILINEAR)`; upscaling is plain
 * bilinear interpolation with pixel centres aligned (half-pixel convention).
 */
import { invalidArg } from '../util/errors.js';
import { checkImage, createImage, type ImageF32 } from './tensor.js';

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Copies the region `box` (must lie inside the image). */
export function crop(img: ImageF32, box: Box): ImageF32 {
  checkImage('crop', img);
  const { left, top, width, height } = box;
  if (!Number.isInteger(left) || !Number.isInteger(top) || !Number.isInteger(width) || !Number.isInteger(height) || left < 0 || top < 0 || width < 1 || height < 1 || left + width > img.width || top + height > img.height) {
    invalidArg('crop', 'box', `integer box inside ${img.width}x${img.height}`, `${JSON.stringify(box)}`);
  }
  const out = createImage(img.channels, height, width);
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < height; y++) {
      const s = c * img.height * img.width + (top + y) * img.width + left;
      out.data.set(img.data.subarray(s, s + width), c * height * width + y * width);
    }
  }
  return out;
}

export type PadMode = 'constant' | 'edge' | 'reflect';

/** Pads by the given margins. 'reflect' mirrors without repeating the edge pixel (numpy 'reflect'). */
export function pad(img: ImageF32, margins: { top?: number; bottom?: number; left?: number; right?: number }, mode: PadMode = 'constant', value = 0): ImageF32 {
  checkImage('pad', img);
  if (!(['constant', 'edge', 'reflect'] as const).includes(mode)) invalidArg('pad', 'mode', 'constant, edge or reflect', mode);
  const t = margins.top ?? 0;
  const b = margins.bottom ?? 0;
  const l = margins.left ?? 0;
  const r = margins.right ?? 0;
  for (const [k, v] of Object.entries({ top: t, bottom: b, left: l, right: r })) {
    if (!Number.isInteger(v) || v < 0) invalidArg('pad', k, 'integer >= 0', v);
  }
  const W = img.width;
  const H = img.height;
  if (mode === 'reflect' && (t >= H || b >= H || l >= W || r >= W) && (W > 1 || H > 1)) {
    invalidArg('pad', 'margins', `reflect margins smaller than the image (${W}x${H})`, JSON.stringify(margins));
  }
  const OW = W + l + r;
  const OH = H + t + b;
  const out = createImage(img.channels, OH, OW);
  const idx = (i: number, n: number): number => {
    if (mode === 'edge' || n === 1) return i < 0 ? 0 : i >= n ? n - 1 : i;
    // reflect
    const period = 2 * (n - 1);
    let m = ((i % period) + period) % period;
    if (m >= n) m = period - m;
    return m;
  };
  for (let c = 0; c < img.channels; c++) {
    const src = img.data.subarray(c * H * W, (c + 1) * H * W);
    const dst = out.data.subarray(c * OH * OW, (c + 1) * OH * OW);
    for (let y = 0; y < OH; y++) {
      const sy = y - t;
      for (let x = 0; x < OW; x++) {
        const sx = x - l;
        if (sy >= 0 && sy < H && sx >= 0 && sx < W) dst[y * OW + x] = src[sy * W + sx]!;
        else if (mode === 'constant') dst[y * OW + x] = value;
        else dst[y * OW + x] = src[idx(sy, H) * W + idx(sx, W)]!;
      }
    }
  }
  return out;
}

/** Per-output-sample contributions of a 1-D resampling: start index and weights. */
function weights1d(inSize: number, outSize: number): { start: Int32Array; taps: number; w: Float32Array } {
  const scale = inSize / outSize;
  const support = scale > 1 ? scale : 1; // triangle half-width in input pixels
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const w = new Float32Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale - 0.5;
    const s = Math.floor(center - support) + 1;
    start[o] = s;
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const i = s + k;
      const d = Math.abs(i - center) / support;
      const v = d < 1 && i >= 0 && i < inSize ? 1 - d : 0;
      w[o * taps + k] = v;
      sum += v;
    }
    if (sum === 0) {
      // Can only happen at the borders when upscaling: nearest pixel.
      const i = Math.min(inSize - 1, Math.max(0, Math.round(center)));
      w[o * taps + (i - s >= 0 && i - s < taps ? i - s : 0)] = 1;
      if (i - s < 0 || i - s >= taps) start[o] = i;
      sum = 1;
    }
    for (let k = 0; k < taps; k++) w[o * taps + k]! /= sum;
  }
  return { start, taps, w };
}

/** Resizes to width x height with an antialiased triangle filter (separable). */
export function resize(img: ImageF32, width: number, height: number): ImageF32 {
  checkImage('resize', img);
  if (!Number.isInteger(width) || width < 1) invalidArg('resize', 'width', 'integer >= 1', width);
  if (!Number.isInteger(height) || height < 1) invalidArg('resize', 'height', 'integer >= 1', height);
  const W = img.width;
  const H = img.height;
  const hx = weights1d(W, width);
  const hy = weights1d(H, height);
  const out = createImage(img.channels, height, width);
  const tmp = new Float32Array(H * width);
  for (let c = 0; c < img.channels; c++) {
    const src = img.data.subarray(c * H * W, (c + 1) * H * W);
    // Horizontal pass: [H, W] -> [H, width]
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < width; x++) {
        let acc = 0;
        const s = hx.start[x]!;
        for (let k = 0; k < hx.taps; k++) {
          const i = s + k;
          if (i >= 0 && i < W) acc += hx.w[x * hx.taps + k]! * src[y * W + i]!;
        }
        tmp[y * width + x] = acc;
      }
    }
    // Vertical pass: [H, width] -> [height, width]
    const dst = out.data.subarray(c * height * width, (c + 1) * height * width);
    for (let y = 0; y < height; y++) {
      const s = hy.start[y]!;
      for (let k = 0; k < hy.taps; k++) {
        const i = s + k;
        const wk = hy.w[y * hy.taps + k]!;
        if (i < 0 || i >= H || wk === 0) continue;
        for (let x = 0; x < width; x++) dst[y * width + x]! += wk * tmp[i * width + x]!;
      }
    }
  }
  return out;
}
