/**
 * Linear layer: y = x W^T + b, W [out, in] (PyTorch layout and default init).
 */
import type { Tensor } from '../../graph/graph.js';
import { linear } from '../../graph/ops/nn_functional.js';
import { Module, type Parameter } from '../module.js';
import { biasDefault, kaimingUniformDefault, type Initializer } from '../init.js';
import { checkInt } from '../../util/errors.js';

export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Weight initializer (default: PyTorch's kaiming_uniform(a=sqrt 5)). */
  weightInit?: Initializer;
  /** Bias initializer (default: U(-1/sqrt(in), 1/sqrt(in))). */
  biasInit?: Initializer;
}

export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    checkInt('Linear', 'inFeatures', inFeatures, 1);
    checkInt('Linear', 'outFeatures', outFeatures, 1);
    this.weight = this.addParam('weight', [outFeatures, inFeatures], opts.weightInit ?? kaimingUniformDefault);
    this.bias = opts.bias === false ? null : this.addParam('bias', [outFeatures], opts.biasInit ?? biasDefault(inFeatures));
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.tensor(this.weight), this.bias && this.tensor(this.bias));
  }
}
