/**
 * Low light: fewer photons reach the sensor, so the image is dark and its noise is relatively
 * strong. Two phases, at their physical stages:
 *
 * 1. scene (exposure): in linear light y = exposure * x^gamma' where gamma' = gamma applied to
 *    the normalised signal (the darkening model of Lv et al., "Attention guided low-light image
 *    enhancement", IJCV 2021: I = beta (alpha x)^gamma; exposure plays alpha^gamma * beta).
 * 2. sensor (noise): photon shot noise and read noise at the reduced exposure, in linear light:
 *    z = Poisson(y * photons) / photons + N(0, read^2), where `photons` is the photo-electron count
 *    of a full-white pixel at normal exposure (Poisson-Gaussian model, Foi et al. 2008).
 *
 * Severity -> exposure 0.35 .. 0.03, photons 3000 .. 300. The image stays dark (no ISP brightening).
 */
import { linearToSrgbValue, srgbToLinearValue, withData, type ImageF32 } from '../image/tensor.js';
import { defineSync, withOverrides } from './define.js';
import type { Rng } from './rng.js';
import { gerp, needParam, r4, type DegradationDef } from './types.js';

export interface LowLightParams {
  /** Linear-light gain, < 1. */
  exposure: number;
  /** Extra tone gamma on the linear signal (>= 1 crushes shadows). */
  gamma: number;
  /** Photo-electrons of a white pixel at normal exposure. */
  photons: number;
  /** Read-noise std in linear units. */
  read: number;
}

export const lowLightDef: DegradationDef<LowLightParams> = {
  name: 'low_light',
  summary: 'exposure reduction and gamma (Lv et al. 2021) with the shot/read noise that comes with it',
  sample(severity, rng, _img, overrides) {
    return withOverrides('low_light', {
      exposure: r4(gerp(0.35, 0.03, severity) * rng.uniform(0.85, 1.15)),
      gamma: r4(rng.uniform(1, 1.5)),
      photons: Math.round(gerp(3000, 300, severity) * rng.uniform(0.8, 1.25)),
      read: r4(rng.uniform(0.0005, 0.003)),
    }, overrides);
  },
  check(p) {
    needParam(p.exposure > 0 && p.exposure <= 1, 'low_light', 'exposure', 'a number in (0, 1]', p.exposure);
    needParam(p.gamma > 0, 'low_light', 'gamma', 'a number > 0', p.gamma);
    needParam(p.photons > 0, 'low_light', 'photons', 'a number > 0', p.photons);
    needParam(p.read >= 0, 'low_light', 'read', 'a number >= 0', p.read);
  },
  phases: [
    { stage: 'scene', run: (img, p) => lowLightExposure(img, p) },
    { stage: 'sensor', run: (img, p, rng) => lowLightNoise(img, p, rng) },
  ],
};

/** Phase 1: darken in linear light (kept unquantised float). */
export function lowLightExposure(img: ImageF32, p: LowLightParams): ImageF32 {
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const y = p.exposure * Math.pow(srgbToLinearValue(img.data[i]!), p.gamma);
    out[i] = linearToSrgbValue(y);
  }
  return withData(img, out);
}

/** Phase 2: shot + read noise of the dark signal. */
export function lowLightNoise(img: ImageF32, p: LowLightParams, rng: Rng): ImageF32 {
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const y = srgbToLinearValue(img.data[i]!);
    let z = y > 0 ? rng.poisson(y * p.photons) / p.photons : 0;
    z += p.read * rng.normal();
    out[i] = z <= 0 ? 0 : z >= 1 ? 1 : linearToSrgbValue(z);
  }
  return withData(img, out);
}

/** Low light (pure, seeded): `(img, severity, rng, params?) => { image, params }`. */
export const lowLight = defineSync(lowLightDef);
