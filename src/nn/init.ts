/**
 * Seeded parameter initializers (PyTorch conventions): kaiming normal/uniform, truncated normal,
 * uniform, zeros, ones, constant. Each parameter draws from a generator keyed by (seed, name), so
 * adding a layer does not change the initial values of the others.
 */
import type { SeededRng as InitRng } from '../util/rng.js';

/** A deterministic PRNG (mulberry32) with normal sampling. */
export { SeededRng as InitRng } from '../util/rng.js';

/** FNV-1a hash of a string, for per-parameter seeds. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export type Initializer = (shape: readonly number[], rng: InitRng) => Float32Array;

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** fan_in / fan_out of a weight [out, in, *kernel] (PyTorch's _calculate_fan_in_and_fan_out). */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const receptive = size(shape.slice(2));
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

export const zeros: Initializer = (shape) => new Float32Array(size(shape));
export const ones: Initializer = (shape) => new Float32Array(size(shape)).fill(1);
export const constant = (v: number): Initializer => (shape) => new Float32Array(size(shape)).fill(v);

export const uniform = (lo: number, hi: number): Initializer => (shape, rng) => {
  const a = new Float32Array(size(shape));
  for (let i = 0; i < a.length; i++) a[i] = lo + (hi - lo) * rng.next();
  return a;
};

export const normal = (std: number, mean = 0): Initializer => (shape, rng) => {
  const a = new Float32Array(size(shape));
  for (let i = 0; i < a.length; i++) a[i] = mean + std * rng.normal();
  return a;
};

/** Normal(0, std) truncated to [a, b] by resampling (timm's trunc_normal_, default [-2, 2]). */
export const truncNormal = (std = 0.02, lo = -2, hi = 2): Initializer => (shape, rng) => {
  const a = new Float32Array(size(shape));
  for (let i = 0; i < a.length; i++) {
    let v: number;
    do v = std * rng.normal();
    while (v < lo || v > hi);
    a[i] = v;
  }
  return a;
};

/** Kaiming (He) normal: std = gain / sqrt(fan); ReLU gain sqrt(2). mode 'fan_out' as torchvision ResNets. */
export const kaimingNormal = (mode: 'fan_in' | 'fan_out' = 'fan_out', gain = Math.SQRT2): Initializer => (shape, rng) => {
  const f = fans(shape);
  return normal(gain / Math.sqrt(mode === 'fan_in' ? f.fanIn : f.fanOut))(shape, rng);
};

/** PyTorch's default Linear/Conv init: kaiming_uniform(a = sqrt 5) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export const kaimingUniformDefault: Initializer = (shape, rng) => {
  const b = 1 / Math.sqrt(fans(shape).fanIn);
  return uniform(-b, b)(shape, rng);
};

/** PyTorch's default bias init for a layer with the given fan_in. */
export const biasDefault = (fanIn: number): Initializer => {
  const b = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniform(-b, b);
};
