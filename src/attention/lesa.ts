/**
 * LESA: Locally Enhanced Self-Attention (Yang et al. 2021, "Locally Enhanced Self-Attention:
 * Combining Self-Attention and Convolution as Local and Context Terms",
 * https://arxiv.org/abs/2107.05637), following the official classification code
 * (github.com/Chenglin-Yang/LESA_classification) where the paper leaves details open.
 *
 * Equation (sec. 3): y = U(x) + omega ⊙ B(x)
 *   - unary U(x) = BN(W_1x1 (grouped k x k conv (x)))          (local term; `x_transform`, `bn_x`)
 *   - binary B(x): multi-head self-attention over all N = H*W positions with relative position
 *     embeddings r (one learnable table over the flattened offset i - j, split for q, k and v):
 *       s_ij = BN_3(q_i^T k_j, q_i^T r^q_ij, k_j^T r^k_ji) summed over the 3 terms, a = softmax_j s,
 *       B_i = BN_2(sum_j a_ij v_j, sum_j a_ij r^v_ij) summed over the 2 terms (per head);
 *       q, k, v = BN(W_qkv x) with q, k of C/heads/2 and v of C/heads channels per head;
 *   - dynamic fusion omega = sigmoid(BN(fc2(ReLU(BN(fc1(ReLU([U || B]))))))), fc1: 2C -> C,
 *     fc2: C -> C (1x1 convs; U and B are already batch-normalised, so the paper's leading
 *     BN -> ReLU is the ReLU here);
 *   - static LESA (`dynamicFusion: false`): y = U(x) + B(x).
 * With stride 2 the output is average-pooled (as the official code).
 * Caveats: the relative embedding is indexed by the 1-D offset of flattened positions, as the
 * official code, so the module is built for one feature-map size (`fmapSize`) and only accepts it.
 * State-dict names follow the official code (`qkv_transform`, `bn_qkv`, `bn_similarity`,
 * `bn_output`, `relative`, `x_transform`, `bn_x`, `reasoning`, `projection`).
 *
 * Attention output: with `returnAttention`, the attention a [B, heads, N, N] of the last traced
 * call is kept on `lastAttention`.
 */
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { Module, type Parameter } from '../nn/module.js';
import { Conv } from '../nn/layers/conv.js';
import { BatchNorm } from '../nn/layers/norm.js';
import { ReLU, Sequential } from '../nn/layers/basic.js';
import { kaimingNormal, normal } from '../nn/init.js';
import { checkInt, invalidArg } from '../util/errors.js';

export interface LesaOptions {
  /** Feature-map size [H, W] (or H = W) the module is built for (required). */
  fmapSize: number | [number, number];
  /** Attention heads; also the groups of the unary k x k conv (default 8). */
  heads?: number;
  /** Unary conv kernel size (default 3). */
  kernelSize?: number;
  /** Average-pool the output by this stride (default 1). */
  stride?: number;
  /** Dynamic fusion gate omega (true) or static LESA y = U + B (false) (default true). */
  dynamicFusion?: boolean;
  /** Channel shrink of the fusion's fc1: 2C -> 2C / dfShrink (default 2). */
  dfShrink?: number;
  /** Keep the attention of the last call on `lastAttention` (default false). */
  returnAttention?: boolean;
}

export class Lesa extends Module {
  readonly heads: number;
  readonly qkPlanes: number;
  readonly vPlanes: number;
  readonly fmap: [number, number];
  readonly stride: number;
  readonly qkvTransform: Conv;
  readonly bnQkv: BatchNorm;
  readonly bnSimilarity: BatchNorm;
  readonly bnOutput: BatchNorm;
  readonly relative: Parameter;
  readonly xTransform: Sequential;
  readonly bnX: BatchNorm;
  readonly reasoning: Sequential | null;
  readonly projection: Sequential | null;
  readonly returnAttention: boolean;
  /** Attention [B, heads, N, N] of the last traced call (only with returnAttention). */
  lastAttention: Tensor | null = null;
  constructor(
    readonly channels: number,
    opts: LesaOptions,
  ) {
    super();
    checkInt('Lesa', 'channels', channels, 1);
    if (typeof opts !== 'object' || opts === null) invalidArg('Lesa', 'options', '{ fmapSize, heads?, ... } (fmapSize, the feature-map size, is required)', opts);
    this.heads = checkInt('Lesa', 'heads', opts.heads ?? 8, 1);
    if (channels % (2 * this.heads)) invalidArg('Lesa', 'channels', `a multiple of 2 * heads (${2 * this.heads})`, channels);
    this.fmap = typeof opts.fmapSize === 'number' ? [opts.fmapSize, opts.fmapSize] : opts.fmapSize;
    if (!Array.isArray(this.fmap) || this.fmap.length !== 2) invalidArg('Lesa', 'fmapSize', 'a size or [height, width]', opts.fmapSize);
    this.fmap.forEach((d) => checkInt('Lesa', 'fmapSize', d, 1));
    this.stride = checkInt('Lesa', 'stride', opts.stride ?? 1, 1);
    const k = checkInt('Lesa', 'kernelSize', opts.kernelSize ?? 3, 1);
    if (k % 2 === 0) invalidArg('Lesa', 'kernelSize', 'an odd size (the local branch keeps the feature-map size)', k);
    const N = this.fmap[0] * this.fmap[1];
    this.qkPlanes = channels / this.heads / 2;
    this.vPlanes = channels / this.heads;
    const ki = kaimingNormal('fan_out');
    this.qkvTransform = this.addChild('qkv_transform', new Conv(channels, 2 * channels, 1, { dims: 1, bias: false, weightInit: normal(Math.sqrt(1 / channels)) }));
    this.bnQkv = this.addChild('bn_qkv', new BatchNorm(2 * channels));
    this.bnSimilarity = this.addChild('bn_similarity', new BatchNorm(3 * this.heads));
    this.bnOutput = this.addChild('bn_output', new BatchNorm(2 * channels));
    const unary = [new Conv(channels, channels, k, { padding: (k - 1) / 2, groups: this.heads, bias: false, weightInit: ki })];
    if (this.heads !== 1) unary.push(new Conv(channels, channels, 1, { bias: false, weightInit: ki }));
    this.xTransform = this.addChild('x_transform', new Sequential(...unary));
    this.bnX = this.addChild('bn_x', new BatchNorm(channels));
    if (opts.dynamicFusion ?? true) {
      const hidden = Math.floor((2 * channels) / (opts.dfShrink ?? 2));
      checkInt('Lesa', 'hidden fusion channels (2 * channels / dfShrink)', hidden, 1);
      this.reasoning = this.addChild('reasoning', new Sequential(ReLU(), new Conv(2 * channels, hidden, 1, { bias: false, weightInit: ki }), new BatchNorm(hidden), ReLU()));
      this.projection = this.addChild('projection', new Sequential(new Conv(hidden, channels, 1, { bias: false, weightInit: ki }), new BatchNorm(channels)));
    } else {
      this.reasoning = null;
      this.projection = null;
    }
    this.relative = this.addParam('relative', [2 * this.qkPlanes + this.vPlanes, 2 * N - 1], normal(Math.sqrt(1 / this.vPlanes)), false);
    this.returnAttention = opts.returnAttention ?? false;
  }

  /** Relative embeddings e[c, i, j] = relative[c, i - j + N - 1], split into q, k, v parts. */
  private embeddings(N: number): [Tensor, Tensor, Tensor] {
    const idx: number[] = [];
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) idx.push(i - j + N - 1);
    const all = F.reshape(F.gather(this.tensor(this.relative), F.constantI64(idx), 1), [-1, N, N]); // [2qk + v, N, N]
    return F.split(all, [this.qkPlanes, this.qkPlanes, this.vPlanes], 0) as [Tensor, Tensor, Tensor];
  }

  /** sum_c a[b, g, c, i] * e[c, i, j] -> [B, G, N, N] (per-position embedding products). */
  private static relLogits(a: Tensor, e: Tensor): Tensor {
    const [B, G, c, N] = a.shape as [number, number, number, number];
    const a5 = F.reshape(F.transpose(a, [0, 1, 3, 2]), [B, G, N, 1, c]); // [B, G, N(i), 1, c]
    const eT = F.transpose(e, [1, 0, 2]); // [N(i), c, N(j)]
    return F.reshape(F.matmul(a5, eT), [B, G, N, N]); // [B, G, N(i), N(j)]
  }

  private binary(x: Tensor): Tensor {
    const [B, C, N] = x.shape as [number, number, number];
    const G = this.heads;
    const qkv = F.reshape(this.bnQkv.call(this.qkvTransform.call(x)), [B, G, 2 * this.qkPlanes + this.vPlanes, N]); // [B, G, 2qk + v, N]
    const [q, k, v] = F.split(qkv, [this.qkPlanes, this.qkPlanes, this.vPlanes], 2) as [Tensor, Tensor, Tensor]; // [B, G, c, N]
    const [qe, ke, ve] = this.embeddings(N);
    const qk = F.matmul(F.transpose(q, [0, 1, 3, 2]), k); // [B, G, N(i), N(j)]
    const qr = Lesa.relLogits(q, qe); // [B, G, N(i), N(j)]
    const kr = F.transpose(Lesa.relLogits(k, ke), [0, 1, 3, 2]); // [B, G, N(i), N(j)]: k_j . r^k_ji
    const stacked = this.bnSimilarity.call(F.concat([qk, qr, kr], 1)); // [B, 3G, N, N]
    const logits = F.reduceSum(F.reshape(stacked, [B, 3, G, N, N]), 1); // [B, G, N, N]
    const a = F.softmax(logits, -1);
    if (this.returnAttention) this.lastAttention = a;
    const sv = F.transpose(F.matmul(a, F.transpose(v, [0, 1, 3, 2])), [0, 1, 3, 2]); // [B, G, v, N]
    const a5 = F.reshape(a, [B, G, N, 1, N]); // [B, G, N(i), 1, N(j)]
    const sve = F.transpose(F.reshape(F.matmul(a5, F.transpose(ve, [1, 2, 0])), [B, G, N, this.vPlanes]), [0, 1, 3, 2]); // [B, G, v, N]
    const out = this.bnOutput.call(F.reshape(F.concat([sv, sve], 3), [B, 2 * C, N])); // [B, 2C, N], channel = (g, c, term)
    return F.reduceSum(F.reshape(out, [B, C, 2, N]), 2); // [B, C, N]
  }

  forward(x: Tensor): Tensor {
    const [B, C, H, W] = x.shape as [number, number, number, number];
    if (H !== this.fmap[0] || W !== this.fmap[1]) invalidArg(this.path || 'Lesa', 'input size', `${this.fmap[0]}x${this.fmap[1]} (fmapSize)`, [H, W]);
    const unary = this.bnX.call(this.xTransform.call(x)); // [B, C, H, W]
    const binary = F.reshape(this.binary(F.reshape(x, [B, C, H * W])), [B, C, H, W]); // [B, C, H, W]
    let out: Tensor;
    if (this.reasoning && this.projection) {
      const omega = F.sigmoid(this.projection.call(this.reasoning.call(F.concat([unary, binary], 1)))); // [B, C, H, W]
      out = F.add(unary, F.mul(omega, binary));
    } else {
      out = F.add(unary, binary);
    }
    return this.stride > 1 ? F.avgPool(out, { kernel: this.stride }) : out;
  }
}
