/**
 * Defocus blur: convolution with a uniform disk (pillbox) PSF, the geometric-optics image of an
 * out-of-focus point through a circular aperture (circle of confusion). Computed in linear light,
 * so bright highlights spread into bokeh discs as in real photographs.
 *
 * Severity -> disk radius 2 .. 12 px (below ~2 px the blur is hard to tell from a sharp photo,
 * so the clean-source sharpness test and the label would disagree). With `varying`, the radius follows a synthetic depth map
 * (see depth.ts): r(x) = radius * (minFraction + (1 - minFraction) * |d(x) - focus| / max|d - focus|),
 * rendered by blurring at a few radii and interpolating per pixel (layered approximation; caveat:
 * no occlusion handling at depth edges).
 */
import { toLinear, toSrgb, type ImageF32 } from '../image/tensor.js';
import { depthMap, sampleDepthParams, type DepthParams } from './depth.js';
import { defineSync, withOverrides } from './define.js';
import { convolve, diskKernel } from './kernels.js';
import { lerp, r4, type DegradationDef } from './types.js';

export interface DefocusParams {
  /** Largest disk radius in px. */
  radius: number;
  /** Whether the radius varies over the image with a depth map. */
  varying: boolean;
  /** Depth map parameters (used when varying). */
  depth: DepthParams;
  /** Depth in focus, 0..1 (used when varying). */
  focus: number;
  /** Smallest radius as a fraction of `radius` (used when varying). */
  minFraction: number;
}

export const defocusDef: DegradationDef<DefocusParams> = {
  name: 'defocus_blur',
  summary: 'disk (pillbox) PSF, radius 2-12 px, optionally varying with depth',
  sample(severity, rng, _img, overrides) {
    return withOverrides('defocus_blur', {
      radius: r4(lerp(2, 12, severity) * rng.uniform(0.9, 1.1)),
      varying: rng.bool(0.4),
      depth: sampleDepthParams(rng),
      focus: r4(rng.uniform(0, 1)),
      minFraction: r4(rng.uniform(0.3, 0.6)),
    }, overrides);
  },
  phases: [{ stage: 'optics', run: (img, p) => applyDefocus(img, p) }],
};

export function applyDefocus(img: ImageF32, p: DefocusParams): ImageF32 {
  const lin = toLinear(img);
  const radius = Math.max(0.5, p.radius);
  if (!p.varying) return toSrgb(convolve(lin, diskKernel(radius)));
  const H = img.height;
  const W = img.width;
  const d = depthMap(H, W, p.depth);
  let maxDist = 1e-6;
  for (let i = 0; i < d.length; i++) maxDist = Math.max(maxDist, Math.abs(d[i]! - p.focus));
  const rMin = Math.max(0.5, radius * p.minFraction);
  const levels = radius - rMin < 1 ? 1 : radius - rMin < 4 ? 3 : 4;
  const radii = Array.from({ length: levels }, (_, i) => (levels === 1 ? radius : rMin + ((radius - rMin) * i) / (levels - 1)));
  const blurred = radii.map((r) => convolve(lin, diskKernel(r)));
  const out = blurred[0]!;
  const plane = H * W;
  for (let i = 0; i < plane; i++) {
    const r = rMin + (radius - rMin) * (Math.abs(d[i]! - p.focus) / maxDist);
    let j = 0;
    while (j < levels - 2 && radii[j + 1]! < r) j++;
    const a = levels === 1 ? 0 : Math.min(1, Math.max(0, (r - radii[j]!) / (radii[j + 1]! - radii[j]!)));
    for (let c = 0; c < img.channels; c++) {
      const k = c * plane + i;
      out.data[k] = levels === 1 ? blurred[0]!.data[k]! : (1 - a) * blurred[j]!.data[k]! + a * blurred[j + 1]!.data[k]!;
    }
  }
  return toSrgb(out);
}

/** Defocus blur (pure, seeded): `(img, severity, rng, params?) => { image, params }`. */
export const defocusBlur = defineSync(defocusDef);
