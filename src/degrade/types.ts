/**
 * Shared types of the degradation library: the label set, the physical stages, and the shape of a
 * degradation definition (parameter sampler + per-stage application).
 */
import { invalidArg } from '../util/errors.js';
import type { ImageF32 } from '../image/tensor.js';
import type { Rng } from './rng.js';

/** Degradation labels, as the inspector's QUALITY_LABELS (without 'clean'). */
export const DEGRADATION_NAMES = ['defocus_blur', 'motion_blur', 'noise', 'rain', 'haze', 'low_light', 'jpeg'] as const;
export type DegradationName = (typeof DEGRADATION_NAMES)[number];

/** Stages of the imaging pipeline, in physical order. */
export const STAGES = ['scene', 'optics', 'sensor', 'compression'] as const;
export type Stage = (typeof STAGES)[number];

/** Output of a degradation: the image and every parameter actually used (JSON-serialisable). */
export interface DegradeResult<P> {
  image: ImageF32;
  params: P;
}

/** The public form of a degradation: pure and seeded. */
export type DegradeFn<P> = (img: ImageF32, severity: number, rng: Rng, params?: Partial<P>) => DegradeResult<P>;
export type AsyncDegradeFn<P> = (img: ImageF32, severity: number, rng: Rng, params?: Partial<P>) => Promise<DegradeResult<P>>;

/** One step of a degradation applied at one stage of the pipeline. */
export interface Phase<P> {
  stage: Stage;
  run(img: ImageF32, params: P, rng: Rng): ImageF32 | Promise<ImageF32>;
}

/**
 * A degradation: `sample` turns a severity into explicit parameters (overrides win), `phases` apply
 * them. Most have one phase; low light has two (exposure in the scene, photon noise at the sensor).
 */
export interface DegradationDef<P extends object = object> {
  name: DegradationName;
  /** One line for docs and the contact sheet. */
  summary: string;
  sample(severity: number, rng: Rng, img: { height: number; width: number }, overrides?: Partial<P>): P;
  /** Checks the parameters after overrides (values the phases cannot use: an unknown model, a radius <= 0). */
  check?(p: P): void;
  phases: Phase<P>[];
}

/** Throws "<where>: expected <expected> for params.<name> but received <value>" unless `ok`. */
export function needParam(ok: boolean, where: string, name: string, expected: string, value: unknown): void {
  if (!ok) invalidArg(where, `params.${name}`, expected, value);
}

/** Linear interpolation lo -> hi by t in [0, 1]. */
export function lerp(lo: number, hi: number, t: number): number {
  return lo + (hi - lo) * t;
}

/** Geometric interpolation lo -> hi by t in [0, 1] (for scale-like parameters). */
export function gerp(lo: number, hi: number, t: number): number {
  return Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * t);
}

/** A pixel value clipped to [0, 1] (NaN stays NaN). */
export function clampUnit(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Rounds to 4 significant decimals so manifests stay readable (values used are the rounded ones). */
export function r4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
