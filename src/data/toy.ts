/**
 * A small synthetic image-classification task for demos and learning tests: 1-channel S x S images
 * of four pattern classes (horizontal stripes, vertical stripes, diagonal stripes, checkerboard),
 * with random frequency, phase, contrast and additive noise.
 */
import { mulberry32 } from '../util/rng.js';

export const TOY_CLASSES = ['horizontal', 'vertical', 'diagonal', 'checker'] as const;

export interface ToyBatch {
  images: Float32Array; // [N, 1, S, S]
  labels: BigInt64Array; // [N]
}

/** `n` samples of size `size`, deterministic in `seed`. */
export function toyBatch(n: number, size: number, seed: number, noise = 0.3): ToyBatch {
  const rnd = mulberry32(seed);
  const images = new Float32Array(n * size * size);
  const labels = new BigInt64Array(n);
  for (let k = 0; k < n; k++) {
    const cls = Math.floor(rnd() * 4);
    labels[k] = BigInt(cls);
    const period = 3 + rnd() * 4;
    const phase = rnd() * Math.PI * 2;
    const contrast = 0.5 + rnd() * 0.5;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const w = (2 * Math.PI) / period;
        const v =
          cls === 0
            ? Math.sin(w * y + phase)
            : cls === 1
              ? Math.sin(w * x + phase)
              : cls === 2
                ? Math.sin((w * (x + y)) / Math.SQRT2 + phase)
                : Math.sign(Math.sin(w * x + phase) * Math.sin(w * y + phase));
        const u1 = rnd() || 1e-9;
        const gauss = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rnd());
        images[k * size * size + y * size + x] = contrast * v + noise * gauss;
      }
    }
  }
  return { images, labels };
}
