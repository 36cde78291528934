/**
 * Tiling: how an image of any size is covered by model-sized tiles at (close to) native scale.
 *
 * Degradations are scale-dependent (a 2 px blur vanishes when a 4000 px photo is shrunk to
 * 224 px), so the inspector looks at tiles at native resolution. Very large images are first
 * downscaled so at most `maxTilesPerSide` tiles cover each side; small images are upscaled to one tile.
 *
 * Downscaling averages pixel-level problems away (a 4000 px photo shrunk 7x keeps a seventh of
 * its noise std and none of its 8x8 JPEG blocks), so for such images `planDetailTiles` also
 * places a sparse grid of tiles at native scale, spread evenly over the whole image; the
 * inspector reads its pixel-level labels (config `detailLabels`) from those.
 *
 * Blur shrinks with the photo too (a 20 px shake is 9 px once a 1280 px photo is shrunk to 560),
 * so `planFineTiles` covers such an image a second time, downscaled less (at most
 * `fineTilesPerSide` tiles per side); the inspector reads its `fineLabels` (the blurs) from those.
 */
import type { TileCell } from './labels.js';
import { AttnvisionError, checkInt } from '../util/errors.js';

export interface TilePlan {
  /** Size the image is resized to before tiling. */
  width: number;
  height: number;
  rows: number;
  cols: number;
  tile: number;
  /** Top-left corners, row-major. */
  origins: { left: number; top: number }[];
  /** Scale factor from source to resized image. */
  scale: number;
}

/** The largest enlargement of an image to fill a tile: 3.5x, 32 px for the inspector's 112 px tiles. */
export const MAX_UPSCALE = 3.5;

/**
 * Covers a srcW x srcH image with tiles: scaled so the longer side fits in `maxPerSide` tiles,
 * never below one tile on the shorter side. That floor lets a thin strip need many tiles (a
 * 1 x 600 px strip would need 600), so images thinner than 1 : max(maxPerSide^2, 16) are refused:
 * work per image stays bounded by that many tiles. Images whose shorter side would have to be
 * enlarged more than MAX_UPSCALE times to fill a tile are refused too: they become a few flat
 * blocks or a blur, and the answer would say nothing about the photo.
 */
export function planTiles(srcW: number, srcH: number, tile: number, maxPerSide: number): TilePlan {
  checkInt('planTiles', 'width', srcW, 1);
  checkInt('planTiles', 'height', srcH, 1);
  checkInt('planTiles', 'tile', tile, 1, 4096);
  checkInt('planTiles', 'maxPerSide', maxPerSide, 1, 16); // as an inspector config's maxTilesPerSide
  const long = Math.max(srcW, srcH);
  const short = Math.min(srcW, srcH);
  const maxAspect = Math.max(maxPerSide * maxPerSide, 16);
  if (long > maxAspect * short) {
    throw new AttnvisionError(`image is ${srcW}x${srcH} px: too thin to inspect (aspect ratio ${(long / short).toFixed(0)}:1; at most ${maxAspect}:1, which ${maxAspect} tiles cover)`);
  }
  const minSide = Math.ceil(tile / MAX_UPSCALE);
  if (short < minSide) throw new AttnvisionError(`image is ${srcW}x${srcH} px: too small to inspect (the shorter side must be at least ${minSide} px, 1/${MAX_UPSCALE} of the model's ${tile} px tile)`);
  let scale = Math.min(1, (maxPerSide * tile) / Math.max(srcW, srcH));
  if (Math.min(srcW, srcH) * scale < tile) scale = tile / Math.min(srcW, srcH);
  const width = Math.max(tile, Math.round(srcW * scale));
  const height = Math.max(tile, Math.round(srcH * scale));
  const cols = Math.ceil(width / tile);
  const rows = Math.ceil(height / tile);
  const xs = spread(cols, width, tile);
  const ys = spread(rows, height, tile);
  const origins = ys.flatMap((top) => xs.map((left) => ({ left, top })));
  return { width, height, rows, cols, tile, origins, scale };
}

/**
 * Native-scale detail tiles of an image the coverage plan (at most `coverPerSide` tiles per side)
 * downscales: up to `maxPerSide` x `maxPerSide` tiles at scale 1, spread evenly (first and last
 * touch the borders), origins in source pixels. Null when the coverage plan is already at native
 * scale or upscales. A detail grid smaller than the coverage grid must not change which images get
 * detail tiles: a 512 px image is covered at native scale by 5 x 5 tiles, so it gets none.
 */
export function planDetailTiles(srcW: number, srcH: number, tile: number, maxPerSide: number, coverPerSide: number): TilePlan | null {
  const cover = planTiles(srcW, srcH, tile, coverPerSide);
  if (cover.scale >= 1 || srcW < tile || srcH < tile) return null;
  const cols = Math.min(maxPerSide, Math.ceil(srcW / tile));
  const rows = Math.min(maxPerSide, Math.ceil(srcH / tile));
  const xs = spread(cols, srcW, tile);
  const ys = spread(rows, srcH, tile);
  return { width: srcW, height: srcH, rows, cols, tile, origins: ys.flatMap((top) => xs.map((left) => ({ left, top }))), scale: 1 };
}

/**
 * A second, finer coverage of an image the coverage plan (at most `coverPerSide` tiles per side)
 * downscales: the plan of at most `finePerSide` tiles per side (> coverPerSide), so the image is
 * downscaled less or not at all. Null when the coverage plan is already at native scale or
 * upscales, or when the finer plan would not be finer (an image so thin that one tile across its
 * short side sets the scale of both): then the coverage tiles are as fine as tiles get.
 */
export function planFineTiles(srcW: number, srcH: number, tile: number, finePerSide: number, coverPerSide: number): TilePlan | null {
  checkInt('planFineTiles', 'finePerSide', finePerSide, coverPerSide + 1, 16);
  const cover = planTiles(srcW, srcH, tile, coverPerSide);
  if (cover.scale >= 1) return null;
  const fine = planTiles(srcW, srcH, tile, finePerSide);
  return fine.scale > cover.scale ? fine : null;
}

/**
 * The detail tiles packed side by side into a cols*tile x rows*tile mosaic (row-major, as
 * `plan.origins`): for platforms that copy the tiles out one by one (the browser's canvas).
 */
export function mosaicPlan(plan: TilePlan): TilePlan {
  const T = plan.tile;
  return { ...plan, width: plan.cols * T, height: plan.rows * T, origins: plan.origins.map((_, i) => ({ left: (i % plan.cols) * T, top: Math.floor(i / plan.cols) * T })) };
}

/** `n` tile starts spread evenly over `size` px (centred when one). */
function spread(n: number, size: number, tile: number): number[] {
  return n === 1 ? [Math.floor((size - tile) / 2)] : Array.from({ length: n }, (_, i) => Math.round((i * (size - tile)) / (n - 1)));
}

/**
 * Display cells of a plan's tiles, in the coordinates of a `width` x `height` image (the source):
 * along each axis, cell edges lie halfway between neighbouring tile centres, and the outer cells
 * reach the image border, so the cells partition the image and each one is centred on its tile.
 */
export function tileCells(plan: TilePlan, width: number, height: number): TileCell[] {
  const edges = (starts: number[], resized: number, size: number) => {
    const f = size / resized;
    const centres = starts.map((s) => (s + plan.tile / 2) * f);
    return [0, ...centres.slice(1).map((c, i) => Math.round((centres[i]! + c) / 2)), size];
  };
  const xs = edges(plan.origins.slice(0, plan.cols).map((o) => o.left), plan.width, width);
  const ys = edges(plan.origins.filter((_, i) => i % plan.cols === 0).map((o) => o.top), plan.height, height);
  const cells: TileCell[] = [];
  for (let r = 0; r < plan.rows; r++) for (let c = 0; c < plan.cols; c++) cells.push({ left: xs[c]!, top: ys[r]!, width: xs[c + 1]! - xs[c]!, height: ys[r + 1]! - ys[r]! });
  return cells;
}
