/**
 * The small seeded PRNG shared by initialisers, toy data, loader augmentation and tests:
 * mulberry32 (32-bit state, full period 2^32) with Box-Muller normals. Not for cryptography.
 */

/** A function returning uniform [0, 1) values, deterministic in `seed`. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class SeededRng {
  private readonly u: () => number;
  constructor(seed: number) {
    this.u = mulberry32(seed);
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.u();
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = this.next() || 1e-12;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}
