/**
 * Window multi-head self-attention with relative position bias, plain (W-MSA) and shifted (SW-MSA).
 *
 * Paper: Liu et al. 2021, "Swin Transformer: Hierarchical Vision Transformer using Shifted Windows",
 * https://arxiv.org/abs/2103.14030 (section 3.2, eq. 4):
 *
 *   Attention(Q, K, V) = SoftMax(Q K^T / sqrt(d) + B) V,   B = table[index] in R^{M^2 x M^2} per head
 *
 * computed independently inside non-overlapping M x M windows. For SW-MSA the feature map is
 * cyclically shifted by floor(M/2) towards the top-left before partitioning; tokens of a window that
 * came from different image regions are kept apart with an additive mask of -100 (the reference
 * value), and the result is shifted back.
 *
 * Matches torchvision's `shifted_window_attention` (torchvision 0.14): the input [B, H, W, C] is
 * zero-padded at the bottom/right to a multiple of the window, the shift is disabled along an axis
 * whose padded size is <= the window, and the output is cropped back to H x W.
 *
 * Caveats: the relative position index and the shift mask are graph constants (not buffers), so
 * torchvision/timm `relative_position_index` / `attn_mask` buffers are dropped when loading
 * checkpoints. Attention dropout is not implemented (Swin trains with 0).
 */
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { Module, type Parameter } from '../nn/module.js';
import { Linear } from '../nn/layers/linear.js';
import { truncNormal, zeros, type Initializer } from '../nn/init.js';
import { checkInt, invalidArg } from '../util/errors.js';

export interface WindowAttentionOptions {
  /** Window size M (square windows; default 7). */
  windowSize?: number;
  /** Cyclic shift; 0 = W-MSA, windowSize/2 = SW-MSA (default 0). */
  shiftSize?: number;
  /** Learn a bias in the qkv projection (default true). */
  qkvBias?: boolean;
  /** Initializer of the Linear weights (default truncated normal, std 0.02, as Swin). */
  weightInit?: Initializer;
  /**
   * Keep the attention probabilities of the last traced call in `lastAttention`, shape
   * [B * nW, heads, M*M, M*M] (default false).
   */
  returnAttention?: boolean;
}

/** index[i * N + j] into the (2M-1)^2 bias table for window tokens i, j (N = M*M), torchvision order. */
export function relativePositionIndex(m: number): number[] {
  const n = m * m;
  const idx = new Array<number>(n * n);
  for (let i = 0; i < n; i++) {
    const [hi, wi] = [Math.floor(i / m), i % m];
    for (let j = 0; j < n; j++) {
      const [hj, wj] = [Math.floor(j / m), j % m];
      idx[i * n + j] = (hi - hj + m - 1) * (2 * m - 1) + (wi - wj + m - 1);
    }
  }
  return idx;
}

/**
 * The SW-MSA mask [nW, N, N] (0 within a region, -100 across regions) for a padded map Hp x Wp,
 * window m and per-axis shifts (sh, sw), as torchvision builds it.
 */
export function shiftWindowMask(hp: number, wp: number, m: number, sh: number, sw: number): Float32Array {
  const region = (p: number, size: number, s: number): number => (p < size - m ? 0 : p < size - s ? 1 : 2);
  const label = new Int32Array(hp * wp);
  for (let y = 0; y < hp; y++) for (let x = 0; x < wp; x++) label[y * wp + x] = (sh ? region(y, hp, sh) : 0) * 3 + (sw ? region(x, wp, sw) : 0);
  const nh = hp / m;
  const nw = wp / m;
  const n = m * m;
  const out = new Float32Array(nh * nw * n * n);
  for (let a = 0; a < nh; a++) {
    for (let b = 0; b < nw; b++) {
      const base = (a * nw + b) * n * n;
      const lab = (t: number) => label[(a * m + Math.floor(t / m)) * wp + b * m + (t % m)]!;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[base + i * n + j] = lab(i) === lab(j) ? 0 : -100;
    }
  }
  return out;
}

/** Where the windows of a captured attention tensor lie on the token grid (for visualisation). */
export interface WindowLayout {
  /** Token grid before padding. */
  height: number;
  width: number;
  /** Grid after bottom/right padding to a multiple of the window. */
  paddedHeight: number;
  paddedWidth: number;
  /** Window side M. */
  window: number;
  /** Cyclic shift towards the top-left applied before partitioning, per axis. */
  shiftH: number;
  shiftW: number;
}

/** Largest window side (tokens per window side). */
export const MAX_WINDOW_SIZE = 64;

export class WindowAttention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly relativePositionBiasTable: Parameter;
  readonly windowSize: number;
  readonly shiftSize: number;
  readonly returnAttention: boolean;
  /** Attention probabilities [B * nW, heads, M*M, M*M] of the last traced call (with `returnAttention`). */
  lastAttention: Tensor | null = null;
  /** The window layout of `lastAttention`. */
  lastWindowLayout: WindowLayout | null = null;
  private readonly index: number[];

  constructor(
    readonly dim: number,
    readonly heads: number,
    opts: WindowAttentionOptions = {},
  ) {
    super();
    checkInt('WindowAttention', 'dim', dim, 1);
    checkInt('WindowAttention', 'heads', heads, 1);
    if (dim % heads) invalidArg('WindowAttention', 'heads', `a divisor of dim ${dim}`, heads);
    // The relative-position index has (M*M)^2 entries: M = 64 is 16.8 M (Swin uses 7-12); M = 200
    // would be 1.6e9 and exhaust the heap before any shape is known.
    this.windowSize = checkInt('WindowAttention', 'windowSize', opts.windowSize ?? 7, 1, MAX_WINDOW_SIZE);
    this.shiftSize = checkInt('WindowAttention', 'shiftSize', opts.shiftSize ?? 0, 0, this.windowSize - 1);
    this.returnAttention = opts.returnAttention ?? false;
    const init = opts.weightInit ?? truncNormal(0.02);
    this.qkv = this.addChild('qkv', new Linear(dim, 3 * dim, { bias: opts.qkvBias ?? true, weightInit: init, biasInit: zeros }));
    this.proj = this.addChild('proj', new Linear(dim, dim, { weightInit: init, biasInit: zeros }));
    const t = 2 * this.windowSize - 1;
    this.relativePositionBiasTable = this.addParam('relative_position_bias_table', [t * t, heads], truncNormal(0.02), false);
    this.index = relativePositionIndex(this.windowSize);
  }

  /** The bias B [1, heads, N, N] gathered from the table. */
  relativePositionBias(): Tensor {
    const n = this.windowSize * this.windowSize;
    const b = F.gather(this.tensor(this.relativePositionBiasTable), F.constantI64(this.index), 0); // [N*N, heads]
    return F.unsqueeze(F.transpose(F.reshape(b, [n, n, this.heads]), [2, 0, 1]), 0); // [1, heads, N, N]
  }

  /** x: [B, H, W, C] -> [B, H, W, C]. */
  forward(x: Tensor): Tensor {
    const [B, H, W, C] = x.shape as [number, number, number, number];
    if (C !== this.dim) invalidArg(this.path || 'WindowAttention', 'input channels', String(this.dim), C);
    const m = this.windowSize;
    const padB = (m - (H % m)) % m;
    const padR = (m - (W % m)) % m;
    let y = padB || padR ? F.pad(x, [0, 0, 0, 0, 0, padB, padR, 0]) : x; // [B, Hp, Wp, C]
    const Hp = H + padB;
    const Wp = W + padR;
    const sh = m >= Hp ? 0 : this.shiftSize;
    const sw = m >= Wp ? 0 : this.shiftSize;
    if (sh || sw) y = F.roll(y, [-sh, -sw], [1, 2]);
    const nh = Hp / m;
    const nw = Wp / m;
    const nW = nh * nw;
    const n = m * m;
    const hd = C / this.heads;
    y = F.reshape(F.transpose(F.reshape(y, [B, nh, m, nw, m, C]), [0, 1, 3, 2, 4, 5]), [B * nW, n, C]); // [B*nW, N, C]
    const qkv = F.transpose(F.reshape(this.qkv.call(y), [B * nW, n, 3, this.heads, hd]), [2, 0, 3, 1, 4]); // [3, B*nW, heads, N, hd]
    const [q, k, v] = F.split(qkv, 3, 0).map((t) => F.squeeze(t, 0)) as [Tensor, Tensor, Tensor]; // [B*nW, heads, N, hd]
    let attn = F.matmul(F.mul(q, hd ** -0.5), F.transpose(k, [0, 1, 3, 2])); // [B*nW, heads, N, N]
    attn = F.add(attn, this.relativePositionBias());
    if (sh || sw) {
      const mask = F.constantF32(shiftWindowMask(Hp, Wp, m, sh, sw), [1, nW, 1, n, n]);
      attn = F.reshape(F.add(F.reshape(attn, [B, nW, this.heads, n, n]), mask), [B * nW, this.heads, n, n]); // [B*nW, heads, N, N]
    }
    attn = F.softmax(attn, -1);
    this.lastAttention = this.returnAttention ? attn : null;
    this.lastWindowLayout = this.returnAttention ? { height: H, width: W, paddedHeight: Hp, paddedWidth: Wp, window: m, shiftH: sh, shiftW: sw } : null;
    let out = F.reshape(F.transpose(F.matmul(attn, v), [0, 2, 1, 3]), [B * nW, n, C]); // [B*nW, N, C]
    out = this.proj.call(out);
    out = F.reshape(F.transpose(F.reshape(out, [B, nh, nw, m, m, C]), [0, 1, 3, 2, 4, 5]), [B, Hp, Wp, C]); // [B, Hp, Wp, C]
    if (sh || sw) out = F.roll(out, [sh, sw], [1, 2]);
    return padB || padR ? F.slice(out, [0, 0], [H, W], [1, 2]) : out; // [B, H, W, C]
  }
}
