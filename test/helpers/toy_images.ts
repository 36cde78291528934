/**
 * Test images: the toy stripes task as an image folder (PNG, RGB) for dataset/loader/trainer tests,
 * uniform random RGB pixels for inspector tests, and the number of distinct colours of an image.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { toyBatch, TOY_CLASSES } from '../../src/data/toy.js';
import type { Rng } from './rng.js';
import type { ImageF32 } from '../../src/image/tensor.js';

/** A w x h RGB image of uniform random bytes drawn from `rng` (encode it with .png() or .jpeg()). */
export function randomPixels(w: number, h: number, rng: Rng): Sharp {
  const px = Buffer.from(new Uint8Array(w * h * 3).map(() => rng.int(256)));
  return sharp(px, { raw: { width: w, height: h, channels: 3 } });
}

export async function writeToyImageFolder(root: string, perClassApprox: number, size: number, seed: number): Promise<void> {
  const n = perClassApprox * TOY_CLASSES.length;
  const b = toyBatch(n, size, seed, 0.15);
  for (const c of TOY_CLASSES) await mkdir(path.join(root, c), { recursive: true });
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const px = Buffer.alloc(size * size * 3);
      for (let j = 0; j < size * size; j++) {
        const v = Math.max(0, Math.min(255, Math.round(128 + 100 * b.images[i * size * size + j]!)));
        px[3 * j] = v;
        px[3 * j + 1] = v;
        px[3 * j + 2] = 255 - v;
      }
      const cls = TOY_CLASSES[Number(b.labels[i])]!;
      await sharp(px, { raw: { width: size, height: size, channels: 3 } }).png().toFile(path.join(root, cls, `${String(i).padStart(4, '0')}.png`));
    }),
  );
}

/** How many distinct RGB colours an RGB image has (palette tests). */
export function distinctColours(img: ImageF32): number {
  const plane = img.width * img.height;
  return new Set(Array.from({ length: plane }, (_, i) => `${img.data[i]},${img.data[plane + i]},${img.data[2 * plane + i]}`)).size;
}
