/**
 * Sensor noise, three models (one chosen per sample unless given):
 *
 * - 'gaussian': additive white Gaussian noise on the sRGB values, z = x + sigma * n (the AWGN of
 *   most denoising benchmarks).
 * - 'poisson_gaussian': the signal-dependent raw-data model of Foi, Trimeche, Katkovnik & Egiazarian,
 *   "Practical Poissonian-Gaussian noise modeling and fitting for single-image raw-data", IEEE TIP
 *   2008: in linear light z = a * Poisson(y / a) + N(0, b), so Var[z] = a y + b.
 * - 'camera': Brooks et al., "Unprocessing Images for Learned Raw Denoising", CVPR 2019: invert the
 *   sRGB gamma and the white-balance gains (red 1.9-2.4, blue 1.5-1.9) to reach raw-like values,
 *   add shot/read noise with Var = shot * y + read where log(read) = 2.18 log(shot) + 1.20 + N(0,
 *   0.26), then re-apply the gains (so red and blue are noisier, giving chroma noise) and gamma.
 *
 * Severity sets the noise level: sigma 4..50 /255 (gaussian), and for the two signal-dependent
 * models a noise std at mid grey of about the same size. Demosaicing and in-camera denoising make
 * real noise spatially correlated: for the two signal-dependent models the noise residual is
 * smoothed with a separable [c, 1, c] kernel (c = `correlation`, 0..0.7), rescaled to keep its
 * variance, so grains span 2-3 px as in the DND/SIDD captures.
 *
 * Optional `grain` (any model; absent unless given, so older manifests are unchanged): the
 * residual is further smoothed by a Gaussian of `grain` px, rescaled to keep its std, for the
 * blotchy low-frequency noise that in-camera denoising leaves (Nam et al. CVPR 2016 / PolyU-style
 * captures). The std at mid grey stays the label's, so grain changes the noise's texture, not its
 * strength. Set by the synthesizer (`synth --noise-grain P`).
 *
 * 'isp' (never drawn; chosen by giving `model: 'isp'`, as the synthesizer's `--isp-noise P` does):
 * the camera model's shot/read noise on a Bayer mosaic, bilinearly demosaiced and processed as in a
 * camera's own JPEG output (chroma noise reduction, optional luma noise reduction, sharpening; the
 * `isp` parameters, drawn when not given), rescaled to the camera model's strength (isp_noise.ts).
 */
import { srgbToLinearValue, linearToSrgbValue, withData, type ImageF32 } from '../image/tensor.js';
import { defineSync, withOverrides } from './define.js';
import type { Rng } from './rng.js';
import { clampUnit, gerp, needParam, r4, type DegradationDef } from './types.js';
import { convolveSeparable, gaussianKernel1d } from './kernels.js';
import { invalidArg } from '../util/errors.js';
import { applyIspNoise, checkIsp, ISP_CHROMA_SIGMA, ISP_LUMA_SIGMA, ISP_SHARPEN, type IspProcessing } from './isp_noise.js';

export type NoiseModel = 'gaussian' | 'poisson_gaussian' | 'camera' | 'isp';

export interface NoiseParams {
  model: NoiseModel;
  /** gaussian: std of the added noise on sRGB values in [0, 1]. */
  sigma: number;
  /** poisson_gaussian / camera: signal-dependent variance factor a (shot). */
  shot: number;
  /** poisson_gaussian / camera: constant variance b (read). */
  read: number;
  /** camera: white-balance gains [r, g, b] (g = 1). */
  gains: [number, number, number];
  /** Neighbour weight c of the [c, 1, c] smoothing of the noise residual (0 = white noise). */
  correlation: number;
  /** Gaussian sigma (px) of a further, std-keeping smoothing of the residual (coarse grain); absent = none. */
  grain?: number;
  /** isp: the in-camera processing of the demosaiced noise (isp_noise.ts); absent for the other models. */
  isp?: IspProcessing;
}

/** Noise std at mid grey (sRGB, 0-1 scale) at severity 0 and 1; severity maps geometrically between them. */
export const NOISE_SIGMA_RANGE: readonly [number, number] = [4 / 255, 50 / 255];

/** The severity whose (unjittered) noise std is `sigma`: the inverse of the severity -> std map, clamped to [0, 1]. */
export function noiseSeverityOf(sigma: number): number {
  const [lo, hi] = NOISE_SIGMA_RANGE;
  return Math.min(1, Math.max(0, Math.log(sigma / lo) / Math.log(hi / lo)));
}

/** Slope of the sRGB curve at linear mid grey (0.214): noise std in sRGB ~ 1.08 x linear std. */
export const MID_GREY_LIN = 0.214;
export const SRGB_SLOPE_MID = 1.08;

export const noiseDef: DegradationDef<NoiseParams> = {
  name: 'noise',
  summary: 'Gaussian, Poisson-Gaussian (Foi 2008) or camera-like (Brooks 2019) noise',
  sample(severity, rng, _img, allOverrides) {
    // `grain` is never drawn here (the synthesizer sets it), so it is only recorded when given.
    const { grain, isp, ...overrides } = allOverrides ?? {};
    if (grain !== undefined && !(grain >= 0 && grain <= MAX_GRAIN)) invalidArg('noise', 'grain', `a number in [0, ${MAX_GRAIN}] (px)`, grain);
    // Always draw the model so overriding it keeps the rest of the random stream in step.
    const drawn = rng.choice<NoiseModel>(['gaussian', 'poisson_gaussian', 'camera']);
    const model = overrides?.model ?? drawn;
    const sigma = gerp(NOISE_SIGMA_RANGE[0], NOISE_SIGMA_RANGE[1], severity) * rng.uniform(0.9, 1.1);
    const sigLin = sigma / SRGB_SLOPE_MID;
    let shot = 0;
    let read = 0;
    const gains: [number, number, number] = [1, 1, 1];
    if (model === 'poisson_gaussian') {
      const f = rng.uniform(0.6, 0.95); // share of the variance at mid grey that is shot noise
      shot = (f * sigLin * sigLin) / MID_GREY_LIN;
      read = (1 - f) * sigLin * sigLin;
    } else if (model === 'camera' || model === 'isp') {
      gains[0] = r4(rng.uniform(1.9, 2.4));
      gains[2] = r4(rng.uniform(1.5, 1.9));
      ({ shot, read } = cameraShotRead(sigLin, 0.26 * rng.normal()));
    }
    // Drawn last so the other parameters keep their values for a given seed.
    const correlation = model === 'gaussian' ? 0 : r4e(rng.bool(0.6) ? rng.uniform(0.2, 0.7) : 0);
    const params = withOverrides('noise', { model, sigma: r4e(sigma), shot: r4e(shot), read: r4e(read), gains, correlation }, overrides);
    if (params.model === 'isp') {
      // The demosaicing correlates the noise, so no [c, 1, c] smoothing. The processing is drawn
      // last, given or not, so that a recorded line replays the same noise stream.
      if (grain) invalidArg('noise', 'grain', 'absent with the isp model (its processing shapes the noise)', grain);
      const drawn = {
        chroma: r4(rng.uniform(...ISP_CHROMA_SIGMA)),
        luma: r4(rng.bool(0.5) ? rng.uniform(...ISP_LUMA_SIGMA) : 0),
        sharpen: r4(rng.uniform(...ISP_SHARPEN)),
      };
      return { ...params, correlation: overrides.correlation ?? 0, isp: isp ?? drawn };
    }
    if (isp !== undefined) invalidArg('noise', 'isp', "absent unless model is 'isp'", isp);
    return grain ? { ...params, grain } : params;
  },
  check(p) {
    needParam(['gaussian', 'poisson_gaussian', 'camera', 'isp'].includes(p.model), 'noise', 'model', '"gaussian", "poisson_gaussian", "camera" or "isp"', p.model);
    if (p.model === 'isp') {
      checkIsp('noise', p.isp);
      needParam(!p.grain, 'noise', 'grain', 'absent with the isp model (its processing shapes the noise)', p.grain);
      needParam(p.correlation === 0, 'noise', 'correlation', '0 with the isp model (its demosaicing correlates the noise)', p.correlation);
    }
    for (const k of ['sigma', 'shot', 'read', 'correlation'] as const) needParam(p[k] >= 0, 'noise', k, 'a number >= 0', p[k]);
    needParam(Array.isArray(p.gains) && p.gains.length === 3 && p.gains.every((g) => g > 0), 'noise', 'gains', '[r, g, b] white-balance gains > 0', p.gains);
  },
  phases: [{ stage: 'sensor', run: (img, p, rng) => applyNoise(img, p, rng) }],
};

/**
 * Shot and read variance of the camera model for a linear noise std `sigLin` at mid grey: solves
 * shot * y + read(shot) = sigLin^2 (bisection in log space) with Brooks' log-linear fit
 * log(read) = 2.18 log(shot) + 1.20 + jitter.
 */
export function cameraShotRead(sigLin: number, jitter: number): { shot: number; read: number } {
  let lo = 1e-7;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = Math.sqrt(lo * hi);
    const v = mid * MID_GREY_LIN + Math.exp(2.18 * Math.log(mid) + 1.2 + jitter);
    if (v > sigLin * sigLin) hi = mid;
    else lo = mid;
  }
  return { shot: lo, read: Math.exp(2.18 * Math.log(lo) + 1.2 + jitter) };
}

/** Rounds to 4 significant digits (small variances need relative, not absolute, rounding). */
function r4e(v: number): number {
  return v === 0 ? 0 : Number(v.toPrecision(4));
}

/** Largest accepted `grain` (px). */
export const MAX_GRAIN = 4;

export function applyNoise(img: ImageF32, p: NoiseParams, rng: Rng): ImageF32 {
  if (p.model === 'isp') {
    checkIsp('noise', p.isp);
    return applyIspNoise(img, { shot: p.shot, read: p.read, gains: p.gains, isp: p.isp }, rng, signalDependent);
  }
  const noisy = applyPixelNoise(img, p, rng);
  if (p.grain) coarsenResidual(img.data, noisy.data, img, p.grain);
  return noisy;
}

function applyPixelNoise(img: ImageF32, p: NoiseParams, rng: Rng): ImageF32 {
  const src = img.data;
  const out = new Float32Array(src.length);
  if (p.model === 'gaussian') {
    for (let i = 0; i < src.length; i++) out[i] = clampUnit(src[i]! + p.sigma * rng.normal());
    return withData(img, out);
  }
  const plane = img.height * img.width;
  for (let c = 0; c < img.channels; c++) {
    const g = p.model === 'camera' ? p.gains[c] ?? 1 : 1;
    for (let i = c * plane; i < (c + 1) * plane; i++) {
      const y = srgbToLinearValue(src[i]!) / g; // raw-like value
      const z = signalDependent(y, p.shot, p.read, rng) * g;
      out[i] = z <= 0 ? 0 : z >= 1 ? 1 : linearToSrgbValue(z);
    }
  }
  if (p.correlation > 0) correlateResidual(src, out, img.channels, img.height, img.width, p.correlation);
  return withData(img, out);
}

/**
 * Replaces the noise residual r = out - src by r smoothed with the separable kernel [c, 1, c]
 * (edges replicated), scaled by 1 / (1 + 2c^2) so white noise keeps its variance. In place on `out`.
 */
export function correlateResidual(src: Float32Array, out: Float32Array, channels: number, height: number, width: number, c: number): void {
  const plane = height * width;
  const r = new Float32Array(plane);
  const t = new Float32Array(plane);
  const gain = 1 / (1 + 2 * c * c); // per-axis variance factor is (1 + 2c^2), so the 2D one is its square
  for (let ch = 0; ch < channels; ch++) {
    const o = ch * plane;
    for (let i = 0; i < plane; i++) r[i] = out[o + i]! - src[o + i]!;
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) t[row + x] = r[row + x]! + c * (r[row + Math.max(0, x - 1)]! + r[row + Math.min(width - 1, x + 1)]!);
    }
    for (let y = 0; y < height; y++) {
      const up = Math.max(0, y - 1) * width;
      const dn = Math.min(height - 1, y + 1) * width;
      const row = y * width;
      for (let x = 0; x < width; x++) out[o + row + x] = clampUnit(src[o + row + x]! + gain * (t[row + x]! + c * (t[up + x]! + t[dn + x]!)));
    }
  }
}

/**
 * Replaces the noise residual r = out - src by r blurred with a Gaussian of `sigma` px, divided by
 * the 2D kernel's root sum of squares so that white noise keeps its std. In place on `out`.
 */
export function coarsenResidual(src: Float32Array, out: Float32Array, shape: ImageF32, sigma: number): void {
  const residual = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) residual[i] = out[i]! - src[i]!;
  const k = gaussianKernel1d(sigma);
  let sq = 0;
  for (const w of k) sq += w * w; // per-axis variance factor; the 2D one is sq^2
  const smooth = convolveSeparable(withData(shape, residual), k).data;
  for (let i = 0; i < src.length; i++) out[i] = clampUnit(src[i]! + smooth[i]! / sq);
}

/** One sample of z = a Poisson(y/a) + N(0, b) (exact Poisson for small counts). */
export function signalDependent(y: number, a: number, b: number, rng: Rng): number {
  let z = y;
  if (a > 0 && y > 0) z = a * rng.poisson(y / a);
  if (b > 0) z += Math.sqrt(b) * rng.normal();
  return z;
}

/** Noise (pure, seeded): `(img, severity, rng, params?) => { image, params }`. */
export const noise = defineSync(noiseDef);
