/**
 * Patchwise self-attention of SAN (Zhao, Jia, Koltun 2020, "Exploring Self-attention for Image
 * Recognition", https://arxiv.org/abs/2004.13621, section 3.2, eq. 4):
 *
 *   y_i = sum_{j in R(i)} alpha(x_R(i))_j (.) beta(x_j),   alpha(x_R(i)) = gamma(delta(x_R(i)))
 *
 * The weight for position j depends on the whole footprint, not only on the pair (i, j). gamma is
 * BN-ReLU-1x1 conv-BN-ReLU-1x1 conv (official `conv_w`) producing k*k * out/share weights per
 * position (channel c * k*k + j, as the official `view`), shared by groups of `share` channels; no
 * softmax (as the official code). Relation functions delta (section 3.2):
 *   star-product   [phi(x_i)^T psi(x_j)]_{for all j}            -> k*k channels
 *   clique-product [phi(x_j)^T psi(x_k)]_{for all j, k}         -> k^4 channels
 *   concatenation  [phi(x_i), psi(x_j)]_{for all j}             -> rel * (k*k + 1) channels (official SAN)
 *
 * Memory per call (floats): neighbours of psi B*rel*K*H*W (clique: also phi's, and the
 * B*K*K*H*W products), gamma input/hidden as above, weights B*Cw*K*H*W, plus one footprint row of
 * the aggregation (san_aggregation.ts). Reflection padding, stride 1 only.
 */
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { Module } from '../nn/module.js';
import { Conv } from '../nn/layers/conv.js';
import { checkInt, invalidArg } from '../util/errors.js';
import { aggregate, aggregationMacs, neighbours } from './san_aggregation.js';
import { gammaMlp } from './san_pairwise.js';
import type { Sequential } from '../nn/layers/basic.js';

export type PatchwiseRelation = 'star' | 'clique' | 'concatenation';

export interface PatchwiseOptions {
  /** Relation function delta (default 'concatenation', the official SAN models). */
  relation?: PatchwiseRelation;
  /** Footprint size k, odd (default 7). */
  kernelSize?: number;
  /** Output channels sharing one attention weight (default 8). */
  shareChannels?: number;
  /** Keep the weights [B, out/share, k*k, H, W] of the last traced call in `lastAttention` (default false). */
  returnAttention?: boolean;
}

export class PatchwiseSelfAttention extends Module {
  readonly conv1: Conv;
  readonly conv2: Conv;
  readonly conv3: Conv;
  readonly convW: Sequential;
  readonly relation: PatchwiseRelation;
  readonly kernelSize: number;
  readonly weightChannels: number;
  readonly returnAttention: boolean;
  /** Attention weights [B, out/share, k*k, H, W] of the last traced call (with `returnAttention`). */
  lastAttention: Tensor | null = null;
  /** Multiply-adds of the aggregation in the last traced call (not visible to `countFlops`). */
  lastAggregationMacs = 0;
  /** Elementwise relation ops of the last traced call (counted as the paper's `Subtraction` modules). */
  lastRelationOps = 0;

  constructor(
    readonly inChannels: number,
    readonly relChannels: number,
    readonly outChannels: number,
    opts: PatchwiseOptions = {},
  ) {
    super();
    this.relation = opts.relation ?? 'concatenation';
    if (!['star', 'clique', 'concatenation'].includes(this.relation)) invalidArg('PatchwiseSelfAttention', 'relation', 'star | clique | concatenation', this.relation);
    this.kernelSize = checkInt('PatchwiseSelfAttention', 'kernelSize', opts.kernelSize ?? 7, 1);
    if (this.kernelSize % 2 === 0) invalidArg('PatchwiseSelfAttention', 'kernelSize', 'an odd number', this.kernelSize);
    const share = checkInt('PatchwiseSelfAttention', 'shareChannels', opts.shareChannels ?? 8, 1);
    if (outChannels % share) invalidArg('PatchwiseSelfAttention', 'shareChannels', `a divisor of outChannels ${outChannels}`, share);
    this.weightChannels = outChannels / share;
    this.returnAttention = opts.returnAttention ?? false;
    const K = this.kernelSize ** 2;
    this.conv1 = this.addChild('conv1', new Conv(inChannels, relChannels, 1));
    this.conv2 = this.addChild('conv2', new Conv(inChannels, relChannels, 1));
    this.conv3 = this.addChild('conv3', new Conv(inChannels, outChannels, 1));
    const gammaIn = this.relation === 'concatenation' ? relChannels * (K + 1) : this.relation === 'star' ? K : K * K;
    this.convW = this.addChild('conv_w', gammaMlp(gammaIn, this.weightChannels, K * this.weightChannels));
  }

  /** x: [B, C, H, W] -> [B, out, H, W]. */
  forward(x: Tensor): Tensor {
    const [B, , H, W] = x.shape as [number, number, number, number];
    const k = this.kernelSize;
    const K = k * k;
    const rel = this.relChannels;
    const phi = this.conv1.call(x); // [B, rel, H, W]
    const psiN = neighbours(this.conv2.call(x), k); // [B, rel, K, H, W]
    let d: Tensor;
    if (this.relation === 'concatenation') {
      d = F.concat([phi, F.reshape(psiN, [B, rel * K, H, W])], 1); // [B, rel*(K+1), H, W]
    } else if (this.relation === 'star') {
      d = F.reduceSum(F.mul(F.unsqueeze(phi, 2), psiN), 1); // [B, K, H, W]
    } else {
      const a = F.transpose(F.reshape(neighbours(phi, k), [B, rel, K, H * W]), [0, 3, 2, 1]); // [B, HW, K, rel]
      const b = F.transpose(F.reshape(psiN, [B, rel, K, H * W]), [0, 3, 1, 2]); // [B, HW, rel, K]
      d = F.reshape(F.transpose(F.matmul(a, b), [0, 2, 3, 1]), [B, K * K, H, W]); // [B, K*K (j-major), H, W]
    }
    const w = F.reshape(this.convW.call(d), [B, this.weightChannels, K, H, W]); // [B, Cw, K, H, W]
    this.lastAttention = this.returnAttention ? w : null;
    const v = this.conv3.call(x); // [B, out, H, W]
    this.lastAggregationMacs = aggregationMacs(v.shape, k);
    return aggregate(v, w, k);
  }
}
