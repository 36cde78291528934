/**
 * Seeded random tensors for a graph (dropout masks, drop-path, noise).
 *
 * A random tensor is a graph input whose values the runtime draws from a counter-based generator
 * keyed by (seed, step, input index). The same seed and step therefore always give the same values,
 * whichever session or process runs the graph: training runs are reproducible and resume exactly.
 * Exported inference graphs contain no random inputs (dropout is the identity in eval mode).
 */
import type { Graph, Tensor } from '../graph.js';
import { Graph as GraphClass } from '../graph.js';

export type RandomKind = 'uniform' | 'normal';

export interface RandomInput {
  name: string;
  shape: readonly number[];
  kind: RandomKind;
}

const randomInputs = new WeakMap<Graph, RandomInput[]>();

export function listRandomInputs(g: Graph): readonly RandomInput[] {
  return randomInputs.get(g) ?? [];
}

function declare(kind: RandomKind, shape: readonly number[]): Tensor {
  const g = GraphClass.current();
  let list = randomInputs.get(g);
  if (!list) randomInputs.set(g, (list = []));
  const name = `rng_${list.length}`;
  list.push({ name, shape: [...shape], kind });
  return g.input(name, shape, 'float32');
}

/** Uniform [0, 1) values of the given shape. */
export const randomUniform = (shape: readonly number[]): Tensor => declare('uniform', shape);

/** Standard normal values of the given shape. */
export const randomNormal = (shape: readonly number[]): Tensor => declare('normal', shape);

// ---------------------------------------------------------------------------------------------
// The generator: SplitMix64-style hashing of (seed, step, stream, index) -> 32-bit uniform.

function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Fills `out` with the values of random input `stream` for (seed, step). */
export function fillRandom(out: Float32Array, kind: RandomKind, seed: number, step: number, stream: number): void {
  let key = mix32((seed | 0) ^ 0x9e3779b9);
  key = mix32(key ^ Math.imul(step | 0, 0x632be5ab));
  key = mix32(key ^ Math.imul(stream + 1, 0x1b873593));
  // xorshift128 state seeded from the key: fast, and deterministic per (seed, step, stream).
  let a = key || 1;
  let b = mix32(key + 1) || 2;
  let c = mix32(key + 2) || 3;
  let d = mix32(key + 3) || 4;
  const next = (): number => {
    const t = a ^ (a << 11);
    a = b;
    b = c;
    c = d;
    d = (d ^ (d >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return d / 4294967296;
  };
  if (kind === 'uniform') {
    for (let i = 0; i < out.length; i++) out[i] = next();
    return;
  }
  for (let i = 0; i < out.length; i += 2) {
    // Box-Muller
    const u1 = next() || 1e-12;
    const u2 = next();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
}
