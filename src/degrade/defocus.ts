/**
 * Defocus blur: convolution with a uniform disk (pillbox) PSF, the geometric-optics image of an
 * out-of-focus point through a circular aperture (circle of confusion). Computed in linear light,
 * so bright highlights spread into bokeh discs as in real photographs.
 *
 * Severity -> disk radius 2 .. 12 px (below ~2 px the blur is hard to tell from a sharp photo,
 * so the clean-source sharpness test and the label would disagree). With `varying`, the radius follows a synthetic depth map
 * (see depth.ts): r(x) = radius * (minFraction + (1 - minFraction) * |d(x) - focus| / max|d - focus|),
 * rendered by blurring at a few radii and interpolating per pixel (layered approximation; caveat:
 * no occlusion handling at depth edges). With `subject`, the photo has a shallow depth of field: a
 * soft-edged elliptical subject region stays sharp and everything else is blurred at `radius`
 * (the partial defocus of portrait and macro shots; the ellipse ignores image content).
 */
import { toLinear, toSrgb, type ImageF32 } from '../image/tensor.js';
import { depthMap, sampleDepthParams, type DepthParams } from './depth.js';
import { defineSync, withOverrides } from './define.js';
import { convolve, diskKernel } from './kernels.js';
import { lerp, needParam, r4, type DegradationDef } from './types.js';

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
  /** In-focus subject (shallow depth of field), or null: centre and radii as fractions of the image, feather in px. */
  subject: DefocusSubject | null;
}

export interface DefocusSubject {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  feather: number;
}

export const defocusDef: DegradationDef<DefocusParams> = {
  name: 'defocus_blur',
  summary: 'disk (pillbox) PSF, radius 2-12 px, optionally varying with depth or around a sharp subject',
  sample(severity, rng, _img, overrides) {
    const mode = rng.uniform(0, 1);
    return withOverrides('defocus_blur', {
      radius: r4(lerp(2, 12, severity) * rng.uniform(0.9, 1.1)),
      varying: mode < 0.35,
      depth: sampleDepthParams(rng),
      focus: r4(rng.uniform(0, 1)),
      minFraction: r4(rng.uniform(0.3, 0.6)),
      subject: mode >= 0.35 && mode < 0.6
        ? { cx: r4(rng.uniform(0.3, 0.7)), cy: r4(rng.uniform(0.3, 0.7)), rx: r4(rng.uniform(0.15, 0.35)), ry: r4(rng.uniform(0.15, 0.35)), feather: r4(rng.uniform(3, 12)) }
        : null,
    }, overrides);
  },
  check(p) {
    needParam(p.radius > 0, 'defocus_blur', 'radius', 'a number > 0', p.radius);
    const s = p.subject;
    needParam(s === null || (typeof s === 'object' && [s.cx, s.cy, s.rx, s.ry, s.feather].every((v) => typeof v === 'number') && s.rx > 0 && s.ry > 0), 'defocus_blur', 'subject', 'null or {cx, cy, rx, ry, feather} (rx, ry > 0)', s);
  },
  phases: [{ stage: 'optics', run: (img, p) => applyDefocus(img, p) }],
};

export function applyDefocus(img: ImageF32, p: DefocusParams): ImageF32 {
  const lin = toLinear(img);
  const radius = Math.max(0.5, p.radius);
  if (p.subject) return toSrgb(blendSubject(lin, convolve(lin, diskKernel(radius)), p.subject));
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

/** Sharp inside the soft-edged subject ellipse, `blurred` outside (both linear light). */
function blendSubject(sharp: ImageF32, blurred: ImageF32, s: DefocusSubject): ImageF32 {
  const H = sharp.height;
  const W = sharp.width;
  const plane = H * W;
  const out = blurred;
  const rx = Math.max(1, s.rx * W);
  const ry = Math.max(1, s.ry * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const dx = (x + 0.5 - s.cx * W) / rx;
      const dy = (y + 0.5 - s.cy * H) / ry;
      // Approximate distance outside the ellipse in px, then a linear ramp over `feather`.
      const outside = (Math.sqrt(dx * dx + dy * dy) - 1) * Math.min(rx, ry);
      const m = Math.min(1, Math.max(0, 0.5 - outside / Math.max(1e-6, s.feather)));
      if (m === 0) continue;
      const i = y * W + x;
      for (let c = 0; c < sharp.channels; c++) out.data[c * plane + i] = m * sharp.data[c * plane + i]! + (1 - m) * blurred.data[c * plane + i]!;
    }
  }
  return out;
}

/** Defocus blur (pure, seeded): `(img, severity, rng, params?) => { image, params }`. */
export const defocusBlur = defineSync(defocusDef);
