/**
 * Convolution layers: Conv (1-3 spatial dims; Conv2d / Conv3d aliases) and ConvTranspose2d,
 * PyTorch weight layouts and default initialisation.
 */
import type { Tensor } from '../../graph/graph.js';
import { conv, convTranspose, perDim } from '../../graph/ops/conv.js';
import { Module, type Parameter } from '../module.js';
import { biasDefault, kaimingUniformDefault, type Initializer } from '../init.js';
import { checkInt, invalidArg } from '../../util/errors.js';

export interface ConvLayerOptions {
  /** Stride per spatial dim (default 1). */
  stride?: number | number[];
  /** Symmetric zero padding per spatial dim (default 0), or 'same' for odd kernels at stride 1. */
  padding?: number | number[] | 'same';
  /** Dilation (default 1). */
  dilation?: number | number[];
  /** Channel groups (default 1; = channels for depthwise). */
  groups?: number;
  /** Learn a bias (default true). */
  bias?: boolean;
  /** Number of spatial dims (default 2). */
  dims?: 1 | 2 | 3;
  weightInit?: Initializer;
  biasInit?: Initializer;
}

export class Conv extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly kernel: number[];
  private readonly opts: { stride: number[]; padding: number[]; dilation: number[]; groups: number };
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | number[],
    opts: ConvLayerOptions = {},
  ) {
    super();
    const n = checkInt('Conv', 'dims', opts.dims ?? 2, 1, 3);
    const groups = checkInt('Conv', 'groups', opts.groups ?? 1, 1);
    checkInt('Conv', 'inChannels', inChannels, 1);
    checkInt('Conv', 'outChannels', outChannels, 1);
    if (inChannels % groups || outChannels % groups) invalidArg('Conv', 'groups', `a divisor of ${inChannels} and ${outChannels}`, groups);
    this.kernel = perDim(kernelSize, n, 1);
    if (this.kernel.length !== n || !this.kernel.every((k) => Number.isInteger(k) && k >= 1)) invalidArg('Conv', 'kernelSize', `${n} positive integer${n > 1 ? 's' : ''} (or one for all dims)`, kernelSize);
    const dilation = perDim(opts.dilation, n, 1);
    const padding =
      opts.padding === 'same' ? this.kernel.map((k, i) => ((k - 1) * dilation[i]!) / 2) : perDim(opts.padding, n, 0);
    if (padding.some((p) => !Number.isInteger(p))) invalidArg('Conv', 'padding', "'same' with odd kernels", opts.padding);
    this.opts = { stride: perDim(opts.stride, n, 1), padding, dilation, groups };
    this.weight = this.addParam('weight', [outChannels, inChannels / groups, ...this.kernel], opts.weightInit ?? kaimingUniformDefault);
    const fanIn = (inChannels / groups) * this.kernel.reduce((p, k) => p * k, 1);
    this.bias = opts.bias === false ? null : this.addParam('bias', [outChannels], opts.biasInit ?? biasDefault(fanIn));
  }
  forward(x: Tensor): Tensor {
    return conv(x, this.tensor(this.weight), this.bias && this.tensor(this.bias), this.opts);
  }
}

export { Conv as Conv2d, Conv as Conv3d };

export interface ConvTransposeLayerOptions extends Omit<ConvLayerOptions, 'padding'> {
  padding?: number | number[];
  outputPadding?: number | number[];
}

export class ConvTranspose2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  private readonly opts: ConvTransposeLayerOptions;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | number[],
    opts: ConvTransposeLayerOptions = {},
  ) {
    super();
    const n = opts.dims ?? 2;
    const groups = opts.groups ?? 1;
    checkInt('ConvTranspose2d', 'inChannels', inChannels, 1);
    checkInt('ConvTranspose2d', 'outChannels', outChannels, 1);
    const kernel = perDim(kernelSize, n, 1);
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups || outChannels % groups) invalidArg('ConvTranspose2d', 'groups', `a divisor of ${inChannels} and ${outChannels}`, groups);
    this.opts = opts;
    // PyTorch layout [in, out/groups, *k]; its fan_in is computed from dim 1.
    this.weight = this.addParam('weight', [inChannels, outChannels / groups, ...kernel], opts.weightInit ?? kaimingUniformDefault);
    const fanIn = (outChannels / groups) * kernel.reduce((p, k) => p * k, 1);
    this.bias = opts.bias === false ? null : this.addParam('bias', [outChannels], opts.biasInit ?? biasDefault(fanIn));
  }
  forward(x: Tensor): Tensor {
    const { stride, padding, dilation, groups, outputPadding } = this.opts;
    return convTranspose(x, this.tensor(this.weight), this.bias && this.tensor(this.bias), { stride, padding, dilation, groups, outputPadding });
  }
}
