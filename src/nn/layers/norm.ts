/**
 * Normalisation layers: BatchNorm (over channel axis 1 of [N, C, *S]; running statistics updated by
 * the training step), LayerNorm (trailing dims), GroupNorm.
 */
import type { Tensor } from '../../graph/graph.js';
import { batchNorm, groupNorm, layerNorm } from '../../graph/ops/nn_functional.js';
import { Module, type Parameter, type Buffer } from '../module.js';
import { ones, zeros } from '../init.js';
import { checkInt, invalidArg } from '../../util/errors.js';

export interface BatchNormOptions {
  /** Epsilon added to the variance (default 1e-5). */
  eps?: number;
  /** Running-statistics momentum (default 0.1, PyTorch convention). */
  momentum?: number;
  /** Learn scale and shift (default true). */
  affine?: boolean;
  /** Initial scale (default 1; 0 makes a residual branch start as identity). */
  zeroInit?: boolean;
}

export class BatchNorm extends Module {
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  readonly runningMean: Buffer;
  readonly runningVar: Buffer;
  constructor(
    readonly channels: number,
    readonly opts: BatchNormOptions = {},
  ) {
    super();
    checkInt('BatchNorm', 'channels', channels, 1);
    const affine = opts.affine ?? true;
    this.weight = affine ? this.addParam('weight', [channels], opts.zeroInit ? zeros : ones) : null;
    this.bias = affine ? this.addParam('bias', [channels], zeros) : null;
    this.runningMean = this.addBuffer('running_mean', [channels], zeros);
    this.runningVar = this.addBuffer('running_var', [channels], ones);
  }
  forward(x: Tensor): Tensor {
    const r = batchNorm(x, this.weight && this.tensor(this.weight), this.bias && this.tensor(this.bias), this.tensor(this.runningMean), this.tensor(this.runningVar), {
      training: this.training,
      momentum: this.opts.momentum,
      eps: this.opts.eps,
    });
    if (r.runningMean && r.runningVar) {
      this.setBuf(this.runningMean, r.runningMean);
      this.setBuf(this.runningVar, r.runningVar);
    }
    return r.y;
  }
}

export { BatchNorm as BatchNorm2d, BatchNorm as BatchNorm1d, BatchNorm as BatchNorm3d };

export class LayerNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  readonly shape: number[];
  constructor(
    normalizedShape: number | number[],
    readonly eps = 1e-5,
  ) {
    super();
    this.shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    this.weight = this.addParam('weight', this.shape, ones);
    this.bias = this.addParam('bias', this.shape, zeros);
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.tensor(this.weight), this.tensor(this.bias), this.eps);
  }
}

export class GroupNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  constructor(
    readonly groups: number,
    readonly channels: number,
    readonly eps = 1e-5,
  ) {
    super();
    checkInt('GroupNorm', 'groups', groups, 1);
    if (channels % groups) invalidArg('GroupNorm', 'channels', `a multiple of groups (${groups})`, channels);
    this.weight = this.addParam('weight', [channels], ones);
    this.bias = this.addParam('bias', [channels], zeros);
  }
  forward(x: Tensor): Tensor {
    return groupNorm(x, this.groups, this.tensor(this.weight), this.tensor(this.bias), this.eps);
  }
}
