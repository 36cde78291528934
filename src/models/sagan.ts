/**
 * SAGAN generator and projection discriminator (Zhang et al. 2019, "Self-Attention Generative
 * Adversarial Networks", https://arxiv.org/abs/1805.08318) at 32, 64 and 128 px.
 *
 * Both networks are the ResNet GANs of Miyato & Koyama 2018 (SN-GAN / projection discriminator,
 * https://arxiv.org/abs/1802.05637) with a SAGAN self-attention block, and spectral normalization
 * on every conv / linear layer of G and D (SAGAN sec. 4.1):
 *   G(z, y): SNLinear(z) -> [B, 16ch, 4, 4] -> up-blocks (conditional BN(y) -> ReLU -> nearest 2x ->
 *            SNConv3x3 -> CBN(y) -> ReLU -> SNConv3x3, + SNConv1x1(up(x))) -> BN -> ReLU ->
 *            SNConv3x3 -> tanh: images [B, 3, S, S] in [-1, 1];
 *   D(x, y): down-blocks (ReLU -> SNConv3x3 -> ReLU -> SNConv3x3 -> avg-pool 2, + pooled
 *            SNConv1x1(x)) -> ReLU -> global sum pool h -> logit = SNLinear(h) + <SNEmbed(y), h>
 *            (projection, Miyato & Koyama eq. 3): logits [B, 1].
 * Self-attention sits on the 32x32 feature maps for S = 32 and 64, and on the 64x64 maps for
 * S = 128 (the paper's best placements, "feat32" / "feat64", Table 1), in G and in D. For S = 32 the
 * discriminator's first block keeps 32x32 so that it has a 32x32 map to attend over.
 * Caveats: conditional BN uses a plain (not spectrally normalised) class embedding for the gain
 * and bias (gain initialised to 1, bias to 0); widths are ch = 64 with the multipliers of
 * BigGAN-PyTorch's SAGAN configurations (G: 16, 16, 8, 4, 2, 1 at 128 px).
 */
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { Module, type Parameter } from '../nn/module.js';
import { BatchNorm } from '../nn/layers/norm.js';
import { ModuleList } from '../nn/layers/basic.js';
import { ones, zeros } from '../nn/init.js';
import { checkInt, invalidArg } from '../util/errors.js';
import { SNConv, SNEmbedding, SNLinear } from '../attention/spectral_norm.js';
import { SelfAttention2d } from '../attention/sagan.js';

export type SaganSize = 32 | 64 | 128;

/** Nearest-neighbour 2x upsampling [B, C, H, W] -> [B, C, 2H, 2W]. */
function upsample2x(x: Tensor): Tensor {
  const [B, C, H, W] = x.shape as [number, number, number, number];
  const x6 = F.reshape(x, [B, C, H, 1, W, 1]); // [B, C, H, 1, W, 1]
  return F.reshape(F.expand(x6, [B, C, H, 2, W, 2]), [B, C, 2 * H, 2 * W]); // [B, C, 2H, 2W]
}

/** Batch norm without affine parameters followed by a class-conditional gain and bias. */
export class ConditionalBatchNorm extends Module {
  readonly bn: BatchNorm;
  readonly gammaEmbed: Parameter;
  readonly betaEmbed: Parameter;
  constructor(
    readonly channels: number,
    readonly numClasses: number,
  ) {
    super();
    this.bn = this.addChild('bn', new BatchNorm(channels, { affine: false }));
    this.gammaEmbed = this.addParam('gamma_embed', [numClasses, channels], ones, false);
    this.betaEmbed = this.addParam('beta_embed', [numClasses, channels], zeros, false);
  }
  forward(x: Tensor, y: Tensor): Tensor {
    const [B, C] = x.shape as [number, number];
    const gamma = F.reshape(F.gather(this.tensor(this.gammaEmbed), y, 0), [B, C, 1, 1]); // [B, C, 1, 1]
    const beta = F.reshape(F.gather(this.tensor(this.betaEmbed), y, 0), [B, C, 1, 1]); // [B, C, 1, 1]
    return F.add(F.mul(this.bn.call(x), gamma), beta);
  }
}

class GBlock extends Module {
  readonly cbn1: ConditionalBatchNorm;
  readonly conv1: SNConv;
  readonly cbn2: ConditionalBatchNorm;
  readonly conv2: SNConv;
  readonly convSc: SNConv;
  constructor(inC: number, outC: number, numClasses: number) {
    super();
    this.cbn1 = this.addChild('cbn1', new ConditionalBatchNorm(inC, numClasses));
    this.conv1 = this.addChild('conv1', new SNConv(inC, outC, 3, { padding: 1 }));
    this.cbn2 = this.addChild('cbn2', new ConditionalBatchNorm(outC, numClasses));
    this.conv2 = this.addChild('conv2', new SNConv(outC, outC, 3, { padding: 1 }));
    this.convSc = this.addChild('conv_sc', new SNConv(inC, outC, 1));
  }
  forward(x: Tensor, y: Tensor): Tensor {
    let h = upsample2x(F.relu(this.cbn1.call(x, y)));
    h = this.conv2.call(F.relu(this.cbn2.call(this.conv1.call(h), y)));
    return F.add(h, this.convSc.call(upsample2x(x)));
  }
}

class DBlock extends Module {
  readonly conv1: SNConv;
  readonly conv2: SNConv;
  readonly convSc: SNConv | null;
  constructor(
    inC: number,
    outC: number,
    readonly down: boolean,
    readonly preact: boolean,
  ) {
    super();
    this.conv1 = this.addChild('conv1', new SNConv(inC, outC, 3, { padding: 1 }));
    this.conv2 = this.addChild('conv2', new SNConv(outC, outC, 3, { padding: 1 }));
    this.convSc = inC !== outC || down ? this.addChild('conv_sc', new SNConv(inC, outC, 1)) : null;
  }
  forward(x: Tensor): Tensor {
    const pool = (t: Tensor) => (this.down ? F.avgPool(t, { kernel: 2 }) : t);
    let h = this.conv1.call(this.preact ? F.relu(x) : x);
    h = pool(this.conv2.call(F.relu(h)));
    // A 1x1 conv commutes with 2x2 average pooling, so conv-then-pool is also the first block's
    // pool-then-conv shortcut.
    const sc = this.convSc ? pool(this.convSc.call(x)) : x;
    return F.add(h, sc);
  }
}

const G_MULTS: Record<SaganSize, number[]> = { 32: [4, 4, 4, 4], 64: [16, 8, 4, 2, 1], 128: [16, 16, 8, 4, 2, 1] };
const D_MULTS: Record<SaganSize, number[]> = { 32: [4, 4, 4, 4], 64: [1, 2, 4, 8, 16], 128: [1, 2, 4, 8, 16, 16] };
const ATTN_RES: Record<SaganSize, number> = { 32: 32, 64: 32, 128: 64 };

function checkSize(where: string, size: number): SaganSize {
  if (size !== 32 && size !== 64 && size !== 128) invalidArg(where, 'size', '32, 64 or 128', size);
  return size;
}

export interface SaganOptions {
  /** Image size S (32, 64 or 128; required). */
  size: SaganSize;
  /** Classes for conditioning (default 1000). */
  numClasses?: number;
  /** Base width ch (default 64). */
  ch?: number;
  /** Latent size (generator only; default 128). */
  zDim?: number;
  /** Keep the self-attention map on `attn.lastAttention` (default false). */
  returnAttention?: boolean;
}

export class SaganGenerator extends Module {
  readonly linear: SNLinear;
  readonly blocks: ModuleList<GBlock>;
  readonly attn: SelfAttention2d;
  readonly attnAfter: number;
  readonly bn: BatchNorm;
  readonly convOut: SNConv;
  readonly ch0: number;
  constructor(opts: SaganOptions) {
    super();
    const size = checkSize('SaganGenerator', opts.size);
    const ch = checkInt('SaganGenerator', 'ch', opts.ch ?? 64, 1);
    const numClasses = checkInt('SaganGenerator', 'numClasses', opts.numClasses ?? 1000, 1);
    const zDim = checkInt('SaganGenerator', 'zDim', opts.zDim ?? 128, 1);
    const mults = G_MULTS[size];
    this.ch0 = mults[0]! * ch;
    this.linear = this.addChild('linear', new SNLinear(zDim, 16 * this.ch0));
    this.blocks = this.addChild('blocks', new ModuleList<GBlock>());
    for (let i = 1; i < mults.length; i++) this.blocks.push(new GBlock(mults[i - 1]! * ch, mults[i]! * ch, numClasses));
    this.attnAfter = Math.log2(ATTN_RES[size] / 4) - 1; // block whose output is the attention resolution
    const last = mults[mults.length - 1]! * ch;
    this.attn = this.addChild('attn', new SelfAttention2d(mults[this.attnAfter + 1]! * ch, { returnAttention: opts.returnAttention }));
    this.bn = this.addChild('bn', new BatchNorm(last));
    this.convOut = this.addChild('conv_out', new SNConv(last, 3, 3, { padding: 1 }));
  }
  /** z [B, zDim] float, y [B] int64 -> images [B, 3, S, S]. */
  forward(z: Tensor, y: Tensor): Tensor {
    const B = z.shape[0]!;
    let h = F.reshape(this.linear.call(z), [B, this.ch0, 4, 4]); // [B, 16ch, 4, 4]
    this.blocks.items.forEach((blk, i) => {
      h = blk.call(h, y);
      if (i === this.attnAfter) h = this.attn.call(h);
    });
    return F.tanh(this.convOut.call(F.relu(this.bn.call(h))));
  }
}

export class SaganDiscriminator extends Module {
  readonly blocks: ModuleList<DBlock>;
  readonly attn: SelfAttention2d;
  readonly linear: SNLinear;
  readonly embed: SNEmbedding;
  constructor(opts: SaganOptions) {
    super();
    const size = checkSize('SaganDiscriminator', opts.size);
    const ch = checkInt('SaganDiscriminator', 'ch', opts.ch ?? 64, 1);
    const numClasses = checkInt('SaganDiscriminator', 'numClasses', opts.numClasses ?? 1000, 1);
    const mults = D_MULTS[size];
    this.blocks = this.addChild('blocks', new ModuleList<DBlock>());
    let res = size;
    let inC = 3;
    for (let i = 0; i < mults.length; i++) {
      const down = i < mults.length - 1 && !(size === 32 && i === 0);
      this.blocks.push(new DBlock(inC, mults[i]! * ch, down, i > 0));
      inC = mults[i]! * ch;
      if (down) res /= 2;
      if (i === 0 && res !== ATTN_RES[size]) throw new Error(`SAGAN D${size}: attention resolution ${res}`);
    }
    this.attn = this.addChild('attn', new SelfAttention2d(mults[0]! * ch, { returnAttention: opts.returnAttention }));
    this.linear = this.addChild('linear', new SNLinear(inC, 1));
    this.embed = this.addChild('embed', new SNEmbedding(numClasses, inC));
  }
  /** images [B, 3, S, S], y [B] int64 -> logits [B, 1]. */
  forward(x: Tensor, y: Tensor): Tensor {
    let h = x;
    this.blocks.items.forEach((blk, i) => {
      h = blk.call(h);
      if (i === 0) h = this.attn.call(h);
    });
    const feat = F.reduceSum(F.relu(h), [2, 3]); // [B, C]
    const proj = F.reduceSum(F.mul(this.embed.call(y), feat), 1, true); // [B, 1]
    return F.add(this.linear.call(feat), proj); // [B, 1]
  }
}
