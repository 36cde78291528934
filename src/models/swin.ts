/**
 * Swin Transformer (Liu et al. 2021, https://arxiv.org/abs/2103.14030): patch embedding, four
 * stages of (shifted) window attention blocks separated by patch merging, final LayerNorm, global
 * average pooling and a linear head.
 *
 * State-dict names follow timm >= 0.9 (`patch_embed.proj`, `layers.1.downsample.reduction`,
 * `layers.0.blocks.1.attn.qkv`, `norm`, `head`); `swinMapKey` converts torchvision names
 * (`features.3.0.attn.qkv`) and timm's `head.fc`.
 */
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { Module } from '../nn/module.js';
import { Conv } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { BatchNorm, LayerNorm } from '../nn/layers/norm.js';
import { ModuleList } from '../nn/layers/basic.js';
import { truncNormal, zeros } from '../nn/init.js';
import { PatchMerging, SwinBlock } from '../attention/swin.js';
import { checkInt, invalidArg } from '../util/errors.js';

export interface SwinConfig {
  /** Input channels (default 3). */
  inChannels?: number;
  /** Patch size of the embedding convolution (default 4). */
  patchSize?: number;
  /** Channels of stage 1; stage i has embedDim * 2^i (default 96). */
  embedDim?: number;
  /** Blocks per stage (default [2, 2, 6, 2], Swin-T). */
  depths?: number[];
  /** Attention heads per stage (default [3, 6, 12, 24]). */
  numHeads?: number[];
  /** Window size M (default 7). */
  windowSize?: number;
  /** MLP ratio (default 4). */
  mlpRatio?: number;
  /** Stochastic depth, rising linearly from 0 to this over all blocks (default 0.2). */
  dropPathRate?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Keep every block's attention probabilities in `attn.lastAttention` (default false). */
  returnAttention?: boolean;
  /**
   * 'patch' (default): the paper's p x p stride-p convolution. 'conv': a stack of log2(p) 3x3
   * stride-2 convolutions with BatchNorm and ReLU, then a 1x1 projection (Xiao et al. 2021,
   * "Early Convolutions Help Transformers See Better", Sec. 3); both end with LayerNorm.
   */
  stem?: 'patch' | 'conv';
}

export class PatchEmbed extends Module {
  readonly proj: Conv;
  readonly norm: LayerNorm;
  constructor(inChannels: number, dim: number, patch: number) {
    super();
    this.proj = this.addChild('proj', new Conv(inChannels, dim, patch, { stride: patch }));
    this.norm = this.addChild('norm', new LayerNorm(dim));
  }
  /** [B, Cin, H, W] -> [B, H/p, W/p, C]. */
  forward(x: Tensor): Tensor {
    return this.norm.call(F.transpose(this.proj.call(x), [0, 2, 3, 1])); // [B, h, w, C]
  }
}

/**
 * Convolutional stem (Xiao et al. 2021, Sec. 3): log2(p) 3x3 stride-2 convolutions (BN + ReLU),
 * channels rising to `dim`, then a 1x1 convolution and LayerNorm; same output grid as PatchEmbed.
 * It sees pixel-level structure (noise, JPEG blocks, blur edges) before the first downsampling.
 */
export class ConvStem extends Module {
  readonly convs: Conv[] = [];
  readonly norms: BatchNorm[] = [];
  readonly proj: Conv;
  readonly norm: LayerNorm;
  constructor(inChannels: number, dim: number, patch: number) {
    super();
    const steps = Math.log2(patch);
    if (!Number.isInteger(steps) || steps < 1) invalidArg('ConvStem', 'patchSize', 'a power of two >= 2', patch);
    let cin = inChannels;
    for (let i = 0; i < steps; i++) {
      const cout = Math.max(8, Math.round(dim / 2 ** (steps - 1 - i)));
      this.convs.push(this.addChild(`conv${i}`, new Conv(cin, cout, 3, { stride: 2, padding: 1, bias: false })));
      this.norms.push(this.addChild(`bn${i}`, new BatchNorm(cout)));
      cin = cout;
    }
    this.proj = this.addChild('proj', new Conv(cin, dim, 1));
    this.norm = this.addChild('norm', new LayerNorm(dim));
  }
  /** [B, Cin, H, W] -> [B, H/p, W/p, C]. */
  forward(x: Tensor): Tensor {
    let y = x;
    this.convs.forEach((c, i) => (y = F.relu(this.norms[i]!.call(c.call(y))))); // [B, C_i, H/2^(i+1), W/2^(i+1)]
    return this.norm.call(F.transpose(this.proj.call(y), [0, 2, 3, 1])); // [B, h, w, C]
  }
}

export class SwinStage extends Module {
  readonly downsample: PatchMerging | null;
  readonly blocks: ModuleList<SwinBlock>;
  constructor(downsample: PatchMerging | null, blocks: SwinBlock[]) {
    super();
    this.downsample = downsample ? this.addChild('downsample', downsample) : null;
    this.blocks = this.addChild('blocks', new ModuleList(blocks));
  }
  forward(x: Tensor): Tensor {
    let y = this.downsample ? this.downsample.call(x) : x;
    for (const b of this.blocks.items) y = b.call(y);
    return y;
  }
}

export class SwinTransformer extends Module {
  readonly patchEmbed: PatchEmbed | ConvStem;
  readonly layers: ModuleList<SwinStage>;
  readonly norm: LayerNorm;
  readonly head: Linear;
  readonly config: Required<SwinConfig>;
  constructor(cfg: SwinConfig = {}) {
    super();
    const c: Required<SwinConfig> = {
      inChannels: cfg.inChannels ?? 3,
      patchSize: cfg.patchSize ?? 4,
      embedDim: cfg.embedDim ?? 96,
      depths: cfg.depths ?? [2, 2, 6, 2],
      numHeads: cfg.numHeads ?? [3, 6, 12, 24],
      windowSize: cfg.windowSize ?? 7,
      mlpRatio: cfg.mlpRatio ?? 4,
      dropPathRate: cfg.dropPathRate ?? 0.2,
      numClasses: cfg.numClasses ?? 1000,
      returnAttention: cfg.returnAttention ?? false,
      stem: cfg.stem ?? 'patch',
    };
    this.config = c;
    if (c.depths.length !== c.numHeads.length || c.depths.length < 1) invalidArg('SwinTransformer', 'numHeads', `${c.depths.length} entries (one per stage)`, c.numHeads);
    checkInt('SwinTransformer', 'windowSize', c.windowSize, 1);
    if (c.stem !== 'patch' && c.stem !== 'conv') invalidArg('SwinTransformer', 'stem', "'patch' or 'conv'", c.stem);
    this.patchEmbed = this.addChild('patch_embed', c.stem === 'conv' ? new ConvStem(c.inChannels, c.embedDim, c.patchSize) : new PatchEmbed(c.inChannels, c.embedDim, c.patchSize));
    const total = c.depths.reduce((s, d) => s + d, 0);
    let id = 0;
    const stages: SwinStage[] = [];
    c.depths.forEach((depth, i) => {
      const dim = c.embedDim * 2 ** i;
      const blocks: SwinBlock[] = [];
      for (let j = 0; j < depth; j++) {
        blocks.push(
          new SwinBlock(dim, c.numHeads[i]!, {
            windowSize: c.windowSize,
            shiftSize: j % 2 ? Math.floor(c.windowSize / 2) : 0,
            mlpRatio: c.mlpRatio,
            dropPath: total > 1 ? (c.dropPathRate * id) / (total - 1) : 0,
            returnAttention: c.returnAttention,
          }),
        );
        id++;
      }
      stages.push(new SwinStage(i > 0 ? new PatchMerging(dim / 2) : null, blocks));
    });
    this.layers = this.addChild('layers', new ModuleList(stages));
    const nf = c.embedDim * 2 ** (c.depths.length - 1);
    this.norm = this.addChild('norm', new LayerNorm(nf));
    this.head = this.addChild('head', new Linear(nf, c.numClasses, { weightInit: truncNormal(0.02), biasInit: zeros }));
  }

  /** Final features [B, h, w, C] before pooling. */
  features(x: Tensor): Tensor {
    let y = this.patchEmbed.call(x);
    for (const s of this.layers.items) y = s.call(y);
    return this.norm.call(y);
  }

  /** x: [B, C, H, W] -> logits [B, numClasses]. */
  forward(x: Tensor): Tensor {
    return this.head.call(F.reduceMean(this.features(x), [1, 2])); // [B, numClasses]
  }

  /** Attention maps of the last traced call, by module path (needs `returnAttention`). */
  attentionMaps(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const s of this.layers.items) for (const b of s.blocks.items) if (b.attn.lastAttention) out[`attn.${b.attn.path}`] = b.attn.lastAttention;
    return out;
  }
}

/**
 * Maps torchvision (`features.*`) and timm Swin state-dict names to ours; returns null for the
 * `relative_position_index` / `attn_mask` buffers (constants here).
 *
 * torchvision: features.0.{0,2} = patch embedding conv / norm; features.{2i+1}.{j} = block j of
 * stage i; features.{2i}.{reduction,norm} (i >= 1) = patch merging before stage i; mlp.{0,3} = fc1/fc2.
 * timm >= 0.9: our names, except `head.fc`. (timm < 0.9 placed `downsample` at the end of the
 * previous stage; such files must be renamed first, as the key alone cannot tell the versions apart.)
 */
export function swinMapKey(key: string): string | null {
  if (/relative_position_index$|attn_mask$/.test(key)) return null;
  let m = /^features\.0\.([02])\.(.*)$/.exec(key);
  if (m) return `patch_embed.${m[1] === '0' ? 'proj' : 'norm'}.${m[2]}`;
  m = /^features\.(\d+)\.(\d+)\.(.*)$/.exec(key);
  if (m) {
    const rest = m[3]!.replace(/^mlp\.0\./, 'mlp.fc1.').replace(/^mlp\.3\./, 'mlp.fc2.');
    return `layers.${(Number(m[1]) - 1) / 2}.blocks.${m[2]}.${rest}`;
  }
  m = /^features\.(\d+)\.((?:reduction|norm)\..*)$/.exec(key);
  if (m) return `layers.${Number(m[1]) / 2}.downsample.${m[2]}`;
  m = /^head\.fc\.(.*)$/.exec(key);
  if (m) return `head.${m[1]}`;
  return key;
}
