/**
 * Sharpness test for clean-source crops (gradient-energy test). Some shared photos have intentional
 * shallow depth of field; a crop from their bokeh must never be labelled clean (or serve as the
 * "sharp" input of any other degradation, whose label set would then miss the blur).
 *
 * The crop's luma is split into tiles. A tile with enough contrast (p98 - p2 of luma >= minContrast)
 * is "textured"; its edge steepness is p98(|grad|) / contrast, where |grad| is the larger of the
 * absolute forward differences in x and y. A sharp edge of contrast C has steps near C / 1-2 px
 * (ratio ~0.3-0.6); a defocused one spreads over 2r px (ratio ~1/2r). The crop passes when enough
 * tiles are textured and almost none of them is soft.
 *
 * Caveat: uniform crops (sky, walls) fail for lack of texture even though they are not blurred;
 * rejecting them is the safe side.
 */
import { luma, type ImageF32 } from '../../image/tensor.js';

export interface SharpnessOptions {
  /** Tile side in px (default 32). */
  tile?: number;
  /** Luma contrast for a tile to count as textured (default 0.1). */
  minContrast?: number;
  /** Edge steepness below which a textured tile is soft (default 0.25). */
  minSteepness?: number;
  /** Minimum share of textured tiles (default 0.3). */
  minTextured?: number;
  /** Maximum share of soft tiles among textured ones (default 0.15). */
  maxSoft?: number;
}

export interface SharpnessReport {
  sharp: boolean;
  /** Share of textured tiles. */
  textured: number;
  /** Share of soft tiles among textured ones. */
  soft: number;
  /** Median steepness of textured tiles (NaN when none). */
  steepness: number;
}

function percentile(sorted: Float32Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export function sharpness(img: ImageF32, opts: SharpnessOptions = {}): SharpnessReport {
  const T = opts.tile ?? 32;
  const minContrast = opts.minContrast ?? 0.1;
  const minSteep = opts.minSteepness ?? 0.25;
  const Y = luma(img);
  const W = Y.width;
  const H = Y.height;
  const steeps: number[] = [];
  let tiles = 0;
  let soft = 0;
  const vals = new Float32Array(T * T);
  const grads = new Float32Array(T * T);
  for (let ty = 0; ty + T <= H; ty += T) {
    for (let tx = 0; tx + T <= W; tx += T) {
      tiles++;
      let n = 0;
      for (let y = ty; y < ty + T; y++) {
        for (let x = tx; x < tx + T; x++) {
          const v = Y.data[y * W + x]!;
          const gx = x + 1 < W ? Math.abs(Y.data[y * W + x + 1]! - v) : 0;
          const gy = y + 1 < H ? Math.abs(Y.data[(y + 1) * W + x]! - v) : 0;
          vals[n] = v;
          grads[n++] = gx > gy ? gx : gy;
        }
      }
      vals.sort();
      grads.sort();
      const contrast = percentile(vals, 0.98) - percentile(vals, 0.02);
      if (contrast < minContrast) continue;
      const s = percentile(grads, 0.98) / contrast;
      steeps.push(s);
      if (s < minSteep) soft++;
    }
  }
  const textured = tiles ? steeps.length / tiles : 0;
  const softShare = steeps.length ? soft / steeps.length : 1;
  steeps.sort((a, b) => a - b);
  const steepness = steeps.length ? steeps[Math.floor(steeps.length / 2)]! : NaN;
  return {
    sharp: textured >= (opts.minTextured ?? 0.3) && softShare <= (opts.maxSoft ?? 0.15),
    textured,
    soft: softShare,
    steepness,
  };
}
