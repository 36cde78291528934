/**
 * Rain streaks, synthesised as for Rain100L/H (Yang et al., "Deep Joint Rain Detection and Removal
 * from a Single Image", CVPR 2017) and the Rain13K sets built from them: each streak layer is
 * sparse random impulses ("drops") smeared by a linear motion kernel (length = fall distance during
 * the exposure, angle = wind) and slightly blurred (drop width / defocus); layers are added,
 *
 *   O = clip(B + sum_t S_t),
 *
 * plus, for heavy rain, a light veil towards the airlight (rain accumulation, Yang et al.'s
 * O = alpha (B + S) + (1 - alpha) A). Near layers are long, wide, bright and sparse; far layers short,
 * thin, dim and dense. Rain100L has one direction, Rain100H several: we use 1 layer at low severity
 * up to 4 at high, each within +-8 degrees of a common wind angle. A per-sample style factor moves
 * from that sparse, bright look to the dense, thin, long, faint streaks of real rain photos, and a
 * light veil is always present (stronger with severity).
 *
 * Optional `shutter` (absent unless given, so older manifests are unchanged; set by the synthesizer,
 * `synth --rain-shutter P`): a fast exposure. A streak is the distance a drop falls while the shutter
 * is open (Garg & Nayar, "Vision and Rain", IJCV 2007), so every layer's length is multiplied by the
 * shutter factor (0.3-0.7 as drawn by the synthesizer; at least RAIN_MIN_LENGTH px), drops,
 * widths and brightness unchanged: the short dashes of rain photographed at short exposures.
 * Applied after every value is drawn, so the rest of the sample is the same with or without it.
 */
import { createImage, type ImageF32 } from '../image/tensor.js';
import { defineSync, withOverrides } from './define.js';
import { convolve, gaussianKernel1d, convolveSeparable, linearMotionKernel } from './kernels.js';
import { Rng } from './rng.js';
import { clampUnit, lerp, r4, type DegradationDef } from './types.js';
import { invalidArg } from '../util/errors.js';

export interface RainLayer {
  /** Drops per 10,000 pixels. */
  density: number;
  /** Streak length in px. */
  length: number;
  /** Direction in degrees (90 = vertical). */
  angle: number;
  /** Gaussian blur sigma across the streak (width) in px. */
  width: number;
  /** Peak streak intensity added to the sRGB values. */
  brightness: number;
  /** Seed of the drop positions. */
  seed: number;
}

export interface RainParams {
  layers: RainLayer[];
  /** Veil strength 0..1 (1 - alpha). */
  veil: number;
  /** Veil/streak colour (sRGB grey level). */
  tone: number;
  /** Fast-shutter factor the layers' lengths were multiplied by, when given (recorded; the lengths already carry it). */
  shutter?: number;
}

/** Shortest streak (px) a shutter factor leaves: shorter ones would be dots, which read as noise, not rain. */
export const RAIN_MIN_LENGTH = 4;
/** Range of the shutter factor the synthesizer draws (`synth --rain-shutter`). */
export const RAIN_SHUTTER_RANGE: readonly [number, number] = [0.3, 0.7];

export const rainDef: DegradationDef<RainParams> = {
  name: 'rain',
  summary: 'layered streaks (density, length, angle, width, blur), additive blend as Rain100L/H',
  sample(severity, rng, _img, allOverrides) {
    // `shutter` is never drawn here (the synthesizer sets it), so it is only recorded when given.
    const { shutter, ...overrides } = allOverrides ?? {};
    if (shutter !== undefined && !(shutter > 0 && shutter <= 1)) invalidArg('rain', 'shutter', 'a factor in (0, 1] (streak length scale)', shutter);
    const n = 1 + Math.min(3, Math.floor(severity * 4));
    const wind = 90 + rng.uniform(-25, 25);
    // Real rain photos (e.g. the SPA/DDN real sets) mostly show dense, thin, long, faint streaks with
    // a veil; a per-sample style factor spans that and the sparser, brighter Rain100L look.
    const dense = rng.uniform(0, 1);
    const layers: RainLayer[] = [];
    for (let i = 0; i < n; i++) {
      const near = n === 1 ? rng.uniform(0.3, 0.8) : i / (n - 1); // 0 = far, 1 = near
      layers.push({
        density: r4(lerp(18, 4, near) * lerp(0.6, 1.6, severity) * lerp(0.7, 4, dense) * rng.uniform(0.7, 1.3)),
        length: r4(lerp(10, 40, near) * lerp(1, 1.6, dense) * rng.uniform(0.8, 1.25)),
        angle: r4(wind + rng.uniform(-8, 8)),
        width: r4(lerp(0.45, 1.3, near) * lerp(1, 0.65, dense) * rng.uniform(0.85, 1.15)),
        brightness: r4(lerp(0.18, 0.5, near) * lerp(0.8, 1.2, severity) * lerp(1, 0.55, dense) * rng.uniform(0.8, 1.2)),
        seed: rng.nextU32(),
      });
    }
    const drawn: RainParams = {
      layers,
      veil: r4(rng.uniform(0, 0.08) + (severity > 0.4 ? rng.uniform(0, 0.3) * (severity - 0.4) / 0.6 : 0)),
      tone: r4(rng.uniform(0.8, 0.95)),
    };
    if (shutter !== undefined) {
      drawn.layers = layers.map((l) => ({ ...l, length: r4(Math.max(RAIN_MIN_LENGTH, l.length * shutter)) }));
      drawn.shutter = shutter;
    }
    return withOverrides('rain', drawn, overrides);
  },
  phases: [{ stage: 'scene', run: (img, p) => applyRain(img, p) }],
};

/** The additive streak map S = sum of layers (1 channel, height x width). */
export function rainStreaks(height: number, width: number, p: RainParams): ImageF32 {
  const total = createImage(1, height, width);
  for (const layer of p.layers) {
    const rng = new Rng(layer.seed);
    const drops = createImage(1, height, width);
    const n = Math.round((layer.density * height * width) / 10000);
    const k = linearMotionKernel(Math.max(1, layer.length), layer.angle);
    // A unit impulse spreads over ~length px along the streak and ~sqrt(2 pi) width across it.
    const gain = layer.length * Math.max(1, Math.sqrt(2 * Math.PI) * layer.width) * 0.8;
    for (let i = 0; i < n; i++) {
      const x = rng.int(0, width - 1);
      const y = rng.int(0, height - 1);
      drops.data[y * width + x]! += layer.brightness * gain * rng.uniform(0.5, 1);
    }
    let s = convolve(drops, k);
    if (layer.width > 0.3) s = convolveSeparable(s, gaussianKernel1d(layer.width));
    for (let i = 0; i < total.data.length; i++) total.data[i]! += s.data[i]!;
  }
  return total;
}

export function applyRain(img: ImageF32, p: RainParams): ImageF32 {
  const S = rainStreaks(img.height, img.width, p);
  const plane = img.height * img.width;
  const out = createImage(img.channels, img.height, img.width);
  for (let c = 0; c < img.channels; c++) {
    for (let i = 0; i < plane; i++) {
      const b = img.data[c * plane + i]!;
      const v = (1 - p.veil) * (b + p.tone * S.data[i]!) + p.veil * p.tone;
      out.data[c * plane + i] = clampUnit(v);
    }
  }
  return out;
}

/** Rain streaks (pure, seeded): `(img, severity, rng, params?) => { image, params }`. */
export const rain = defineSync(rainDef);
