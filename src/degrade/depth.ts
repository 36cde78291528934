/**
 * Synthetic depth maps for depth-dependent degradations (haze transmission, spatially varying
 * defocus). Real scenes are mostly a ground plane receding to a horizon with sky above it, plus
 * objects: we model depth as a tilted ground plane (depth ~ 1 / distance below the horizon, the
 * perspective of a flat floor), the sky at maximal depth, and smooth multi-octave value noise for
 * objects and terrain. Values are in [0, 1] (0 = nearest, 1 = farthest). All parameters are recorded
 * so a manifest line regenerates the same map.
 *
 * Caveat: the map ignores image content (edges of the depth map do not follow object edges); it is
 * "plausible" in its statistics, not a depth estimate of the photo.
 */
import { Rng } from './rng.js';
import { clampUnit, r4 } from './types.js';

export interface DepthParams {
  /** Horizon height as a fraction of the image height from the top (may be < 0 or > 1). */
  horizon: number;
  /** Horizon tilt in degrees. */
  tilt: number;
  /** Amplitude of the smooth noise added to the plane, 0..0.5. */
  roughness: number;
  /** Seed of the noise field. */
  noiseSeed: number;
  /** Depth assigned to the nearest image row (bottom), 0..0.5. */
  near: number;
}

export function sampleDepthParams(rng: Rng): DepthParams {
  return {
    horizon: r4(rng.uniform(-0.1, 0.6)),
    tilt: r4(rng.uniform(-12, 12)),
    roughness: r4(rng.uniform(0.05, 0.3)),
    noiseSeed: rng.nextU32(),
    near: r4(rng.uniform(0, 0.3)),
  };
}

/** Smooth value noise in about [-1, 1]: octaves of bilinearly interpolated random lattices. */
export function valueNoise(height: number, width: number, seed: number, baseCells = 3, octaves = 3): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(height * width);
  let amp = 1;
  let norm = 0;
  for (let o = 0; o < octaves; o++) {
    const cells = baseCells << o;
    const gw = cells + 2;
    const grid = new Float32Array(gw * gw);
    for (let i = 0; i < grid.length; i++) grid[i] = rng.uniform(-1, 1);
    for (let y = 0; y < height; y++) {
      const gy = (y / height) * cells;
      const y0 = Math.floor(gy);
      const fy = smooth(gy - y0);
      for (let x = 0; x < width; x++) {
        const gx = (x / width) * cells;
        const x0 = Math.floor(gx);
        const fx = smooth(gx - x0);
        const a = grid[y0 * gw + x0]! * (1 - fx) + grid[y0 * gw + x0 + 1]! * fx;
        const b = grid[(y0 + 1) * gw + x0]! * (1 - fx) + grid[(y0 + 1) * gw + x0 + 1]! * fx;
        out[y * width + x]! += amp * (a * (1 - fy) + b * fy);
      }
    }
    norm += amp;
    amp *= 0.5;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= norm;
  return out;
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

/** Depth map [height * width] in [0, 1] from the parameters. */
export function depthMap(height: number, width: number, p: DepthParams): Float32Array {
  const noise = valueNoise(height, width, p.noiseSeed);
  const out = new Float32Array(height * width);
  const tan = Math.tan((p.tilt * Math.PI) / 180);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // Rows below the (tilted) horizon: distance below it in image heights.
      const hy = (p.horizon + (tan * (x - width / 2)) / height) * height;
      const below = (y - hy) / height;
      const bottom = (height - 1 - hy) / height;
      let d: number;
      if (below <= 0.01) d = 1;
      else {
        // Ground plane: distance ~ 1/below; depth is its log, mapped so the bottom row is `near`
        // and the horizon is 1 (log keeps haze visible over the whole ground, not only at the horizon).
        const span = Math.log(Math.max(bottom, 0.011) / 0.01);
        d = p.near + ((1 - p.near) * Math.log(Math.max(bottom, 0.011) / Math.max(below, 0.01))) / span;
        if (d < p.near) d = p.near;
      }
      d += p.roughness * noise[y * width + x]!;
      out[y * width + x] = clampUnit(d);
    }
  }
  return out;
}
