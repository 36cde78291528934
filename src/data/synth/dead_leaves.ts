/**
 * Procedural "dead leaves" images: Lee, Mumford & Huang, "Occlusion Models for Natural Images: A
 * Statistical Study of a Scale-Invariant Dead Leaves Model", IJCV 2001 (also the texture chart of
 * Cao, Guichard & Hornung for camera sharpness, IEEE 2010). Opaque shapes with radii drawn from
 * p(r) ~ r^-3 on [rMin, rMax] fall on top of each other until the image is covered; the result is
 * scale invariant, with sharp occlusion edges at every scale, like natural images. Used as an
 * unlimited source of perfectly sharp, noise-free texture.
 *
 * Our variant: ellipses (aspect 0.4-1, random orientation) with antialiased edges (1 px), colours
 * from a natural-ish HSV distribution, and a gentle linear shading inside each leaf so regions are
 * not perfectly flat.
 */
import { createImage, type ImageF32 } from '../../image/tensor.js';
import { Rng } from '../../degrade/rng.js';

export interface DeadLeavesOptions {
  /** Side in px. */
  size: number;
  /** Smallest radius in px (default 1.5). */
  rMin?: number;
  /** Largest radius in px (default size / 3). */
  rMax?: number;
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  switch (i % 6) {
    case 0: return [v, t, p];
    case 1: return [q, v, p];
    case 2: return [p, v, t];
    case 3: return [p, q, v];
    case 4: return [t, p, v];
    default: return [v, p, q];
  }
}

/** A dead-leaves image (3 channels, sRGB in [0, 1]), fully determined by `seed`. */
export function deadLeaves(seed: number, opts: DeadLeavesOptions): ImageF32 {
  const S = opts.size;
  const rMin = opts.rMin ?? 1.5;
  const rMax = opts.rMax ?? S / 3;
  const rng = new Rng(seed);
  const img = createImage(3, S, S);
  const plane = S * S;
  // Front-to-back painting: a pixel keeps its first leaf; `cover` tracks the alpha already there.
  const cover = new Float32Array(plane);
  let uncovered = plane;
  const a2 = rMin ** -2;
  const b2 = rMax ** -2;
  const palette = rng.uniform(0, 1); // per-image hue bias, so images differ in overall colour
  for (let n = 0; n < 200000 && uncovered > 0; n++) {
    // Inverse CDF of p(r) ~ r^-3 on [rMin, rMax].
    const r = 1 / Math.sqrt(a2 - rng.next() * (a2 - b2));
    const aspect = rng.uniform(0.4, 1);
    const theta = rng.uniform(0, Math.PI);
    const cx = rng.uniform(-r, S + r);
    const cy = rng.uniform(-r, S + r);
    const hue = (palette + rng.normal() * 0.18 + 1) % 1;
    const sat = Math.min(1, Math.abs(rng.normal() * 0.35));
    const val = Math.min(1, Math.max(0.03, rng.uniform(0.08, 1) ** 0.8));
    const rgb = hsvToRgb(hue, sat, val);
    const gx = rng.normal() * 0.15 / r;
    const gy = rng.normal() * 0.15 / r;
    const cos = Math.cos(theta);
    const sin = Math.sin(theta);
    const ra = r;
    const rb = r * aspect;
    const x0 = Math.max(0, Math.floor(cx - r - 1));
    const x1 = Math.min(S - 1, Math.ceil(cx + r + 1));
    const y0 = Math.max(0, Math.floor(cy - r - 1));
    const y1 = Math.min(S - 1, Math.ceil(cy + r + 1));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const i = y * S + x;
        const free = 1 - cover[i]!;
        if (free <= 0) continue;
        const dx = x - cx;
        const dy = y - cy;
        const u = (dx * cos + dy * sin) / ra;
        const v = (-dx * sin + dy * cos) / rb;
        const q = Math.sqrt(u * u + v * v);
        // Signed distance to the ellipse edge in px (approximate) -> 1 px antialiasing.
        const dist = (q - 1) * rb;
        const alpha = dist <= -0.5 ? 1 : dist >= 0.5 ? 0 : 0.5 - dist;
        if (alpha <= 0) continue;
        const w = alpha * free;
        const shade = 1 + gx * dx + gy * dy;
        for (let c = 0; c < 3; c++) img.data[c * plane + i]! += w * Math.min(1, Math.max(0, rgb[c]! * shade));
        cover[i] = cover[i]! + w;
        if (cover[i]! >= 0.999) {
          cover[i] = 1;
          uncovered--;
        }
      }
    }
  }
  return img;
}
