/**
 * Sensor noise as a camera's own image processor leaves it (the noise model 'isp', noise.ts):
 *
 * 1. Raw-like values: the sRGB image in linear light divided by the white-balance gains (the
 *    unprocessing of Brooks et al., "Unprocessing Images for Learned Raw Denoising", CVPR 2019).
 * 2. A Bayer colour filter array (RGGB): each pixel is one CFA site and gets the camera model's
 *    shot/read noise for its own colour only, Var = shot * y + read (Foi et al., IEEE TIP 2008).
 * 3. Colour-difference demosaicing of that noise mosaic: green bilinearly from its nearest sites,
 *    then red and blue as green plus the bilinearly interpolated differences R - G and B - G at
 *    their own sites. Neighbouring pixels share noise, and red and blue share green's (the
 *    cross-channel, spatially correlated noise of in-camera sRGB output that Nam et al., "A
 *    Holistic Approach to Cross-Channel Image Noise Modeling", CVPR 2016, measure).
 * 4. Back through the gains and the sRGB curve, then in-camera processing of the noise residual in
 *    a luma / colour-difference space: chroma noise reduction (Gaussian of `chroma` px on the two
 *    colour differences, which leaves the colour blotches of high-ISO JPEGs), optional luma noise
 *    reduction (Gaussian of `luma` px) and sharpening of luma (unsharp mask, amount `sharpen`,
 *    sigma 1 px), which turns the luma noise into crisp fine grain.
 * 5. The processed residual is rescaled so that its luma RMS equals the luma RMS that the per-site
 *    noise of step 2 would have with independent channels (the camera model's, noise.ts): the
 *    severity keeps its meaning and the visible (luma) noise its strength, while the chroma noise
 *    reduction leaves less colour noise than the camera model has.
 *
 * Applied to the noise only (demosaicing is linear, so demosaicing the noisy mosaic and subtracting
 * the demosaiced clean mosaic is the demosaiced noise), so the image content is not softened.
 * Needs an RGB image.
 */
import { srgbToLinearValue, linearToSrgbValue, withData, type ImageF32 } from '../image/tensor.js';
import { invalidArg } from '../util/errors.js';
import { convolve, gaussianKernel1d, convolveSeparable, type Kernel } from './kernels.js';
import type { Rng } from './rng.js';
import { clampUnit } from './types.js';

/** In-camera processing of the noise residual (px and amounts; see the module doc). */
export interface IspProcessing {
  /** Gaussian sigma (px) of the chroma noise reduction, > 0. */
  chroma: number;
  /** Gaussian sigma (px) of the luma noise reduction; 0 = none. */
  luma: number;
  /** Unsharp-mask amount on the luma residual (sigma 1 px); 0 = none. */
  sharpen: number;
}

/** Ranges the synthesizer draws from. */
export const ISP_CHROMA_SIGMA: [number, number] = [0.8, 2.5];
export const ISP_LUMA_SIGMA: [number, number] = [0, 0.7];
export const ISP_SHARPEN: [number, number] = [0, 1];

/** Bilinear interpolation kernels: green from its 4 neighbours, red/blue (differences) from 2 or 4 (weights sum to 1 over present sites). */
const GREEN: Kernel = { size: 3, data: Float32Array.from([0, 1, 0, 1, 4, 1, 0, 1, 0], (v) => v / 4) };
const RED_BLUE: Kernel = { size: 3, data: Float32Array.from([1, 2, 1, 2, 4, 2, 1, 2, 1], (v) => v / 4) };

/** Rec. 601 luma weights. */
const LUMA = [0.299, 0.587, 0.114] as const;

/** Colour (0 R, 1 G, 2 B) of the RGGB site at (y, x). */
export function bayerColour(y: number, x: number): 0 | 1 | 2 {
  return y % 2 === 0 ? (x % 2 === 0 ? 0 : 1) : x % 2 === 0 ? 1 : 2;
}

export interface IspNoiseParams {
  shot: number;
  read: number;
  gains: [number, number, number];
  isp: IspProcessing;
}

const ISP_KEYS = ['chroma', 'luma', 'sharpen'] as const;

/** Checks the processing parameters (exactly the three keys, finite numbers in range); `where` names the degradation in the error. */
export function checkIsp(where: string, isp: unknown): asserts isp is IspProcessing {
  const p = isp as Record<string, unknown> | null | undefined;
  const num = (k: string) => (typeof p?.[k] === 'number' && Number.isFinite(p[k]) ? (p[k] as number) : NaN);
  const ok = !!p && typeof p === 'object' && !Array.isArray(p)
    && Object.keys(p).every((k) => (ISP_KEYS as readonly string[]).includes(k))
    && num('chroma') > 0 && num('chroma') <= 8 && num('luma') >= 0 && num('luma') <= 4 && num('sharpen') >= 0 && num('sharpen') <= 3;
  if (!ok) invalidArg(where, 'params.isp', '{ chroma: (0, 8] px, luma: [0, 4] px, sharpen: [0, 3] } (finite numbers, no other keys)', isp);
}

/**
 * Adds in-camera processed noise to an RGB image (steps 1-5 of the module doc). `signalDependent`
 * draws one shot/read sample (noise.ts passes its own, so the two models share it without an
 * import cycle).
 */
export function applyIspNoise(img: ImageF32, p: IspNoiseParams, rng: Rng, signalDependent: (y: number, a: number, b: number, rng: Rng) => number): ImageF32 {
  if (img.channels !== 3) invalidArg('noise', 'image channels', '3 (the isp model simulates an RGB colour filter array)', img.channels);
  const { height: H, width: W } = img;
  const plane = H * W;
  const src = img.data;
  // 2. one noise sample per CFA site, in raw units; its sRGB size is accumulated for step 5.
  const mosaic = new Float32Array(3 * plane); // [3, H, W], zero where a channel has no site
  const siteSq = [0, 0, 0];
  const sites = [0, 0, 0];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const c = bayerColour(y, x);
      const i = c * plane + y * W + x;
      const g = p.gains[c];
      const lin = srgbToLinearValue(src[i]!);
      const raw = lin / g;
      const n = signalDependent(raw, p.shot, p.read, rng) - raw;
      mosaic[i] = n;
      const z = lin + n * g;
      siteSq[c] += (encodeClipped(z) - src[i]!) ** 2;
      sites[c]++;
    }
  }
  // Luma RMS of independent channel noise with the per-site variances of each colour.
  const target = Math.sqrt(LUMA.reduce((acc, w, c) => acc + w * w * (sites[c] ? siteSq[c]! / sites[c]! : 0), 0));
  // 3. colour-difference demosaicing of the noise: green, then R - G and B - G at their own sites
  const green = convolve({ channels: 1, height: H, width: W, data: mosaic.subarray(plane, 2 * plane) }, GREEN).data; // [H, W]
  const diff = new Float32Array(2 * plane); // [2, H, W]: R - G at red sites, B - G at blue sites, 0 elsewhere
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const c = bayerColour(y, x);
      const i = y * W + x;
      if (c === 0) diff[i] = mosaic[i]! - green[i]!;
      else if (c === 2) diff[plane + i] = mosaic[2 * plane + i]! - green[i]!;
    }
  }
  const diffs = convolve({ channels: 2, height: H, width: W, data: diff }, RED_BLUE).data; // [2, H, W]
  const red = new Float32Array(plane);
  const blue = new Float32Array(plane);
  for (let i = 0; i < plane; i++) {
    red[i] = green[i]! + diffs[i]!;
    blue[i] = green[i]! + diffs[plane + i]!;
  }
  // 4. residual in sRGB after the gains and the curve
  const r = new Float32Array(3 * plane);
  const dm = [red, green, blue];
  for (let c = 0; c < 3; c++) {
    const g = p.gains[c];
    for (let i = 0; i < plane; i++) {
      const lin = srgbToLinearValue(src[c * plane + i]!);
      const z = lin + dm[c]![i]! * g;
      r[c * plane + i] = encodeClipped(z) - src[c * plane + i]!;
    }
  }
  // luma / colour differences of the residual: [3, H, W] = Y, Cb = B - Y, Cr = R - Y
  const ycc = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    const Y = LUMA[0] * r[i]! + LUMA[1] * r[plane + i]! + LUMA[2] * r[2 * plane + i]!;
    ycc[i] = Y;
    ycc[plane + i] = r[2 * plane + i]! - Y;
    ycc[2 * plane + i] = r[i]! - Y;
  }
  const lumaShape = { channels: 1, height: H, width: W };
  let Y: Float32Array = ycc.subarray(0, plane);
  if (p.isp.luma > 0) Y = convolveSeparable({ ...lumaShape, data: Y }, gaussianKernel1d(p.isp.luma)).data;
  if (p.isp.sharpen > 0) {
    const soft = convolveSeparable({ ...lumaShape, data: Y }, gaussianKernel1d(1)).data;
    const sharp = new Float32Array(plane);
    for (let i = 0; i < plane; i++) sharp[i] = Y[i]! + p.isp.sharpen * (Y[i]! - soft[i]!);
    Y = sharp;
  }
  const chroma = convolveSeparable({ channels: 2, height: H, width: W, data: ycc.subarray(plane) }, gaussianKernel1d(p.isp.chroma)).data; // [2, H, W]
  // back to RGB residual, then 5. rescale to the target luma RMS
  const out = new Float32Array(3 * plane);
  let sq = 0;
  for (let i = 0; i < plane; i++) {
    const rr = Y[i]! + chroma[plane + i]!;
    const rb = Y[i]! + chroma[i]!;
    const rg = (Y[i]! - LUMA[0] * rr - LUMA[2] * rb) / LUMA[1];
    out[i] = rr;
    out[plane + i] = rg;
    out[2 * plane + i] = rb;
    sq += Y[i]! * Y[i]!;
  }
  const scale = sq > 0 ? target / Math.sqrt(sq / plane) : 0;
  for (let i = 0; i < 3 * plane; i++) out[i] = clampUnit(src[i]! + scale * out[i]!);
  return withData(img, out);
}

/** A linear-light value clipped to [0, 1], sRGB-encoded. */
function encodeClipped(z: number): number {
  return clampUnit(z <= 0 ? 0 : linearToSrgbValue(Math.min(1, z)));
}
