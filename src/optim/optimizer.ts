/**
 * Optimizers as graph code: the update runs inside the training-step graph on flat [P] buffers.
 *
 * - SGD with momentum, dampening, Nesterov and (coupled, L2) weight decay: PyTorch's torch.optim.SGD.
 * - AdamW (Loshchilov & Hutter 2019, decoupled weight decay): torch.optim.AdamW.
 * Weight decay is multiplied by a per-element mask (1 for weights, 0 for biases and norm scales).
 */
import type { Tensor } from '../graph/graph.js';
import { add, div, mul, pow, sqrt, sub } from '../graph/ops/elementwise.js';
import { checkKeys, checkNumber, invalidArg } from '../util/errors.js';

export interface UpdateInputs {
  /** Parameters [P]. */
  p: Tensor;
  /** Gradients [P] (already clipped). */
  g: Tensor;
  /** Optimizer state buffers, one per `stateNames` entry, each [P]. */
  states: Tensor[];
  /** Learning rate, scalar. */
  lr: Tensor;
  /** 1-based step count as float scalar (for bias correction). */
  step: Tensor;
  /** Weight-decay mask [P]. */
  decayMask: Tensor;
}

export interface Optimizer {
  readonly name: string;
  readonly stateNames: readonly string[];
  update(i: UpdateInputs): { p: Tensor; states: Tensor[] };
  /** Hyper-parameters, for logs and checkpoints. */
  config(): Record<string, number | boolean | string>;
}

export interface SGDOptions {
  /** Momentum factor (default 0). */
  momentum?: number;
  /** Dampening for momentum (default 0). */
  dampening?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
}

export class SGD implements Optimizer {
  readonly name = 'sgd';
  readonly stateNames: readonly string[];
  private readonly o: Required<SGDOptions>;
  constructor(opts: SGDOptions = {}) {
    checkKeys('SGD', opts, ['momentum', 'dampening', 'nesterov', 'weightDecay']);
    this.o = { momentum: opts.momentum ?? 0, dampening: opts.dampening ?? 0, nesterov: opts.nesterov ?? false, weightDecay: opts.weightDecay ?? 0 };
    checkNumber('SGD', 'momentum', this.o.momentum, 0, 1);
    checkNumber('SGD', 'weightDecay', this.o.weightDecay, 0);
    checkNumber('SGD', 'dampening', this.o.dampening, 0, 1);
    if (this.o.nesterov && (this.o.momentum <= 0 || this.o.dampening !== 0)) {
      checkNumber('SGD', 'momentum (> 0 with zero dampening for Nesterov)', NaN);
    }
    this.stateNames = this.o.momentum > 0 ? ['momentum'] : [];
  }
  update({ p, g, states, lr, step, decayMask }: UpdateInputs) {
    const { momentum, dampening, nesterov, weightDecay } = this.o;
    let d = weightDecay > 0 ? add(g, mul(mul(decayMask, weightDecay), p)) : g;
    const out: Tensor[] = [];
    if (momentum > 0) {
      // PyTorch initialises the buffer with the first gradient: buf = g at step 1.
      const prev = states[0]!;
      const isFirst = sub(1, pow(0, sub(step, 1))); // 0 at step 1, 1 after
      const buf = add(mul(prev, mul(isFirst, momentum)), mul(d, sub(1, mul(isFirst, dampening))));
      out.push(buf);
      d = nesterov ? add(d, mul(buf, momentum)) : buf;
    }
    return { p: sub(p, mul(d, lr)), states: out };
  }
  config() {
    return { optimizer: 'sgd', ...this.o };
  }
}

export interface AdamWOptions {
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay (default 0.01). */
  weightDecay?: number;
}

export class AdamW implements Optimizer {
  readonly name = 'adamw';
  readonly stateNames = ['exp_avg', 'exp_avg_sq'] as const;
  private readonly o: Required<AdamWOptions>;
  constructor(opts: AdamWOptions = {}) {
    checkKeys('AdamW', opts, ['beta1', 'beta2', 'eps', 'weightDecay']);
    this.o = { beta1: opts.beta1 ?? 0.9, beta2: opts.beta2 ?? 0.999, eps: opts.eps ?? 1e-8, weightDecay: opts.weightDecay ?? 0.01 };
    checkNumber('AdamW', 'beta1', this.o.beta1, 0, 0.99999);
    checkNumber('AdamW', 'beta2', this.o.beta2, 0, 0.99999999);
    checkNumber('AdamW', 'weightDecay', this.o.weightDecay, 0);
    if (!(this.o.eps > 0 && Number.isFinite(this.o.eps))) invalidArg('AdamW', 'eps', 'a finite number > 0', this.o.eps);
  }
  update({ p, g, states, lr, step, decayMask }: UpdateInputs) {
    const { beta1, beta2, eps, weightDecay } = this.o;
    const decayed = weightDecay > 0 ? sub(p, mul(p, mul(decayMask, mul(lr, weightDecay)))) : p;
    const m = add(mul(states[0]!, beta1), mul(g, 1 - beta1));
    const v = add(mul(states[1]!, beta2), mul(mul(g, g), 1 - beta2));
    const bc1 = sub(1, pow(beta1, step));
    const bc2 = sub(1, pow(beta2, step));
    // p -= lr / bc1 * m / (sqrt(v / bc2) + eps)
    const denom = add(sqrt(div(v, bc2)), eps);
    const pNew = sub(decayed, mul(div(m, denom), div(lr, bc1)));
    return { p: pNew, states: [m, v] };
  }
  config() {
    return { optimizer: 'adamw', ...this.o };
  }
}
