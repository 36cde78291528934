/**
 * Attention maps as images: per-query attention (SAGAN / Non-local style: where does the query
 * position look?), pooling maps (GC), and attention rollout (Abnar & Zuidema 2020,
 * https://arxiv.org/abs/2005.00928: R = prod_l (0.5 A_l + 0.5 I), heads averaged) for stacks of
 * global attention layers over the same token grid. Rendered as PNG panels over the image.
 */
import sharp, { type OverlayOptions } from 'sharp';
import { ArgumentError } from '../util/errors.js';
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

function normalise(v: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = hi > lo ? (v[i]! - lo) / (hi - lo) : 0;
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
    return { maps: [{ title: `${title} (pooling weights)`, values: normalise(data.subarray(0, H * W)), rows: H, cols: W }] };
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
  const maps = [{ title: `${title} (query ${Math.round(query[0] * 100)}%,${Math.round(query[1] * 100)}%)`, values: normalise(a.subarray(qi * Nk, (qi + 1) * Nk)), rows: k[0], cols: k[1] }];
  return { maps, matrix: N === Nk ? { n: N, a } : undefined };
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
    const y = (Math.floor(sy / m) * m + Math.floor(k / m) + shiftH) % Hp;
    const x = (Math.floor(sx / m) * m + (k % m) + shiftW) % Wp;
    if (y < H && x < W) values[y * W + x] = a;
  }
  const shifted = shiftH || shiftW ? `, shifted windows` : '';
  return { title: `${title} (query ${Math.round(query[0] * 100)}%,${Math.round(query[1] * 100)}%${shifted})`, values: normalise(values), rows: H, cols: W };
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
  const meta = await sharp(image).rotate().metadata();
  const swap = (meta.orientation ?? 1) >= 5;
  const w = (swap ? meta.height : meta.width) ?? 1;
  const h = (swap ? meta.width : meta.height) ?? 1;
  const pw = panelWidth;
  const ph = Math.max(1, Math.round((h / w) * pw));
  const cap = 20;
  const base = await sharp(image).rotate().resize(pw, ph, { fit: 'fill' }).removeAlpha().png().toBuffer();
  const panels = [{ title: 'input', svg: '' }, ...maps.map((m) => {
    const cells: string[] = [];
    for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) {
      const v = m.values[i * m.cols + j]!;
      cells.push(`<rect x="${((j * pw) / m.cols).toFixed(2)}" y="${((i * ph) / m.rows).toFixed(2)}" width="${(pw / m.cols + 0.5).toFixed(2)}" height="${(ph / m.rows + 0.5).toFixed(2)}" fill="rgb(255,${Math.round(255 * (1 - v))},0)" fill-opacity="${(0.75 * v).toFixed(3)}"/>`);
    }
    return { title: m.title, svg: cells.join('') };
  })];
  const perRow = Math.min(4, panels.length);
  const W = perRow * pw;
  const H = Math.ceil(panels.length / perRow) * (ph + cap);
  const comps: OverlayOptions[] = [];
  panels.forEach((p, i) => {
    const left = (i % perRow) * pw;
    const top = Math.floor(i / perRow) * (ph + cap);
    comps.push({ input: base, left, top: top + cap });
    const t = p.title.replace(/[&<>"]/g, '');
    comps.push({ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${pw}" height="${ph + cap}"><rect width="${pw}" height="${cap}" fill="#222"/><text x="4" y="14" font-family="sans-serif" font-size="11" fill="#fff">${t.slice(0, 44)}</text><g transform="translate(0,${cap})">${p.svg}</g></svg>`), left, top });
  });
  await sharp({ create: { width: W, height: H, channels: 3, background: '#fff' } }).composite(comps).png().toFile(out);
}
