/**
 * Squeeze-and-Excitation (Hu et al. 2018, "Squeeze-and-Excitation Networks",
 * https://arxiv.org/abs/1709.01507).
 *
 * Equation (eq. 2-4): s = sigmoid(W2 relu(W1 z)), z_c = mean_{h,w} x_c, y_c = s_c * x_c, with
 * W1: C -> C/r and W2: C/r -> C (1x1 convolutions with bias, as torchvision's SqueezeExcitation and
 * timm's SEModule, state-dict names `fc1`, `fc2`).
 *
 * Attention output: with `returnAttention`, the channel weights s [B, C, 1, 1] (or [B, C, 1, 1, 1]
 * for video) of the last traced call are kept on `lastAttention`.
 */
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { Module } from '../nn/module.js';
import { Conv } from '../nn/layers/conv.js';
import { checkInt, checkNumber } from '../util/errors.js';

/** Hidden width of a bottleneck: explicit `rdChannels`, else round(channels / rdRatio) (>= 1). */
export function reducedChannels(where: string, channels: number, rdRatio: number, rdChannels?: number): number {
  checkInt(where, 'channels', channels, 1);
  if (rdChannels !== undefined) return checkInt(where, 'rdChannels', rdChannels, 1);
  checkNumber(where, 'rdRatio', rdRatio, 1e-6);
  return Math.max(1, Math.round(channels / rdRatio));
}

export interface SqueezeExciteOptions {
  /** Reduction ratio r: hidden channels = round(channels / r) (default 16). */
  rdRatio?: number;
  /** Hidden channels, overriding rdRatio (default: from rdRatio). */
  rdChannels?: number;
  /** Spatial dims of the input, 2 for [B, C, H, W] or 3 for [B, C, T, H, W] (default 2). */
  dims?: 2 | 3;
  /** Keep the channel weights of the last call on `lastAttention` (default false). */
  returnAttention?: boolean;
}

export class SqueezeExcite extends Module {
  readonly fc1: Conv;
  readonly fc2: Conv;
  readonly returnAttention: boolean;
  /** Channel weights [B, C, 1, 1] of the last traced call (only with returnAttention). */
  lastAttention: Tensor | null = null;
  constructor(
    readonly channels: number,
    opts: SqueezeExciteOptions = {},
  ) {
    super();
    const rd = reducedChannels('SqueezeExcite', channels, opts.rdRatio ?? 16, opts.rdChannels);
    const dims = opts.dims ?? 2;
    this.fc1 = this.addChild('fc1', new Conv(channels, rd, 1, { dims }));
    this.fc2 = this.addChild('fc2', new Conv(rd, channels, 1, { dims }));
    this.returnAttention = opts.returnAttention ?? false;
  }
  forward(x: Tensor): Tensor {
    const z = F.globalAvgPool(x, true); // [B, C, 1, 1]
    const s = F.sigmoid(this.fc2.call(F.relu(this.fc1.call(z)))); // [B, C, 1, 1]
    if (this.returnAttention) this.lastAttention = s;
    return F.mul(x, s);
  }
}
