/**
 * Motion blur: convolution (in linear light) with a camera-shake PSF, either a random trajectory
 * following Boracchi & Foi, "Modeling the Performance of Image Restoration from Motion Blur",
 * IEEE TIP 21(8), 2012 (the generator behind DeblurGAN's synthetic blur), or uniform linear motion.
 *
 * Severity -> path length 5 .. 35 px. Caveats: the blur is spatially uniform (a shake with
 * negligible rotation, no object motion); GoPro-style frame averaging of moving objects is not
 * modelled. The kernel is stored in the parameters only as its generator values (seed included),
 * so it can be rebuilt exactly.
 */
import { toLinear, toSrgb, type ImageF32 } from '../image/tensor.js';
import { defineSync, withOverrides } from './define.js';
import { convolve, linearMotionKernel, shakeTrajectory, trajectoryKernel, type Kernel } from './kernels.js';
import { Rng } from './rng.js';
import { lerp, needParam, r4, type DegradationDef } from './types.js';

export interface MotionParams {
  /** 'shake' (random trajectory) or 'linear'. */
  kind: 'shake' | 'linear';
  /** Path length in px. */
  length: number;
  /** Direction in degrees (linear kind). */
  angle: number;
  /** Trajectory irregularity (shake kind, Boracchi & Foi's "anxiety"). */
  anxiety: number;
  /** Seed of the trajectory random walk (shake kind). */
  trajectorySeed: number;
}

export const motionDef: DegradationDef<MotionParams> = {
  name: 'motion_blur',
  summary: 'camera-shake trajectory (Boracchi & Foi 2012) or linear kernel, 5-35 px',
  sample(severity, rng, _img, overrides) {
    return withOverrides('motion_blur', {
      kind: rng.bool(0.7) ? 'shake' : 'linear',
      length: r4(lerp(5, 35, severity) * rng.uniform(0.9, 1.1)),
      angle: r4(rng.uniform(0, 180)),
      anxiety: r4(0.1 * rng.next()),
      trajectorySeed: rng.nextU32(),
    }, overrides);
  },
  check(p) {
    needParam(p.kind === 'shake' || p.kind === 'linear', 'motion_blur', 'kind', '"shake" or "linear"', p.kind);
    needParam(p.length > 0, 'motion_blur', 'length', 'a number > 0 (px)', p.length);
  },
  phases: [{ stage: 'optics', run: (img, p) => applyMotion(img, p) }],
};

/** The PSF described by the parameters (normalised to sum 1). */
export function motionKernel(p: MotionParams): Kernel {
  if (p.kind === 'linear') return linearMotionKernel(Math.max(1, p.length), p.angle);
  return trajectoryKernel(shakeTrajectory(new Rng(p.trajectorySeed), { length: p.length, anxiety: p.anxiety }));
}

export function applyMotion(img: ImageF32, p: MotionParams): ImageF32 {
  return toSrgb(convolve(toLinear(img), motionKernel(p)));
}

/** Motion blur (pure, seeded): `(img, severity, rng, params?) => { image, params }`. */
export const motionBlur = defineSync(motionDef);
