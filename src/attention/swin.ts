/**
 * Swin Transformer building blocks: the pre-norm block (W-MSA or SW-MSA + MLP, stochastic depth)
 * and patch merging.
 *
 * Paper: Liu et al. 2021, "Swin Transformer: Hierarchical Vision Transformer using Shifted Windows",
 * https://arxiv.org/abs/2103.14030, eq. 3:
 *
 *   z' = (S)W-MSA(LN(z)) + z,      z = MLP(LN(z')) + z'        (MLP: Linear(C, rC), GELU, Linear(rC, C))
 *
 * Patch merging concatenates each 2x2 neighbourhood ([x(0,0), x(1,0), x(0,1), x(1,1)] in (row, col)
 * order, as the reference), applies LayerNorm(4C) and a bias-free Linear(4C, 2C); odd sizes are
 * zero-padded at the bottom/right first (torchvision's `_patch_merging_pad`).
 *
 * Tensors are channels-last [B, H, W, C] throughout, as in torchvision.
 */
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/layers/linear.js';
import { LayerNorm } from '../nn/layers/norm.js';
import { DropPath } from '../nn/layers/basic.js';
import { truncNormal, zeros, type Initializer } from '../nn/init.js';
import { WindowAttention } from './window_attention.js';

export interface SwinBlockOptions {
  /** Window size M (default 7). */
  windowSize?: number;
  /** Cyclic shift (default 0; stages alternate 0 and windowSize/2). */
  shiftSize?: number;
  /** MLP hidden width as a multiple of dim (default 4). */
  mlpRatio?: number;
  /** Stochastic-depth probability of both residual branches (default 0). */
  dropPath?: number;
  /** LayerNorm epsilon (default 1e-5). */
  normEps?: number;
  /** Initializer of Linear weights (default truncated normal, std 0.02). */
  weightInit?: Initializer;
  /** Keep attention probabilities in `attn.lastAttention` (default false). */
  returnAttention?: boolean;
}

/** Linear -> GELU -> Linear (names fc1, fc2 as timm). */
export class SwinMlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(dim: number, hidden: number, init: Initializer = truncNormal(0.02)) {
    super();
    this.fc1 = this.addChild('fc1', new Linear(dim, hidden, { weightInit: init, biasInit: zeros }));
    this.fc2 = this.addChild('fc2', new Linear(hidden, dim, { weightInit: init, biasInit: zeros }));
  }
  forward(x: Tensor): Tensor {
    return this.fc2.call(F.gelu(this.fc1.call(x)));
  }
}

export class SwinBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: WindowAttention;
  readonly norm2: LayerNorm;
  readonly mlp: SwinMlp;
  readonly dropPath: DropPath;
  constructor(
    readonly dim: number,
    heads: number,
    opts: SwinBlockOptions = {},
  ) {
    super();
    const eps = opts.normEps ?? 1e-5;
    this.norm1 = this.addChild('norm1', new LayerNorm(dim, eps));
    this.attn = this.addChild(
      'attn',
      new WindowAttention(dim, heads, { windowSize: opts.windowSize, shiftSize: opts.shiftSize, weightInit: opts.weightInit, returnAttention: opts.returnAttention }),
    );
    this.norm2 = this.addChild('norm2', new LayerNorm(dim, eps));
    this.mlp = this.addChild('mlp', new SwinMlp(dim, Math.floor(dim * (opts.mlpRatio ?? 4)), opts.weightInit));
    this.dropPath = this.addChild('drop_path', new DropPath(opts.dropPath ?? 0));
  }
  /** x: [B, H, W, C] -> [B, H, W, C]. */
  forward(x: Tensor): Tensor {
    const y = F.add(x, this.dropPath.call(this.attn.call(this.norm1.call(x))));
    return F.add(y, this.dropPath.call(this.mlp.call(this.norm2.call(y))));
  }
}

export class PatchMerging extends Module {
  readonly norm: LayerNorm;
  readonly reduction: Linear;
  constructor(
    readonly dim: number,
    opts: { normEps?: number; weightInit?: Initializer } = {},
  ) {
    super();
    this.norm = this.addChild('norm', new LayerNorm(4 * dim, opts.normEps ?? 1e-5));
    this.reduction = this.addChild('reduction', new Linear(4 * dim, 2 * dim, { bias: false, weightInit: opts.weightInit ?? truncNormal(0.02) }));
  }
  /** x: [B, H, W, C] -> [B, ceil(H/2), ceil(W/2), 2C]. */
  forward(x: Tensor): Tensor {
    const [B, H, W, C] = x.shape as [number, number, number, number];
    const y = H % 2 || W % 2 ? F.pad(x, [0, 0, 0, 0, 0, H % 2, W % 2, 0]) : x; // [B, Hp, Wp, C]
    const h = (H + (H % 2)) / 2;
    const w = (W + (W % 2)) / 2;
    // [B, h, 2(dy), w, 2(dx), C] -> [B, h, w, 2(dx), 2(dy), C]: channel blocks ordered dx*2 + dy = x0, x1, x2, x3.
    const merged = F.reshape(F.transpose(F.reshape(y, [B, h, 2, w, 2, C]), [0, 1, 3, 4, 2, 5]), [B, h, w, 4 * C]); // [B, h, w, 4C]
    return this.reduction.call(this.norm.call(merged)); // [B, h, w, 2C]
  }
}
