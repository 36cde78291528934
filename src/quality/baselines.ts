/**
 * Classic no-reference quality measures, as baselines for the learned inspector:
 * - blur: variance of the Laplacian (Pech-Pacheco et al. 2000) - low means blurry;
 * - noise: Immerkaer's fast noise-sigma estimate (1996), averaged over RGB - the Laplacian-difference mask
 *   [1 -2 1; -2 4 -2; 1 -2 1] cancels image structure; sigma = sqrt(pi/2) / (6 (W-2)(H-2)) sum |I * N|;
 * - haze: mean of the dark channel (He, Sun, Tang 2009; min over RGB and a 15x15 window) - high means hazy;
 * - low light: mean luminance (Rec. 601) - low means dark;
 * - JPEG: blockiness - mean absolute luminance step across 8x8 block boundaries relative to steps
 *   inside blocks (> 1 means visible block edges).
 * Computed on the image resized so its long side is at most 1024 px.
 */
import { invalidArg } from '../util/errors.js';
import { DECODE_TIMEOUT_SECONDS, openImagePipeline } from '../image/io.js';

/**
 * Interleaved 8-bit RGB, at most 1024 px on the longer side, opened as the inspector opens images
 * (image/io.ts `openImagePipeline`: by content, BMP through our own decoder, transparency on white).
 */
async function decodeForBaselines(input: string | Buffer): Promise<{ data: Uint8Array; info: { width: number; height: number; channels: number } }> {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) invalidArg('baselineScores', 'input', 'an image path or the bytes of an image file (Buffer)', input);
  const { img } = await openImagePipeline(typeof input === 'string' ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength), { failOn: 'error' });
  return img.resize(1024, 1024, { fit: 'inside', withoutEnlargement: true }).flatten({ background: '#ffffff' }).toColourspace('srgb').timeout({ seconds: DECODE_TIMEOUT_SECONDS }).raw().toBuffer({ resolveWithObject: true });
}

export interface BaselineScores {
  laplacianVariance: number;
  noiseSigma: number;
  darkChannel: number;
  meanLuminance: number;
  blockiness: number;
}

/** Decision rules; thresholds are calibrated on synthetic validation data (see model card). */
export interface BaselineThresholds {
  blurBelow: number;
  noiseAbove: number;
  hazeAbove: number;
  darkBelow: number;
  blockinessAbove: number;
}

export const DEFAULT_BASELINE_THRESHOLDS: BaselineThresholds = { blurBelow: 100, noiseAbove: 6, hazeAbove: 0.45, darkBelow: 0.2, blockinessAbove: 1.3 };

export async function baselineScores(input: string | Buffer): Promise<BaselineScores> {
  const { data, info } = await decodeForBaselines(input);
  const W = info.width;
  const H = info.height;
  const ch = info.channels;
  const lum = new Float32Array(W * H);
  const dark = new Float32Array(W * H);
  let lumSum = 0;
  for (let i = 0; i < W * H; i++) {
    const r = data[i * ch]!;
    const g = data[i * ch + (ch > 1 ? 1 : 0)]!;
    const b = data[i * ch + (ch > 2 ? 2 : 0)]!;
    lum[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    lumSum += lum[i]!;
    dark[i] = Math.min(r, g, b) / 255;
  }
  // Laplacian variance and Immerkaer noise.
  let lapSum = 0;
  let lapSq = 0;
  let noiseAbs = 0;
  let n = 0;
  for (let y = 1; y < H - 1; y++) {
    for (let x = 1; x < W - 1; x++) {
      const i = y * W + x;
      const c = lum[i]!;
      const up = lum[i - W]!;
      const dn = lum[i + W]!;
      const lf = lum[i - 1]!;
      const rt = lum[i + 1]!;
      const lap = up + dn + lf + rt - 4 * c;
      lapSum += lap;
      lapSq += lap * lap;
      // Immerkaer mask per colour channel (sensor noise is per channel; luminance would average it down).
      for (let k = 0; k < Math.min(3, ch); k++) {
        const at = (j: number) => data[j * ch + k]!;
        const m = at(i - W - 1) + at(i - W + 1) + at(i + W - 1) + at(i + W + 1) - 2 * (at(i - W) + at(i + W) + at(i - 1) + at(i + 1)) + 4 * at(i);
        noiseAbs += Math.abs(m) / Math.min(3, ch);
      }
      n++;
    }
  }
  const lapMean = lapSum / Math.max(1, n);
  const laplacianVariance = lapSq / Math.max(1, n) - lapMean * lapMean;
  const noiseSigma = (Math.sqrt(Math.PI / 2) / 6) * (noiseAbs / Math.max(1, n));
  // Dark channel: separable 15x15 min filter.
  const r = 7;
  const tmp = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let m = 1;
      for (let k = Math.max(0, x - r); k <= Math.min(W - 1, x + r); k++) m = Math.min(m, dark[y * W + k]!);
      tmp[y * W + x] = m;
    }
  }
  let darkSum = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let m = 1;
      for (let k = Math.max(0, y - r); k <= Math.min(H - 1, y + r); k++) m = Math.min(m, tmp[k * W + x]!);
      darkSum += m;
    }
  }
  // Blockiness: horizontal steps at x % 8 == 7|0 boundaries vs inside blocks (on the original grid).
  let edge = 0;
  let inner = 0;
  let ne = 0;
  let ni = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W - 1; x++) {
      const d = Math.abs(lum[y * W + x + 1]! - lum[y * W + x]!);
      if (x % 8 === 7) {
        edge += d;
        ne++;
      } else {
        inner += d;
        ni++;
      }
    }
  }
  const blockiness = ne && ni && inner > 0 ? edge / ne / (inner / ni) : 1;
  return { laplacianVariance, noiseSigma, darkChannel: darkSum / (W * H), meanLuminance: lumSum / (W * H) / 255, blockiness };
}

/** Which labels the classic rules flag. Blur cannot tell defocus from motion: both are flagged. */
export function baselineLabels(s: BaselineScores, t: BaselineThresholds = DEFAULT_BASELINE_THRESHOLDS): string[] {
  const out: string[] = [];
  if (s.laplacianVariance < t.blurBelow) out.push('defocus_blur', 'motion_blur');
  if (s.noiseSigma > t.noiseAbove) out.push('noise');
  if (s.darkChannel > t.hazeAbove) out.push('haze');
  if (s.meanLuminance < t.darkBelow) out.push('low_light');
  if (s.blockiness > t.blockinessAbove) out.push('jpeg');
  return out;
}
