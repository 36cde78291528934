/**
 * Attention maps as images: per-query attention (SAGAN / Non-local style: where does the query
 * position look?), pooling maps (GC), and attention rollout (Abnar & Zuidema 2020,
 * https://arxiv.org/abs/2005.00928: R = prod_l (0.5 A_l + 0.5 I), heads averaged) for stacks of
 * global attention layers over the same token grid, and for hierarchical window attention (Swin):
 * the window matrices of a stage act as one block-sparse matrix on the (unshifted) token grid, and
 * patch merging maps each coarse token back to the 2 x 2 fine tokens it was made of, so the rollout
 * runs from the last stage down to the first stage's grid (`windowRollout`). Rendered as PNG panels
 * over the image.
 */
import sharp, { type OverlayOptions } from 'sharp';
import { ArgumentError } from '../util/errors.js';
import { DECODE_TIMEOUT_SECONDS, openImagePipeline } from '../image/io.js';
import { panelSize } from '../image/panel.js';
import { writeFileAtomic } from '../util/fs.js';
import type { WindowLayout } from './window_attention.js';

export interface AttentionMap {
  title: string;
  /** Grid values in [0, 1] (normalised for display), row-major. */
  values: Float32Array;
  rows: number;
  cols: number;
}

/** Factors n into rows x cols closest to the image aspect ratio (rows / cols ~ h / w). */
export function gridFor(n: number, aspect: number): [number, number] | null {
  let best: [number, number] | null = null;
  for (let r = 1; r <= n; r++) {
    if (n % r) continue;
    const c = n / r;
    if (!best || Math.abs(Math.log(r / c / aspect)) < Math.abs(Math.log(best[0] / best[1] / aspect))) best = [r, c];
  }
  return best;
}

/**
 * Scales values to [0, 1] for display (min -> 0, max -> 1). A constant positive map (a window or
 * stage of one token, attention spread evenly) is all 1, shown as uniform attention rather than
 * as a blank panel; an all-zero map stays 0.
 */
export function normaliseMap(v: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = hi > lo ? (v[i]! - lo) / (hi - lo) : hi > 0 ? 1 : 0;
  return out;
}

/**
 * Builds display maps from raw attention outputs. `shape` is the tensor shape; supported:
 * [B, 1, H, W] pooling weights, [B, N, N'] and [B, h, N, N'] pairwise weights (batch item 0).
 * `query` is the query position as fractions (x, y) of the image.
 */
export function mapsFromAttention(title: string, data: Float32Array, shape: readonly number[], aspect: number, query: [number, number]): { maps: AttentionMap[]; matrix?: { n: number; a: Float32Array } } {
  if (shape.length === 4 && shape[1] === 1) {
    const [, , H, W] = shape as [number, number, number, number];
    return { maps: [{ title: `${title} (pooling weights)`, values: normaliseMap(data.subarray(0, H * W)), rows: H, cols: W }] };
  }
  let heads = 1;
  let N: number;
  let Nk: number;
  if (shape.length === 3) [, N, Nk] = shape as [number, number, number];
  else if (shape.length === 4) [, heads, N, Nk] = shape as [number, number, number, number];
  else return { maps: [] };
  const q = gridFor(N, aspect);
  const k = gridFor(Nk, aspect);
  if (!q || !k) return { maps: [] };
  // Average over heads: [N, Nk]
  const a = new Float32Array(N * Nk);
  for (let h = 0; h < heads; h++) for (let i = 0; i < N * Nk; i++) a[i]! += data[h * N * Nk + i]! / heads;
  const qi = Math.min(q[0] - 1, Math.floor(query[1] * q[0])) * q[1] + Math.min(q[1] - 1, Math.floor(query[0] * q[1]));
  const maps = [{ title: `${title} (query ${Math.round(query[0] * 100)}%,${Math.round(query[1] * 100)}%)`, values: normaliseMap(a.subarray(qi * Nk, (qi + 1) * Nk)), rows: k[0], cols: k[1] }];
  return { maps, matrix: N === Nk ? { n: N, a } : undefined };
}

/**
 * Original grid index (row-major on H x W) of position `local` in window `win` of the rolled,
 * padded grid, or -1 for padding. The block rolls the grid by -shift before partitioning, so
 * rolled y' is original (y' + shift) mod Hp.
 */
function windowGridIndex(layout: WindowLayout, win: number, local: number): number {
  const { height: H, width: W, paddedHeight: Hp, paddedWidth: Wp, window: m, shiftH, shiftW } = layout;
  const y = (Math.floor(win / (Wp / m)) * m + Math.floor(local / m) + shiftH) % Hp;
  const x = ((win % (Wp / m)) * m + (local % m) + shiftW) % Wp;
  return y < H && x < W ? y * W + x : -1;
}

/**
 * Per-query map of window attention (Swin W-MSA / SW-MSA) over the whole token grid. `data` is
 * [B * nW, heads, M*M, M*M] (batch item 0 used); the query token (fractions of the grid) is found in
 * the shifted, padded grid, its window's row is averaged over heads, and every key is put back at
 * its unshifted grid position. Keys outside the query's window get 0: they are not attended to.
 */
export function windowQueryMap(title: string, data: Float32Array, shape: readonly number[], layout: WindowLayout, query: [number, number]): AttentionMap {
  const { height: H, width: W, paddedHeight: Hp, paddedWidth: Wp, window: m, shiftH, shiftW } = layout;
  const [, heads, n] = shape as [number, number, number, number];
  if (n !== m * m || shape[3] !== n) throw new ArgumentError(`${title}: window attention of shape [${shape.join(', ')}] does not match window ${m}`);
  const nw = Wp / m;
  const qy = Math.min(H - 1, Math.floor(query[1] * H));
  const qx = Math.min(W - 1, Math.floor(query[0] * W));
  // The block rolls the grid by -shift before partitioning: original y sits at (y - shift) mod Hp.
  const sy = (qy - shiftH + Hp) % Hp;
  const sx = (qx - shiftW + Wp) % Wp;
  const win = Math.floor(sy / m) * nw + Math.floor(sx / m);
  const qi = (sy % m) * m + (sx % m);
  const values = new Float32Array(H * W);
  for (let k = 0; k < n; k++) {
    let a = 0;
    for (let h = 0; h < heads; h++) a += data[((win * heads + h) * n + qi) * n + k]! / heads;
    const g = windowGridIndex(layout, win, k);
    if (g >= 0) values[g] = a;
  }
  const shifted = shiftH || shiftW ? `, shifted windows` : '';
  return { title: `${title} (query ${Math.round(query[0] * 100)}%,${Math.round(query[1] * 100)}%${shifted})`, values: normaliseMap(values), rows: H, cols: W };
}

/** One captured window-attention layer: [B * nW, heads, M*M, M*M] weights (batch item 0 used) and its layout. */
export interface WindowLayer {
  data: Float32Array;
  shape: readonly number[];
  layout: WindowLayout;
}

/**
 * Visits the nonzero entries of a window layer as one matrix on the unshifted H x W grid:
 * `visit(query, key, weight)` with grid indices and the head-averaged weight. Padding tokens are skipped.
 */
function forEachWindowEntry(l: WindowLayer, visit: (q: number, k: number, a: number) => void): void {
  const { paddedHeight: Hp, paddedWidth: Wp, window: m } = l.layout;
  const [B, heads, n] = l.shape as [number, number, number, number];
  const nw = (Hp / m) * (Wp / m);
  if (n !== m * m || l.shape[3] !== n || B < nw || B % nw !== 0) throw new ArgumentError(`window attention of shape [${l.shape.join(', ')}] does not match window ${m} on a ${Hp}x${Wp} grid`);
  for (let w = 0; w < nw; w++) {
    for (let qi = 0; qi < n; qi++) {
      const q = windowGridIndex(l.layout, w, qi);
      if (q < 0) continue;
      for (let ki = 0; ki < n; ki++) {
        const k = windowGridIndex(l.layout, w, ki);
        if (k < 0) continue;
        let a = 0;
        for (let h = 0; h < heads; h++) a += l.data[((w * heads + h) * n + qi) * n + ki]! / heads;
        visit(q, k, a);
      }
    }
  }
}

/**
 * Attention rollout through hierarchical window attention (Swin): returns u^T R, where R is the
 * product, last layer first, of A' = rownorm(0.5 A + 0.5 I) for every window layer (A on the
 * unshifted grid, padding dropped) and, between stages, the patch-merging matrix that gives each
 * fine token of a 2 x 2 group its coarse token's weight. `u` is a distribution over the last
 * layer's tokens (default uniform: what the pooled output draws from); the result is a
 * distribution over the first layer's tokens (rows x cols of its grid). Computed as vector-matrix
 * products on the window structure, never as dense N x N matrices.
 */
export function windowRollout(layers: readonly WindowLayer[], u?: Float32Array): { values: Float32Array; rows: number; cols: number } {
  if (!layers.length) throw new ArgumentError('windowRollout: no window attention layers');
  const last = layers[layers.length - 1]!.layout;
  let v = u ? Float32Array.from(u) : new Float32Array(last.height * last.width).fill(1 / (last.height * last.width));
  if (v.length !== last.height * last.width) throw new ArgumentError(`windowRollout: expected ${last.height * last.width} query weights but received ${v.length}`);
  for (let li = layers.length - 1; li >= 0; li--) {
    const l = layers[li]!;
    const { height: H, width: W } = l.layout;
    if (v.length !== H * W) {
      // Patch merging from this layer's grid (fine) to the next layer's (coarse): coarse (y, x) <- fine (2y..2y+1, 2x..2x+1).
      const next = layers[li + 1]!.layout;
      if (Math.ceil(H / 2) !== next.height || Math.ceil(W / 2) !== next.width) throw new ArgumentError(`windowRollout: layer ${li} grid ${H}x${W} does not merge 2x2 into layer ${li + 1} grid ${next.height}x${next.width}`);
      const fine = new Float32Array(H * W);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        const cy = y >> 1;
        const cx = x >> 1;
        const children = (Math.min(H, 2 * cy + 2) - 2 * cy) * (Math.min(W, 2 * cx + 2) - 2 * cx);
        fine[y * W + x] = v[cy * next.width + cx]! / children;
      }
      v = fine;
    }
    // Row sums of 0.5 A + 0.5 I over the valid keys, then out_k = sum_q v_q A'[q, k].
    const rowSum = new Float32Array(H * W).fill(0.5);
    forEachWindowEntry(l, (q, _k, a) => (rowSum[q]! += 0.5 * a));
    const out = new Float32Array(H * W);
    for (let q = 0; q < H * W; q++) out[q] = (0.5 * v[q]!) / rowSum[q]!;
    forEachWindowEntry(l, (q, k, a) => (out[k]! += (v[q]! * 0.5 * a) / rowSum[q]!));
    v = out;
  }
  const first = layers[0]!.layout;
  return { values: v, rows: first.height, cols: first.width };
}

/** Attention rollout over square attention matrices of equal size (in layer order). */
export function rollout(mats: Float32Array[], n: number): Float32Array {
  let r = new Float32Array(n * n);
  for (let i = 0; i < n; i++) r[i * n + i] = 1;
  for (const a of mats) {
    // A' = 0.5 A + 0.5 I, rows renormalised; R = A' R
    const ap = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += ap[i * n + j] = 0.5 * a[i * n + j]! + (i === j ? 0.5 : 0);
      for (let j = 0; j < n; j++) ap[i * n + j]! /= s;
    }
    const next = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) {
      const v = ap[i * n + k]!;
      if (!v) continue;
      for (let j = 0; j < n; j++) next[i * n + j]! += v * r[k * n + j]!;
    }
    r = next;
  }
  return r;
}

/** Renders the input and one overlay panel per map into a PNG grid. */
export async function renderAttentionPng(image: string | Buffer, maps: AttentionMap[], out: string, panelWidth = 256): Promise<void> {
  const { img, width: w, height: h } = await openImagePipeline(image, { failOn: 'error' });
  // Tall images get narrower panels (aspect kept, image/panel.ts); cells stay wide enough for a title.
  const { pw, ph } = panelSize(w, h, panelWidth);
  const cellW = Math.max(pw, 160);
  const cap = 20;
  const base = await img.resize(pw, ph, { fit: 'fill' }).flatten({ background: '#ffffff' }).timeout({ seconds: DECODE_TIMEOUT_SECONDS }).png().toBuffer();
  const panels = [{ title: 'input', svg: '' }, ...maps.map((m) => {
    const cells: string[] = [];
    for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) {
      const v = m.values[i * m.cols + j]!;
      cells.push(`<rect x="${((j * pw) / m.cols).toFixed(2)}" y="${((i * ph) / m.rows).toFixed(2)}" width="${(pw / m.cols + 0.5).toFixed(2)}" height="${(ph / m.rows + 0.5).toFixed(2)}" fill="rgb(255,${Math.round(255 * (1 - v))},0)" fill-opacity="${(0.75 * v).toFixed(3)}"/>`);
    }
    return { title: m.title, svg: cells.join('') };
  })];
  const perRow = Math.min(4, panels.length);
  const W = perRow * cellW;
  const H = Math.ceil(panels.length / perRow) * (ph + cap);
  const comps: OverlayOptions[] = [];
  panels.forEach((p, i) => {
    const left = (i % perRow) * cellW;
    const top = Math.floor(i / perRow) * (ph + cap);
    comps.push({ input: base, left, top: top + cap });
    const t = p.title.replace(/[&<>"]/g, '');
    comps.push({ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${cellW}" height="${ph + cap}"><rect width="${cellW}" height="${cap}" fill="#222"/><text x="4" y="14" font-family="sans-serif" font-size="11" fill="#fff">${t.slice(0, 44)}</text><g transform="translate(0,${cap})">${p.svg}</g></svg>`), left, top });
  });
  await writeFileAtomic(out, await sharp({ create: { width: W, height: H, channels: 3, background: '#fff' } }).composite(comps).png().toBuffer());
}
