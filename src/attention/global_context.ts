/**
 * Global Context block (Cao et al. 2019, "GCNet: Non-local Networks Meet Squeeze-Excitation
 * Networks and Beyond", https://arxiv.org/abs/1904.11492), with the paper's simplified non-local
 * block as a variant.
 *
 * Equation (eq. 4): z_i = x_i + W_v2 ReLU(LN(W_v1 sum_j a_j x_j)),  a_j = softmax_j(W_k x_j)
 *   - context modelling: a 1x1 conv W_k (C -> 1, with bias) gives one map, softmax over H*W
 *     ("attention pooling"), and the attention-weighted sum of features [B, C, 1, 1];
 *   - transform (variant 'gc'): bottleneck 1x1 conv C -> C/r, LayerNorm over [C/r, 1, 1], ReLU,
 *     1x1 conv C/r -> C (the last conv zero-initialised, so a new block is the identity);
 *   - fusion: broadcast add.
 * Variant 'snl' (simplified non-local, eq. 3): z_i = x_i + W_v sum_j a_j x_j with one 1x1 conv
 * W_v: C -> C (zero-initialised).
 * State-dict names follow the official implementation (mmcv ContextBlock): `conv_mask`,
 * `channel_add_conv.{0,1,3}`.
 *
 * Attention output: with `returnAttention`, the pooling weights a [B, 1, H, W] of the last traced
 * call are kept on `lastAttention`.
 */
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { Module } from '../nn/module.js';
import { Conv } from '../nn/layers/conv.js';
import { LayerNorm } from '../nn/layers/norm.js';
import { ReLU, Sequential } from '../nn/layers/basic.js';
import { kaimingNormal, zeros } from '../nn/init.js';
import { invalidArg } from '../util/errors.js';
import { reducedChannels } from './squeeze_excite.js';

export interface GlobalContextOptions {
  /** Bottleneck ratio r of the 'gc' transform: hidden = round(channels / r) (default 16). */
  rdRatio?: number;
  /** Hidden channels, overriding rdRatio (default: from rdRatio). */
  rdChannels?: number;
  /** 'gc' (bottleneck + LayerNorm) or 'snl' (simplified non-local: one C -> C conv) (default 'gc'). */
  variant?: 'gc' | 'snl';
  /** Keep the pooling weights of the last call on `lastAttention` (default false). */
  returnAttention?: boolean;
}

export class GlobalContext extends Module {
  readonly convMask: Conv;
  readonly channelAddConv: Sequential;
  readonly variant: 'gc' | 'snl';
  readonly returnAttention: boolean;
  /** Attention-pooling weights [B, 1, H, W] of the last traced call (only with returnAttention). */
  lastAttention: Tensor | null = null;
  constructor(
    readonly channels: number,
    opts: GlobalContextOptions = {},
  ) {
    super();
    this.variant = opts.variant ?? 'gc';
    if (this.variant !== 'gc' && this.variant !== 'snl') invalidArg('GlobalContext', 'variant', "'gc' or 'snl'", this.variant);
    const rd = reducedChannels('GlobalContext', channels, opts.rdRatio ?? 16, opts.rdChannels);
    this.convMask = this.addChild('conv_mask', new Conv(channels, 1, 1, { weightInit: kaimingNormal('fan_in') }));
    const last = { weightInit: zeros, biasInit: zeros };
    this.channelAddConv = this.addChild(
      'channel_add_conv',
      this.variant === 'gc'
        ? new Sequential(new Conv(channels, rd, 1), new LayerNorm([rd, 1, 1]), ReLU(), new Conv(rd, channels, 1, last))
        : new Sequential(new Conv(channels, channels, 1, last)),
    );
    this.returnAttention = opts.returnAttention ?? false;
  }
  forward(x: Tensor): Tensor {
    const [B, C, H, W] = x.shape as [number, number, number, number];
    const logits = F.reshape(this.convMask.call(x), [B, 1, H * W]); // [B, 1, HW]
    const a = F.softmax(logits, -1); // [B, 1, HW]
    if (this.returnAttention) this.lastAttention = F.reshape(a, [B, 1, H, W]);
    const xs = F.reshape(x, [B, C, H * W]); // [B, C, HW]
    const context = F.reshape(F.matmul(xs, F.transpose(a, [0, 2, 1])), [B, C, 1, 1]); // [B, C, HW] x [B, HW, 1] -> [B, C, 1, 1]
    return F.add(x, this.channelAddConv.call(context));
  }
}
