/**
 * Haze / fog with the atmospheric scattering model (Koschmieder; McCartney 1976; used by
 * He et al.'s dark channel prior and the RESIDE benchmark):
 *
 *   I(x) = J(x) t(x) + A (1 - t(x)),   t(x) = exp(-beta d(x)),
 *
 * applied in linear light, with d a synthetic depth map (depth.ts, 0..1 scaled by `depthScale`)
 * and A the airlight (greyish white with a slight random tint). Severity -> beta 0.8 .. 3.5, so the
 * farthest point keeps 45% .. 3% of its contrast.
 */
import { srgbToLinearValue, toLinear, toSrgb, type ImageF32 } from '../image/tensor.js';
import { depthMap, sampleDepthParams, type DepthParams } from './depth.js';
import { defineSync, withOverrides } from './define.js';
import { lerp, needParam, r4, type DegradationDef } from './types.js';

export interface HazeParams {
  /** Scattering coefficient (per unit depth). */
  beta: number;
  /** Airlight in sRGB [r, g, b]. */
  airlight: [number, number, number];
  depth: DepthParams;
}

export const hazeDef: DegradationDef<HazeParams> = {
  name: 'haze',
  summary: 'atmospheric scattering I = J t + A (1 - t), t = exp(-beta d)',
  sample(severity, rng, _img, overrides) {
    const base = rng.uniform(0.75, 0.98);
    const tint = rng.uniform(-0.03, 0.04); // > 0: bluish, < 0: warm
    return withOverrides('haze', {
      beta: r4(lerp(0.8, 3.5, severity) * rng.uniform(0.9, 1.1)),
      airlight: [r4(Math.min(1, base - tint)), r4(Math.min(1, base)), r4(Math.min(1, base + tint))] as [number, number, number],
      depth: sampleDepthParams(rng),
    }, overrides);
  },
  check(p) {
    needParam(p.beta >= 0, 'haze', 'beta', 'a number >= 0', p.beta);
    needParam(Array.isArray(p.airlight) && p.airlight.length === 3 && p.airlight.every((v) => v >= 0 && v <= 1), 'haze', 'airlight', '[r, g, b] in [0, 1]', p.airlight);
  },
  phases: [{ stage: 'scene', run: (img, p) => applyHaze(img, p) }],
};

/** Transmission map t = exp(-beta d). */
export function transmission(height: number, width: number, p: HazeParams): Float32Array {
  const d = depthMap(height, width, p.depth);
  return d.map((v) => Math.exp(-p.beta * v));
}

export function applyHaze(img: ImageF32, p: HazeParams): ImageF32 {
  const lin = toLinear(img);
  const t = transmission(img.height, img.width, p);
  const plane = img.height * img.width;
  for (let c = 0; c < img.channels; c++) {
    const A = srgbToLinearValue(p.airlight[Math.min(c, 2)]!);
    for (let i = 0; i < plane; i++) {
      const k = c * plane + i;
      lin.data[k] = lin.data[k]! * t[i]! + A * (1 - t[i]!);
    }
  }
  return toSrgb(lin);
}

/** Haze (pure, seeded): `(img, severity, rng, params?) => { image, params }`. */
export const haze = defineSync(hazeDef);
