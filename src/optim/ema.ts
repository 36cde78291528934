/**
 * Exponential moving average of the weights (Polyak & Juditsky 1992; as `ModelEma` in timm and
 * used for DeiT and Swin): a shadow copy w_ema <- d w_ema + (1 - d) w after every optimizer step,
 * evaluated and saved in place of the raw weights. With the warm-up d_t = min(d, (1 + t) / (10 + t))
 * (t = completed steps before this one) the first steps are not dominated by the initial weights.
 * Parameters and buffers (e.g. BatchNorm running statistics) are averaged alike. Host-side: the
 * training step already returns the new flat weights each step.
 */
import { ArgumentError, AttnvisionError } from '../util/errors.js';

/** Refuses a decay outside (0, 1), naming the flag. */
export function checkEmaDecay(decay: number): void {
  if (!(decay > 0 && decay < 1)) throw new ArgumentError(`EMA decay (--ema) must be in (0, 1), received ${decay}`);
}

export class WeightEma {
  readonly params: Float32Array;
  readonly buffers: Float32Array;

  /** Starts from a copy of the current weights. */
  constructor(
    readonly decay: number,
    params: Float32Array,
    buffers: Float32Array,
  ) {
    checkEmaDecay(decay);
    this.params = Float32Array.from(params);
    this.buffers = Float32Array.from(buffers);
  }

  /** The decay applied at the update after `stepsDone` completed optimizer steps. */
  decayAt(stepsDone: number): number {
    return Math.min(this.decay, (1 + stepsDone) / (10 + stepsDone));
  }

  /** Folds the weights after an optimizer step in; `stepsDone` counts the steps before it. */
  update(params: Float32Array, buffers: Float32Array, stepsDone: number): void {
    const d = this.decayAt(stepsDone);
    blend(this.params, params, d, 'parameters');
    blend(this.buffers, buffers, d, 'buffers');
  }

  /** Restores the shadow weights saved in a checkpoint. */
  restore(params: Float32Array | undefined, buffers: Float32Array | undefined, source: string): void {
    if (!params || params.length !== this.params.length) throw new AttnvisionError(`${source}: EMA parameters missing or of the wrong size (expected ${this.params.length}, found ${params?.length ?? 'none'})`);
    if ((buffers?.length ?? 0) !== this.buffers.length) throw new AttnvisionError(`${source}: EMA buffers of the wrong size (expected ${this.buffers.length}, found ${buffers?.length ?? 'none'})`);
    this.params.set(params);
    if (buffers) this.buffers.set(buffers);
  }
}

function blend(shadow: Float32Array, current: Float32Array, d: number, what: string): void {
  if (shadow.length !== current.length) throw new AttnvisionError(`EMA ${what}: ${current.length} values, the average holds ${shadow.length}`);
  const a = 1 - d;
  for (let i = 0; i < shadow.length; i++) shadow[i] = d * shadow[i]! + a * current[i]!;
}

/**
 * Runs `fn` with `target`'s contents temporarily replaced by `values` (restored afterwards, also
 * when `fn` throws). For evaluating or saving the averaged weights through code that reads the
 * model state in place.
 */
export async function withSwapped<T>(pairs: readonly (readonly [target: Float32Array, values: Float32Array])[], fn: () => Promise<T>): Promise<T> {
  const saved = pairs.map(([t]) => Float32Array.from(t));
  pairs.forEach(([t, v]) => t.set(v));
  try {
    return await fn();
  } finally {
    pairs.forEach(([t], i) => t.set(saved[i]!));
  }
}
