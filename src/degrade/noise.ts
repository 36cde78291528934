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
 * models a noise std at mid grey of about the same size. Caveat: no demosaicing, so the noise is
 * spatially white (real camera noise is slightly correlated).
 */
import { srgbToLinearValue, linearToSrgbValue, withData, type ImageF32 } from '../image/tensor.js';
import { defineSync, withOverrides } from './define.js';
import type { Rng } from './rng.js';
import { gerp, r4, type DegradationDef } from './types.js';

export type NoiseModel = 'gaussian' | 'poisson_gaussian' | 'camera';

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
}

/** Slope of the sRGB curve at linear mid grey (0.214): noise std in sRGB ~ 1.08 x linear std. */
const MID_GREY_LIN = 0.214;
const SRGB_SLOPE_MID = 1.08;

export const noiseDef: DegradationDef<NoiseParams> = {
  name: 'noise',
  summary: 'Gaussian, Poisson-Gaussian (Foi 2008) or camera-like (Brooks 2019) noise',
  sample(severity, rng, _img, overrides) {
    // Always draw the model so overriding it keeps the rest of the random stream in step.
    const drawn = rng.choice<NoiseModel>(['gaussian', 'poisson_gaussian', 'camera']);
    const model = overrides?.model ?? drawn;
    const sigma = gerp(4 / 255, 50 / 255, severity) * rng.uniform(0.9, 1.1);
    const sigLin = sigma / SRGB_SLOPE_MID;
    let shot = 0;
    let read = 0;
    const gains: [number, number, number] = [1, 1, 1];
    if (model === 'poisson_gaussian') {
      const f = rng.uniform(0.6, 0.95); // share of the variance at mid grey that is shot noise
      shot = (f * sigLin * sigLin) / MID_GREY_LIN;
      read = (1 - f) * sigLin * sigLin;
    } else if (model === 'camera') {
      gains[0] = r4(rng.uniform(1.9, 2.4));
      gains[2] = r4(rng.uniform(1.5, 1.9));
      // Solve shot * y + read(shot) = sigLin^2 at mid grey for shot, read from Brooks' log-linear fit.
      const jitter = 0.26 * rng.normal();
      let lo = 1e-7;
      let hi = 1;
      for (let i = 0; i < 60; i++) {
        const mid = Math.sqrt(lo * hi);
        const v = mid * MID_GREY_LIN + Math.exp(2.18 * Math.log(mid) + 1.2 + jitter);
        if (v > sigLin * sigLin) hi = mid;
        else lo = mid;
      }
      shot = lo;
      read = Math.exp(2.18 * Math.log(shot) + 1.2 + jitter);
    }
    return withOverrides('noise', { model, sigma: r4e(sigma), shot: r4e(shot), read: r4e(read), gains }, overrides);
  },
  phases: [{ stage: 'sensor', run: (img, p, rng) => applyNoise(img, p, rng) }],
};

/** Rounds to 4 significant digits (small variances need relative, not absolute, rounding). */
function r4e(v: number): number {
  return v === 0 ? 0 : Number(v.toPrecision(4));
}

export function applyNoise(img: ImageF32, p: NoiseParams, rng: Rng): ImageF32 {
  const src = img.data;
  const out = new Float32Array(src.length);
  if (p.model === 'gaussian') {
    for (let i = 0; i < src.length; i++) out[i] = clip(src[i]! + p.sigma * rng.normal());
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
  return withData(img, out);
}

/** One sample of z = a Poisson(y/a) + N(0, b) (exact Poisson for small counts). */
export function signalDependent(y: number, a: number, b: number, rng: Rng): number {
  let z = y;
  if (a > 0 && y > 0) z = a * rng.poisson(y / a);
  if (b > 0) z += Math.sqrt(b) * rng.normal();
  return z;
}

function clip(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Noise (pure, seeded): `(img, severity, rng, params?) => { image, params }`. */
export const noise = defineSync(noiseDef);
