/**
 * Parameter-free layers: activations, dropout / drop-path, pooling, flatten, identity, and the
 * containers Sequential and ModuleList.
 */
import type { Tensor } from '../../graph/graph.js';
import * as F from '../../graph/ops/index.js';
import type { PoolOptions } from '../../graph/ops/pool.js';
import { Module } from '../module.js';
import { checkNumber } from '../../util/errors.js';

/** A module applying a fixed function. */
export class Lambda extends Module {
  constructor(
    readonly fnName: string,
    private readonly fn: (x: Tensor) => Tensor,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.fn(x);
  }
}

export const ReLU = (): Lambda => new Lambda('relu', F.relu);
export const GELU = (): Lambda => new Lambda('gelu', F.gelu);
export const Sigmoid = (): Lambda => new Lambda('sigmoid', F.sigmoid);
export const Tanh = (): Lambda => new Lambda('tanh', F.tanh);
export const SiLU = (): Lambda => new Lambda('silu', F.silu);
export const Identity = (): Lambda => new Lambda('identity', (x) => x);
export const Flatten = (startAxis = 1): Lambda => new Lambda('flatten', (x) => F.flatten(x, startAxis));
export const MaxPool2d = (opts: PoolOptions): Lambda => new Lambda('max_pool', (x) => F.maxPool(x, opts));
export const AvgPool2d = (opts: PoolOptions): Lambda => new Lambda('avg_pool', (x) => F.avgPool(x, opts));
/** [N, C, *S] -> [N, C]. */
export const GlobalAvgPool = (): Lambda => new Lambda('global_avg_pool', (x) => F.globalAvgPool(x));

export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    checkNumber('Dropout', 'p', p, 0, 0.999);
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }
}

/** Stochastic depth (Huang et al. 2016): drops the residual branch per sample. */
export class DropPath extends Module {
  constructor(readonly p = 0) {
    super();
    checkNumber('DropPath', 'p', p, 0, 0.999);
  }
  forward(x: Tensor): Tensor {
    return F.dropPath(x, this.p, this.training);
  }
}

/** Applies child modules in order; children are named 0, 1, 2, ... */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers.map((m, i) => this.addChild(String(i), m));
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.layers) y = (m as unknown as { call(x: Tensor): Tensor }).call(y);
    return y;
  }
}

/** A list of child modules named 0, 1, 2, ... (call them yourself). */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[] = [];
  constructor(items: M[] = []) {
    super();
    for (const m of items) this.push(m);
  }
  push(m: M): M {
    this.items.push(this.addChild(String(this.items.length), m));
    return m;
  }
  get length(): number {
    return this.items.length;
  }
  forward(): never {
    throw new Error('ModuleList has no forward; call its items');
  }
}
