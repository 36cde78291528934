/**
 * Learning-rate schedules, evaluated on the host and fed to the step graph each step.
 */
import { checkInt, checkNumber } from '../util/errors.js';

export type Schedule = (step: number) => number;

/** Steps count from 0: a negative step would give a negative or growing rate. */
function checkStep(where: string, step: number): true {
  checkInt(where, 'step', step, 0);
  return true;
}

export interface CosineOptions {
  /** Peak learning rate reached after warm-up. */
  baseLr: number;
  /** Total optimisation steps. */
  totalSteps: number;
  /** Linear warm-up steps (default 0). */
  warmupSteps?: number;
  /** Learning rate at the start of warm-up (default 0). */
  warmupStartLr?: number;
  /** Final learning rate (default 0). */
  minLr?: number;
}

/** Linear warm-up, then cosine decay to `minLr` at `totalSteps` (step is 0-based). */
export function cosineWithWarmup(o: CosineOptions): Schedule {
  checkNumber('cosineWithWarmup', 'baseLr', o.baseLr, 0);
  checkInt('cosineWithWarmup', 'totalSteps', o.totalSteps, 1);
  // A warm-up longer than the run is allowed (train --warmup 2 --epochs 1): the rate then rises for the whole run.
  const warm = checkInt('cosineWithWarmup', 'warmupSteps', o.warmupSteps ?? 0, 0);
  const w0 = checkNumber('cosineWithWarmup', 'warmupStartLr', o.warmupStartLr ?? 0, 0);
  const minLr = checkNumber('cosineWithWarmup', 'minLr', o.minLr ?? 0, 0, o.baseLr);
  return (step) => {
    checkStep('cosineWithWarmup', step);
    if (step < warm) return w0 + ((o.baseLr - w0) * (step + 1)) / warm;
    const t = Math.min(1, (step - warm) / Math.max(1, o.totalSteps - warm));
    return minLr + 0.5 * (o.baseLr - minLr) * (1 + Math.cos(Math.PI * t));
  };
}

/** Multiply by `gamma` every `stepSize` steps. */
export function stepDecay(baseLr: number, stepSize: number, gamma = 0.1): Schedule {
  checkNumber('stepDecay', 'baseLr', baseLr, 0);
  checkInt('stepDecay', 'stepSize', stepSize, 1);
  checkNumber('stepDecay', 'gamma', gamma, 0, 1);
  return (step) => checkStep('stepDecay', step) && baseLr * Math.pow(gamma, Math.floor(step / stepSize));
}

export const constantLr = (lr: number): Schedule => {
  checkNumber('constantLr', 'lr', lr, 0);
  return () => lr;
};
