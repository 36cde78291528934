/**
 * attnvision/degrade: pure, seeded image degradations for synthesising image-quality training data.
 *
 * Every degradation is `(img: ImageF32, severity: number in [0, 1], rng: Rng, params?: Partial<P>)
 * => { image, params: P }` (JPEG returns a Promise) where `params` records every parameter used, so a
 * manifest line reproduces the sample. Images are CHW sRGB float in [0, 1] (see image/tensor.ts);
 * blur, haze, noise and low light work in linear light internally.
 *
 * | label         | file          | stage       | model                                                  |
 * |---------------|---------------|-------------|--------------------------------------------------------|
 * | haze          | haze.ts       | scene       | atmospheric scattering, synthetic depth                |
 * | rain          | rain.ts       | scene       | layered streaks, Rain100L/H additive blend             |
 * | low_light     | low_light.ts  | scene+sensor| exposure/gamma, then shot + read noise                 |
 * | defocus_blur  | defocus.ts    | optics      | disk PSF, optionally depth-varying                     |
 * | motion_blur   | motion.ts     | optics      | Boracchi & Foi 2012 shake trajectories / linear        |
 * | noise         | noise.ts      | sensor      | Gaussian, Poisson-Gaussian (Foi 2008), camera (Brooks), isp (opt-in, isp_noise.ts) |
 * | jpeg          | jpeg.ts       | compression | libjpeg re-encode, quality 30..5                       |
 *
 * On-the-fly synthesis (e.g. in a trainer):
 *
 * ```ts
 * import { applyDegradations, Rng } from 'attnvision/degrade';
 * const rng = new Rng(seed);                      // same seed -> bit-identical output
 * const { image, applied } = await applyDegradations(clean, [
 *   { name: 'motion_blur', severity: 0.6 },
 *   { name: 'jpeg', severity: 0.3, params: { chromaSubsampling: '4:2:0' } },
 * ], rng);
 * // applied: [{ name, severity, params }] in physical order
 * //   (scene: haze, rain, low-light exposure -> optics: defocus, motion -> sensor: noise,
 * //    low-light noise -> compression: jpeg)
 * ```
 *
 * `applyDegradations` is async (JPEG encodes through sharp); an empty recipe returns the input.
 * Each item's parameters come from `rng.fork(name)`, independent of the other items.
 */
import type { ImageF32 } from '../image/tensor.js';
import { combine, type AppliedDegradation, type RecipeItem } from './combine.js';
import { defocusDef } from './defocus.js';
import { hazeDef } from './haze.js';
import { jpegDef } from './jpeg.js';
import { lowLightDef } from './low_light.js';
import { motionDef } from './motion.js';
import { noiseDef } from './noise.js';
import { rainDef } from './rain.js';
import type { Rng } from './rng.js';
import type { DegradationDef, DegradationName } from './types.js';

/** Registry in physical order (scene, optics, sensor, compression). */
export const DEGRADATIONS: Readonly<Record<DegradationName, DegradationDef>> = Object.freeze({
  haze: hazeDef as DegradationDef,
  rain: rainDef as DegradationDef,
  low_light: lowLightDef as DegradationDef,
  defocus_blur: defocusDef as DegradationDef,
  motion_blur: motionDef as DegradationDef,
  noise: noiseDef as DegradationDef,
  jpeg: jpegDef as DegradationDef,
});

/** Names in physical order. */
export const PHYSICAL_ORDER = Object.keys(DEGRADATIONS) as DegradationName[];

/** Applies several degradations in physical order; see the module doc. */
export function applyDegradations(img: ImageF32, recipe: readonly RecipeItem[], rng: Rng): Promise<{ image: ImageF32; applied: AppliedDegradation[] }> {
  return combine(DEGRADATIONS, PHYSICAL_ORDER, img, recipe, rng);
}

export type { RecipeItem, AppliedDegradation };
export * from './types.js';
export { Rng, hashString } from './rng.js';
export * from './kernels.js';
export * from './depth.js';
export { defocusBlur, applyDefocus, defocusDef, type DefocusParams } from './defocus.js';
export { motionBlur, applyMotion, motionKernel, motionDef, type MotionParams } from './motion.js';
export { noise, applyNoise, noiseDef, signalDependent, noiseSeverityOf, NOISE_SIGMA_RANGE, type NoiseParams, type NoiseModel } from './noise.js';
export { rain, applyRain, rainStreaks, rainDef, RAIN_MIN_LENGTH, RAIN_SHUTTER_RANGE, type RainParams, type RainLayer } from './rain.js';
export { haze, applyHaze, transmission, hazeDef, type HazeParams } from './haze.js';
export { lowLight, lowLightExposure, lowLightNoise, lowLightDef, type LowLightParams } from './low_light.js';
export { jpeg, applyJpeg, jpegRoundTrip, jpegDef, artifactStrength, blockEdgeExcess, REFERENCE_QUALITY, type JpegParams } from './jpeg.js';
export { applyIspNoise, bayerColour, checkIsp, ISP_CHROMA_SIGMA, ISP_LUMA_SIGMA, ISP_SHARPEN, type IspProcessing, type IspNoiseParams } from './isp_noise.js';
