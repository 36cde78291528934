/**
 * ResNets with bottleneck blocks (He et al. 2016, "Deep Residual Learning for Image Recognition",
 * https://arxiv.org/abs/1512.03385; torchvision's v1.5 layout with the stride on the 3x3 conv) and
 * their attention variants:
 *   - SE-ResNet (Hu et al. 2018): Squeeze-Excite after bn3 of every block, before the residual add;
 *   - GC-ResNet (Cao et al. 2019): Global Context (r = 16) after bn3 in layer2..layer4 (the paper's
 *     stages c3-c5), before the residual add;
 *   - NL-ResNet (Wang et al. 2018): non-local blocks (embedded Gaussian) after residual blocks, by
 *     default the paper's "5 blocks" setting: every other block of res3 (layer2.1, layer2.3) and res4
 *     (layer3.1, layer3.3, layer3.5);
 *   - LESA-ResNet / LESA-WRN (Yang et al. 2021): LESA replaces the 3x3 conv (and its BN) of the last
 *     two stages; as the official code, layer4 keeps stride 1 (output stride 16) and the first
 *     (strided) block of layer3 keeps its convolution.
 * State-dict names are torchvision's (conv1, bn1, layer1.0.conv1, layer1.0.downsample.0/1, fc), so
 * torchvision / timm ResNet weights load by name; attention children are `se` (timm naming), `gc`,
 * `nl`, and LESA sits at `conv2`.
 */
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { Module } from '../nn/module.js';
import { Conv } from '../nn/layers/conv.js';
import { BatchNorm } from '../nn/layers/norm.js';
import { Linear } from '../nn/layers/linear.js';
import { ModuleList, Sequential } from '../nn/layers/basic.js';
import { kaimingNormal } from '../nn/init.js';
import { checkInt, invalidArg } from '../util/errors.js';
import { SqueezeExcite } from '../attention/squeeze_excite.js';
import { GlobalContext } from '../attention/global_context.js';
import { NonLocal, type NonLocalMode } from '../attention/non_local.js';
import { Lesa } from '../attention/lesa.js';

type Callable = Module & { call(x: Tensor): Tensor };
type Four<T> = [T, T, T, T];

export interface ResNetOptions {
  /** Bottleneck blocks per stage (required), e.g. [3, 4, 6, 3] for ResNet-50. */
  layers: Four<number>;
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Input channels (default 3). */
  inChannels?: number;
  /** Input [H, W], needed only by LESA (feature-map sizes) (default [224, 224]). */
  inputSize?: [number, number];
  /** Stem output channels (default 64). */
  stemWidth?: number;
  /** Base planes per stage; block outputs are 4x these (default [64, 128, 256, 512]). */
  planes?: Four<number>;
  /** Bottleneck inner width per group, torchvision's width_per_group (default 64; 128 = wide ResNet). */
  baseWidth?: number;
  /** Stride of each stage (default [1, 2, 2, 2]). */
  strides?: Four<number>;
  /** Start each block's last BN at scale 0 (default false, like torchvision). */
  zeroInitResidual?: boolean;
  /** Channel attention after bn3 of the blocks of the marked stages (default none). */
  attn?: { type: 'se' | 'gc'; stages: Four<boolean>; rdRatio?: number };
  /** Non-local blocks after the listed block indices of each stage (default none). */
  nonLocal?: { blocks: Four<number[]>; mode?: NonLocalMode; subSample?: boolean };
  /** LESA instead of the 3x3 conv in the marked stages, except a strided first block (default none). */
  lesa?: { stages: Four<boolean>; heads?: number; dynamicFusion?: boolean };
}

/** torchvision's Bottleneck (1x1 -> 3x3 (stride) -> 1x1, expansion 4) with optional attention. */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv;
  readonly bn1: BatchNorm;
  readonly conv2: Callable;
  readonly bn2: BatchNorm | null;
  readonly conv3: Conv;
  readonly bn3: BatchNorm;
  readonly attn: Callable | null = null;
  readonly downsample: Sequential | null;
  readonly nl: NonLocal | null = null;
  constructor(
    inplanes: number,
    planes: number,
    opts: {
      stride: number;
      width: number;
      zeroInit: boolean;
      attn?: { type: 'se' | 'gc'; rdRatio?: number };
      nonLocal?: { mode?: NonLocalMode; subSample?: boolean };
      lesa?: { fmapSize: [number, number]; heads?: number; dynamicFusion?: boolean };
    },
  ) {
    super();
    const ki = { bias: false, weightInit: kaimingNormal('fan_out') };
    const { stride, width } = opts;
    const out = planes * Bottleneck.expansion;
    this.conv1 = this.addChild('conv1', new Conv(inplanes, width, 1, ki));
    this.bn1 = this.addChild('bn1', new BatchNorm(width));
    if (opts.lesa) {
      this.conv2 = this.addChild('conv2', new Lesa(width, { fmapSize: opts.lesa.fmapSize, heads: opts.lesa.heads, dynamicFusion: opts.lesa.dynamicFusion, stride }));
      this.bn2 = null;
    } else {
      this.conv2 = this.addChild('conv2', new Conv(width, width, 3, { ...ki, stride, padding: 1 }));
      this.bn2 = this.addChild('bn2', new BatchNorm(width));
    }
    this.conv3 = this.addChild('conv3', new Conv(width, out, 1, ki));
    this.bn3 = this.addChild('bn3', new BatchNorm(out, { zeroInit: opts.zeroInit }));
    if (opts.attn) {
      const { type, rdRatio } = opts.attn;
      this.attn = type === 'se' ? this.addChild('se', new SqueezeExcite(out, { rdRatio })) : this.addChild('gc', new GlobalContext(out, { rdRatio }));
    }
    this.downsample =
      stride !== 1 || inplanes !== out ? this.addChild('downsample', new Sequential(new Conv(inplanes, out, 1, { ...ki, stride }), new BatchNorm(out))) : null;
    if (opts.nonLocal) this.nl = this.addChild('nl', new NonLocal(out, opts.nonLocal));
  }
  forward(x: Tensor): Tensor {
    let y = F.relu(this.bn1.call(this.conv1.call(x)));
    y = this.conv2.call(y);
    if (this.bn2) y = this.bn2.call(y);
    y = this.bn3.call(this.conv3.call(F.relu(y)));
    if (this.attn) y = this.attn.call(y);
    y = F.relu(F.add(y, this.downsample ? this.downsample.call(x) : x));
    return this.nl ? this.nl.call(y) : y;
  }
}

export class ResNet extends Module {
  readonly conv1: Conv;
  readonly bn1: BatchNorm;
  readonly stages: ModuleList<Bottleneck>[];
  readonly fc: Linear;
  readonly numFeatures: number;
  constructor(opts: ResNetOptions) {
    super();
    const layers = opts.layers;
    if (!Array.isArray(layers) || layers.length !== 4) invalidArg('ResNet', 'layers', '4 block counts', layers);
    layers.forEach((n) => checkInt('ResNet', 'layers[i]', n, 1));
    const stem = opts.stemWidth ?? 64;
    const planes = opts.planes ?? [64, 128, 256, 512];
    const strides = opts.strides ?? [1, 2, 2, 2];
    const baseWidth = opts.baseWidth ?? 64;
    const [H, W] = opts.inputSize ?? [224, 224];
    this.conv1 = this.addChild('conv1', new Conv(opts.inChannels ?? 3, stem, 7, { stride: 2, padding: 3, bias: false, weightInit: kaimingNormal('fan_out') }));
    this.bn1 = this.addChild('bn1', new BatchNorm(stem));
    // Feature-map size after the stem (conv 7x7/2 pad 3, max-pool 3x3/2 pad 1).
    const down = (d: number, k: number, s: number, p: number) => Math.floor((d + 2 * p - k) / s) + 1;
    let fmap: [number, number] = [down(down(H, 7, 2, 3), 3, 2, 1), down(down(W, 7, 2, 3), 3, 2, 1)];
    let inplanes = stem;
    this.stages = [];
    for (let s = 0; s < 4; s++) {
      const list = this.addChild(`layer${s + 1}`, new ModuleList<Bottleneck>());
      const width = Math.floor(planes[s]! * (baseWidth / 64));
      for (let b = 0; b < layers[s]!; b++) {
        const stride = b === 0 ? strides[s]! : 1;
        const fmapIn = fmap;
        if (stride > 1) fmap = [down(fmap[0], 3, stride, 1), down(fmap[1], 3, stride, 1)];
        // LESA works at the block's output resolution; a strided first block keeps its conv.
        const useLesa = opts.lesa?.stages[s] && stride === 1;
        list.push(
          new Bottleneck(inplanes, planes[s]!, {
            stride,
            width,
            zeroInit: opts.zeroInitResidual ?? false,
            attn: opts.attn?.stages[s] ? { type: opts.attn.type, rdRatio: opts.attn.rdRatio } : undefined,
            nonLocal: opts.nonLocal?.blocks[s]!.includes(b) ? { mode: opts.nonLocal.mode, subSample: opts.nonLocal.subSample } : undefined,
            lesa: useLesa ? { fmapSize: fmapIn, heads: opts.lesa!.heads, dynamicFusion: opts.lesa!.dynamicFusion } : undefined,
          }),
        );
        inplanes = planes[s]! * Bottleneck.expansion;
      }
      this.stages.push(list);
    }
    this.numFeatures = inplanes;
    this.fc = this.addChild('fc', new Linear(inplanes, opts.numClasses ?? 1000));
  }
  /** Pooled features [B, C] before the classifier. */
  forwardFeatures(x: Tensor): Tensor {
    let y = F.relu(this.bn1.call(this.conv1.call(x)));
    y = F.maxPool(y, { kernel: 3, stride: 2, padding: 1 });
    for (const stage of this.stages) for (const block of stage.items) y = block.call(y);
    return F.globalAvgPool(y); // [B, C]
  }
  forward(x: Tensor): Tensor {
    return this.fc.call(this.forwardFeatures(x)); // [B, numClasses]
  }
}

/** Foreign (torchvision / timm) key mapping: names match ours; BN's batch counters are dropped. */
export function resnetMapKey(key: string): string | null {
  return key.endsWith('num_batches_tracked') ? null : key;
}
