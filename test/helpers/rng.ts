import { SeededRng } from '../../src/util/rng.js';

/** The shared seeded PRNG (mulberry32) with array helpers for tests. */
export class Rng extends SeededRng {
  normalArray(n: number, scale = 1): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = this.normal() * scale;
    return a;
  }
  uniformArray(n: number, lo = 0, hi = 1): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * this.next();
    return a;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/**
 * `n` values k * gap + offset (k = -n/2 .. n/2), spaced `gap` apart in random order, centred on 0: inputs for max, relu, abs,
 * clip and sorting-like ops, whose finite differences are only valid away from kinks and ties.
 */
export function distinctArray(rng: Rng, n: number, gap = 0.1, offset = gap / 2): Float32Array {
  const vals = Array.from({ length: n }, (_, i) => (i - Math.floor(n / 2)) * gap + offset); // k * gap + offset
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [vals[i], vals[j]] = [vals[j]!, vals[i]!];
  }
  return Float32Array.from(vals);
}
