/**
 * SAN: self-attention networks (Zhao, Jia, Koltun 2020, "Exploring Self-attention for Image
 * Recognition", https://arxiv.org/abs/2004.13621, Table 1).
 *
 * Stem: 1x1 conv (3 -> 64)-BN-ReLU; five stages, each max-pool 2x2 -> 1x1 conv (transition) ->
 * SA blocks -> BN-ReLU, with 64, 256, 512, 1024, 2048 channels and footprints 3, 7, 7, 7, 7; global
 * average pooling and a linear classifier. SAN10/15/19 have [2,1,2,4,1] / [3,2,3,5,2] / [3,3,4,6,3]
 * blocks per stage.
 *
 * The SA block (Figure 1, right): BN-ReLU -> self-attention (C -> C/4, phi/psi with C/16 channels,
 * weights shared by 8 channels) -> BN-ReLU -> 1x1 conv (C/4 -> C) -> + identity.
 *
 * State-dict names follow the official code (hszhao/SAN), so its checkpoints load without mapping
 * (the official checkpoints are saved from DataParallel: strip the `module.` prefix; `mapKey` does).
 */
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { Module } from '../nn/module.js';
import { Conv } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { BatchNorm } from '../nn/layers/norm.js';
import { Sequential } from '../nn/layers/basic.js';
import { PairwiseSelfAttention, type PairwiseRelation } from '../attention/san_pairwise.js';
import { PatchwiseSelfAttention, type PatchwiseRelation } from '../attention/san_patchwise.js';
import { invalidArg } from '../util/errors.js';

export type SanKind = 'pairwise' | 'patchwise';

export interface SABlockOptions {
  /** Pairwise or patchwise attention (default 'pairwise'). */
  kind?: SanKind;
  /** Relation function (default: 'subtraction' for pairwise, 'concatenation' for patchwise). */
  relation?: PairwiseRelation | PatchwiseRelation;
  /** Footprint k (default 7). */
  kernelSize?: number;
  /** Channel reduction of phi/psi, r1 (default 16). */
  r1?: number;
  /** Bottleneck reduction of the attention output, r2 (default 4). */
  r2?: number;
  /** Channels sharing one attention weight (default 8). */
  shareChannels?: number;
  /** Keep attention weights in `sam.lastAttention` (default false). */
  returnAttention?: boolean;
}

/** The SA residual block of the paper's Figure 1 (official `Bottleneck`). */
export class SABlock extends Module {
  readonly bn1: BatchNorm;
  readonly sam: PairwiseSelfAttention | PatchwiseSelfAttention;
  readonly bn2: BatchNorm;
  readonly conv: Conv;
  constructor(
    readonly channels: number,
    opts: SABlockOptions = {},
  ) {
    super();
    const kind = opts.kind ?? 'pairwise';
    const rel = channels / (opts.r1 ?? 16);
    const mid = channels / (opts.r2 ?? 4);
    if (!Number.isInteger(rel) || !Number.isInteger(mid)) invalidArg('SABlock', 'channels', 'a multiple of r1 and r2', channels);
    const common = { kernelSize: opts.kernelSize, shareChannels: opts.shareChannels, returnAttention: opts.returnAttention };
    this.bn1 = this.addChild('bn1', new BatchNorm(channels));
    this.sam = this.addChild(
      'sam',
      kind === 'pairwise'
        ? new PairwiseSelfAttention(channels, rel, mid, { ...common, relation: opts.relation as PairwiseRelation | undefined })
        : new PatchwiseSelfAttention(channels, rel, mid, { ...common, relation: opts.relation as PatchwiseRelation | undefined }),
    );
    this.bn2 = this.addChild('bn2', new BatchNorm(mid));
    this.conv = this.addChild('conv', new Conv(mid, channels, 1));
  }
  /** [B, C, H, W] -> [B, C, H, W]. */
  forward(x: Tensor): Tensor {
    const out = F.relu(this.bn1.call(x));
    const a = F.relu(this.bn2.call(this.sam.call(out)));
    return F.add(this.conv.call(a), x);
  }
}

export interface SanConfig extends Omit<SABlockOptions, 'kernelSize'> {
  /** SA blocks per stage (default [2, 1, 2, 4, 1], SAN10). */
  layers?: number[];
  /** Footprint per stage (default [3, 7, 7, 7, 7]). */
  kernels?: number[];
  /** Input channels (default 3). */
  inChannels?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
}

export class SAN extends Module {
  readonly stages: { conv: Conv; bn: BatchNorm; layer: Sequential }[] = [];
  readonly convIn: Conv;
  readonly bnIn: BatchNorm;
  readonly fc: Linear;
  constructor(cfg: SanConfig = {}) {
    super();
    const layers = cfg.layers ?? [2, 1, 2, 4, 1];
    const kernels = cfg.kernels ?? [3, 7, 7, 7, 7];
    if (layers.length !== 5 || kernels.length !== 5) invalidArg('SAN', 'layers/kernels', '5 entries each', [layers, kernels]);
    this.convIn = this.addChild('conv_in', new Conv(cfg.inChannels ?? 3, 64, 1, { bias: false }));
    this.bnIn = this.addChild('bn_in', new BatchNorm(64));
    const widths = [64, 256, 512, 1024, 2048];
    // Registration order as the official module: conv_i, bn_i, layer_i per stage.
    for (let i = 0; i < 5; i++) {
      const c = widths[i]!;
      const conv = this.addChild(`conv${i}`, new Conv(i === 0 ? 64 : widths[i - 1]!, c, 1, { bias: false }));
      const bn = this.addChild(`bn${i}`, new BatchNorm(c));
      const blocks: SABlock[] = [];
      for (let j = 0; j < layers[i]!; j++) blocks.push(new SABlock(c, { ...cfg, kernelSize: kernels[i] }));
      const layer = this.addChild(`layer${i}`, new Sequential(...blocks));
      this.stages.push({ conv, bn, layer });
    }
    this.fc = this.addChild('fc', new Linear(2048, cfg.numClasses ?? 1000));
  }
  /** [B, 3, H, W] -> [B, numClasses]. */
  forward(x: Tensor): Tensor {
    let y = F.relu(this.bnIn.call(this.convIn.call(x)));
    for (const s of this.stages) y = F.relu(s.bn.call(s.layer.call(s.conv.call(F.maxPool(y, { kernel: 2, stride: 2 })))));
    return this.fc.call(F.globalAvgPool(y)); // [B, numClasses]
  }
  /** Every SA module, for attention maps and aggregation FLOPs. */
  attentionModules(): (PairwiseSelfAttention | PatchwiseSelfAttention)[] {
    return this.stages.flatMap((s) => s.layer.layers.map((b) => (b as SABlock).sam));
  }
  /** Aggregation multiply-adds of the last traced call (elementwise, not counted by `countFlops`). */
  aggregationMacs(): number {
    return this.attentionModules().reduce((t, m) => t + m.lastAggregationMacs, 0);
  }
  /** Relation ops (subtraction of features and of position encodings) of the last traced call. */
  relationOps(): number {
    return this.attentionModules().reduce((t, m) => t + m.lastRelationOps, 0);
  }
  /** Attention weights of the last traced call by module path (needs `returnAttention`). */
  attentionMaps(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const m of this.attentionModules()) if (m.lastAttention) out[`attn.${m.path}`] = m.lastAttention;
    return out;
  }
}

/**
 * GFLOPs as the SAN paper counts them (its `util/complexity.py`, from flops-counter.pytorch), from a
 * batch-1 summary of the model: conv/linear multiply-adds (`countFlops`) plus conv biases (one per
 * output), BatchNorm (2 per element), the ReLU after every BatchNorm (1 per element), pooling (1 per
 * input element), relation subtractions (1 per output) and the aggregation (k*k per output).
 */
export function sanPaperGflops(model: SAN, summary: { gflops: number; layers: { path: string; type: string; outputShape: number[][] }[] }): number {
  const modules = new Map(model.namedModules());
  const numel = (s: number[]) => s.reduce((p, d) => p * d, 1);
  let extra = model.aggregationMacs() + model.relationOps();
  for (const row of summary.layers) {
    const n = numel(row.outputShape[0] ?? []);
    const m = modules.get(row.path);
    if (m instanceof BatchNorm) extra += 3 * n + (/^bn(_in|\d)$/.test(row.path) ? n : 0); // BN + ReLU (+ the next max/avg pool)
    if (m instanceof Conv && m.bias) extra += n;
  }
  return summary.gflops + extra / 1e9;
}

/** Strips DataParallel's `module.` prefix of the official checkpoints. */
export const sanMapKey = (key: string): string | null => key.replace(/^module\./, '');
