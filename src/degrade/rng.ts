/**
 * A small seeded PRNG for degradations: xoshiro128** (Blackman & Vigna 2018) seeded through
 * splitmix32, with uniform, integer, normal (Box-Muller, both values used), Poisson, choice and shuffle
 * helpers. Pure 32-bit integer state updates, so a seed reproduces bit-identical streams on every
 * platform; `fork(label)` derives an independent child stream from the parent's seed and a label
 * (so adding a degradation to a recipe does not shift the random numbers of the others).
 */

function splitmix32(state: number): [number, number] {
  let z = (state + 0x9e3779b9) | 0;
  let r = z;
  r = Math.imul(r ^ (r >>> 16), 0x85ebca6b);
  r = Math.imul(r ^ (r >>> 13), 0xc2b2ae35);
  r ^= r >>> 16;
  z = z | 0;
  return [z, r >>> 0];
}

/** FNV-1a hash of a string, for labels in fork(). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;
  /** The seed this generator was created from (recorded in manifests). */
  readonly seed: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng: expected a finite seed but received ${seed}`);
    this.seed = seed >>> 0;
    let st = this.seed;
    const out: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [ns, r] = splitmix32(st);
      st = ns;
      out.push(r);
    }
    [this.s0, this.s1, this.s2, this.s3] = out as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability p. */
  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  choice<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** A shuffled copy of `items` (Fisher-Yates from the last element, j = int(0, i)). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** Standard normal (Box-Muller; the second value is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }

  /**
   * Poisson(lambda): Knuth's multiplication method below 30, otherwise the normal approximation
   * with continuity correction (relative error of the variance below 1% there).
   */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda < 30) {
      const L = Math.exp(-lambda);
      let k = 0;
      let p = this.next();
      while (p > L) {
        k++;
        p *= this.next();
      }
      return k;
    }
    const v = Math.round(lambda + Math.sqrt(lambda) * this.normal());
    return v < 0 ? 0 : v;
  }

  /** An independent generator derived from this one's seed and a label (does not advance this one). */
  fork(label: string | number): Rng {
    const h = typeof label === 'number' ? label >>> 0 : hashString(label);
    return new Rng((Math.imul(this.seed ^ 0x5bd1e995, 0x27d4eb2d) + Math.imul(h, 0x165667b1)) >>> 0);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
