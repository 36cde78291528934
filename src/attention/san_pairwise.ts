/**
 * Pairwise self-attention of SAN (Zhao, Jia, Koltun 2020, "Exploring Self-attention for Image
 * Recognition", https://arxiv.org/abs/2004.13621, section 3.1, eq. 2):
 *
 *   y_i = sum_{j in R(i)} alpha(x_i, x_j) (.) beta(x_j),
 *   alpha(x_i, x_j) = softmax_j( gamma([delta(x_i, x_j), p_i - p_j]) )
 *
 * with beta = 1x1 conv (C -> out), phi/psi = 1x1 convs (C -> C/r1), gamma = BN-ReLU-Linear-BN-ReLU-
 * Linear (the "Linear -> ReLU -> Linear" of the paper with the official code's batch norms) producing
 * out/share weights per pair, so groups of `share` channels share one attention weight.
 * Relation functions delta (section 3.1):
 *   summation phi(x_i) + psi(x_j); subtraction phi(x_i) - psi(x_j); concatenation [phi(x_i), psi(x_j)];
 *   Hadamard product phi(x_i) (.) psi(x_j); dot product phi(x_i)^T psi(x_j) (one channel).
 * Position encoding: the coordinates of every pixel normalised to [-1, 1] ([x, y] order, as the
 * official `position`), a trainable 1x1 conv (2 -> 2), and the difference p_i - p_j of the encoded
 * coordinates, concatenated before gamma.
 *
 * Layer names follow the official code (hszhao/SAN `SAM`): conv1 = phi, conv2 = psi, conv3 = beta,
 * conv_p, conv_w.{0..5}. The footprint R(i) is k x k, reflection padded; stride 1 only (SAN changes
 * resolution with max pooling between stages).
 *
 * Memory per call (floats, B batch, H x W map, rel = C/r1, Cw = out/share, K = k*k):
 *   relation input B*(rel+2)*K*H*W (concatenation: 2*rel+2; dot: 3), gamma hidden B*rel*K*H*W,
 *   weights B*Cw*K*H*W; aggregation adds one footprint row B*out*k*H*W (see san_aggregation.ts).
 *   The official SAN sizes (rel = C/16, out = C/4, Cw = C/32) keep all of these below B*C*K*H*W / 8.
 *
 * Caveat: the bias of conv_p cancels in p_i - p_j (it is kept for checkpoint compatibility and gets
 * a zero gradient).
 */
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { Module } from '../nn/module.js';
import { Conv } from '../nn/layers/conv.js';
import { BatchNorm } from '../nn/layers/norm.js';
import { ReLU, Sequential } from '../nn/layers/basic.js';
import { checkInt, invalidArg } from '../util/errors.js';
import { aggregate, aggregationMacs, neighbours } from './san_aggregation.js';

export type PairwiseRelation = 'summation' | 'subtraction' | 'concatenation' | 'hadamard' | 'dot';

export interface PairwiseOptions {
  /** Relation function delta (default 'subtraction', the official SAN models). */
  relation?: PairwiseRelation;
  /** Footprint size k, odd, 3..11 in the paper (default 7). */
  kernelSize?: number;
  /** Output channels sharing one attention weight (default 8). */
  shareChannels?: number;
  /** Concatenate the relative position encoding before gamma (default true). */
  positionEncoding?: boolean;
  /** Keep the attention weights [B, out/share, k*k, H, W] of the last traced call in `lastAttention` (default false). */
  returnAttention?: boolean;
}

/** Normalised pixel coordinates [1, 2, H, W]: channel 0 = x (width), channel 1 = y (height), in [-1, 1]. */
export function positionGrid(H: number, W: number): Tensor {
  const lin = (n: number, i: number) => (n === 1 ? -1 : -1 + (2 * i) / (n - 1));
  const v = new Float32Array(2 * H * W);
  for (let h = 0; h < H; h++) {
    for (let w = 0; w < W; w++) {
      v[h * W + w] = lin(W, w);
      v[H * W + h * W + w] = lin(H, h);
    }
  }
  return F.constantF32(v, [1, 2, H, W]);
}

/** Gamma: BN-ReLU-1x1 conv-BN-ReLU-1x1 conv, layer indices as the official `conv_w`. */
export function gammaMlp(inCh: number, hidden: number, outCh: number): Sequential {
  return new Sequential(new BatchNorm(inCh), ReLU(), new Conv(inCh, hidden, 1, { bias: false }), new BatchNorm(hidden), ReLU(), new Conv(hidden, outCh, 1));
}

export class PairwiseSelfAttention extends Module {
  readonly conv1: Conv;
  readonly conv2: Conv;
  readonly conv3: Conv;
  readonly convP: Conv | null;
  readonly convW: Sequential;
  readonly relation: PairwiseRelation;
  readonly kernelSize: number;
  readonly weightChannels: number;
  readonly returnAttention: boolean;
  /** Softmax attention weights [B, out/share, k*k, H, W] of the last traced call (with `returnAttention`). */
  lastAttention: Tensor | null = null;
  /** Multiply-adds of the aggregation in the last traced call (not visible to `countFlops`). */
  lastAggregationMacs = 0;
  /** Elementwise relation ops of the last traced call (counted as the paper's `Subtraction` modules). */
  lastRelationOps = 0;

  constructor(
    readonly inChannels: number,
    readonly relChannels: number,
    readonly outChannels: number,
    opts: PairwiseOptions = {},
  ) {
    super();
    this.relation = opts.relation ?? 'subtraction';
    if (!['summation', 'subtraction', 'concatenation', 'hadamard', 'dot'].includes(this.relation)) {
      invalidArg('PairwiseSelfAttention', 'relation', 'summation | subtraction | concatenation | hadamard | dot', this.relation);
    }
    this.kernelSize = checkInt('PairwiseSelfAttention', 'kernelSize', opts.kernelSize ?? 7, 1);
    if (this.kernelSize % 2 === 0) invalidArg('PairwiseSelfAttention', 'kernelSize', 'an odd number', this.kernelSize);
    const share = checkInt('PairwiseSelfAttention', 'shareChannels', opts.shareChannels ?? 8, 1);
    if (outChannels % share) invalidArg('PairwiseSelfAttention', 'shareChannels', `a divisor of outChannels ${outChannels}`, share);
    this.weightChannels = outChannels / share;
    this.returnAttention = opts.returnAttention ?? false;
    const pos = opts.positionEncoding ?? true;
    this.conv1 = this.addChild('conv1', new Conv(inChannels, relChannels, 1));
    this.conv2 = this.addChild('conv2', new Conv(inChannels, relChannels, 1));
    this.conv3 = this.addChild('conv3', new Conv(inChannels, outChannels, 1));
    const relOut = this.relation === 'concatenation' ? 2 * relChannels : this.relation === 'dot' ? 1 : relChannels;
    const gammaIn = relOut + (pos ? 2 : 0);
    this.convW = this.addChild('conv_w', gammaMlp(gammaIn, relChannels, this.weightChannels));
    this.convP = pos ? this.addChild('conv_p', new Conv(2, 2, 1)) : null;
  }

  /** delta(x_i, x_j) for centre features xi [B, rel, 1, H, W] and neighbours xj [B, rel, K, H, W]. */
  private relate(xi: Tensor, xj: Tensor): Tensor {
    switch (this.relation) {
      case 'summation':
        return F.add(xi, xj);
      case 'subtraction':
        return F.sub(xi, xj);
      case 'hadamard':
        return F.mul(xi, xj);
      case 'dot':
        return F.reduceSum(F.mul(xi, xj), 1, true); // [B, 1, K, H, W]
      case 'concatenation':
        return F.concat([F.expand(xi, xj.shape), xj], 1); // [B, 2 rel, K, H, W]
    }
  }

  /** x: [B, C, H, W] -> [B, out, H, W]. */
  forward(x: Tensor): Tensor {
    const [B, , H, W] = x.shape as [number, number, number, number];
    const k = this.kernelSize;
    const K = k * k;
    const xi = F.unsqueeze(this.conv1.call(x), 2); // [B, rel, 1, H, W]
    const xj = neighbours(this.conv2.call(x), k); // [B, rel, K, H, W]
    const parts = [this.relate(xi, xj)];
    if (this.convP) {
      const p = this.convP.call(positionGrid(H, W)); // [1, 2, H, W]
      const rel = F.sub(F.unsqueeze(p, 2), neighbours(p, k)); // [1, 2, K, H, W]
      parts.push(F.expand(rel, [B, 2, K, H, W]));
    }
    const r = F.concat(parts, 1); // [B, gammaIn, K, H, W]
    this.lastRelationOps = (this.relation === 'dot' ? 2 * this.relChannels : this.relChannels) * B * K * H * W + (this.convP ? 2 * K * H * W : 0);
    const logits = this.convW.call(F.reshape(r, [B, r.shape[1]!, K, H * W])); // [B, Cw, K, H*W]
    const attn = F.reshape(F.softmax(logits, 2), [B, this.weightChannels, K, H, W]); // [B, Cw, K, H, W]
    this.lastAttention = this.returnAttention ? attn : null;
    const v = this.conv3.call(x); // [B, out, H, W]
    this.lastAggregationMacs = aggregationMacs(v.shape, k);
    return aggregate(v, attn, k);
  }
}
