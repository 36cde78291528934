/**
 * SAGAN self-attention (Zhang et al. 2019, "Self-Attention Generative Adversarial Networks",
 * https://arxiv.org/abs/1805.08318), sec. 3.
 *
 * Equation: s_ij = f(x_i)^T g(x_j), beta_{j,i} = softmax_i(s_ij), o_j = v(sum_i beta_{j,i} h(x_i)),
 * y_i = gamma * o_i + x_i, with f, g, h: 1x1 convs C -> C/8 (the paper's C-bar = C/8), v: 1x1 conv
 * C/8 -> C, and a learnable scalar gamma initialised to 0 (a new block is the identity). All convs
 * are spectrally normalised by default (the paper applies SN to G and D), without bias as the
 * official TensorFlow code.
 *
 * Attention output: with `returnAttention`, beta [B, N, N] (row j = output position, columns i =
 * attended positions) of the last traced call is kept on `lastAttention`.
 */
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { Module, type Parameter } from '../nn/module.js';
import { Conv } from '../nn/layers/conv.js';
import { zeros } from '../nn/init.js';
import { checkInt } from '../util/errors.js';
import { SNConv } from './spectral_norm.js';

export interface SelfAttention2dOptions {
  /** Reduction ratio of f, g, h: C-bar = channels / rdRatio (default 8). */
  rdRatio?: number;
  /** C-bar, overriding rdRatio (default channels / 8). */
  rdChannels?: number;
  /** Spectral normalization on f, g, h, v (default true). */
  spectralNorm?: boolean;
  /** Keep beta of the last call on `lastAttention` (default false). */
  returnAttention?: boolean;
}

type Conv1x1 = Conv | SNConv;

export class SelfAttention2d extends Module {
  readonly rd: number;
  readonly f: Conv1x1;
  readonly g: Conv1x1;
  readonly h: Conv1x1;
  readonly v: Conv1x1;
  readonly gamma: Parameter;
  readonly returnAttention: boolean;
  /** beta [B, N, N] of the last traced call (only with returnAttention). */
  lastAttention: Tensor | null = null;
  constructor(
    readonly channels: number,
    opts: SelfAttention2dOptions = {},
  ) {
    super();
    checkInt('SelfAttention2d', 'channels', channels, 1);
    this.rd = checkInt('SelfAttention2d', 'rdChannels', opts.rdChannels ?? Math.max(1, Math.floor(channels / (opts.rdRatio ?? 8))), 1);
    const sn = opts.spectralNorm ?? true;
    const conv = (i: number, o: number): Conv1x1 => (sn ? new SNConv(i, o, 1, { bias: false }) : new Conv(i, o, 1, { bias: false }));
    this.f = this.addChild('f', conv(channels, this.rd));
    this.g = this.addChild('g', conv(channels, this.rd));
    this.h = this.addChild('h', conv(channels, this.rd));
    this.v = this.addChild('v', conv(this.rd, channels));
    this.gamma = this.addParam('gamma', [1], zeros, false);
    this.returnAttention = opts.returnAttention ?? false;
  }
  forward(x: Tensor): Tensor {
    const [B, , H, W] = x.shape as [number, number, number, number];
    const flat = (t: Tensor) => F.reshape(t, [B, this.rd, H * W]); // [B, C/8, N]
    const f = flat(this.f.call(x)); // [B, C/8, N]
    const g = flat(this.g.call(x)); // [B, C/8, N]
    const h = flat(this.h.call(x)); // [B, C/8, N]
    const s = F.matmul(F.transpose(g, [0, 2, 1]), f); // [B, N(j), N(i)]: s_ij
    const beta = F.softmax(s, -1); // softmax over i
    if (this.returnAttention) this.lastAttention = beta;
    const o = F.matmul(beta, F.transpose(h, [0, 2, 1])); // [B, N(j), C/8]
    const oImg = F.reshape(F.transpose(o, [0, 2, 1]), [B, this.rd, H, W]); // [B, C/8, H, W]
    const out = this.v.call(oImg); // [B, C, H, W]
    return F.add(F.mul(out, this.tensor(this.gamma)), x);
  }
}
