/**
 * Module tree: named parameters and buffers with stable state-dict names (PyTorch style:
 * `layer1.0.conv1.weight`), train/eval mode, and the binding that turns parameters into graph
 * tensors while a forward pass is traced.
 */
import { Graph, Tensor } from '../graph/graph.js';
import { ArgumentError, AttnvisionError } from '../util/errors.js';
import type { Initializer } from './init.js';

/** A trainable tensor owned by a module. */
export class Parameter {
  constructor(
    readonly shape: readonly number[],
    readonly init: Initializer,
    /** Apply weight decay (default: rank >= 2, i.e. not biases or norm scales). */
    readonly decay: boolean = shape.length >= 2,
  ) {}
  get size(): number {
    return this.shape.reduce((p, d) => p * d, 1);
  }
}

/** Non-trainable state saved in checkpoints (e.g. BN running statistics, spectral-norm u). */
export class Buffer {
  constructor(
    readonly shape: readonly number[],
    readonly init: Initializer,
  ) {}
  get size(): number {
    return this.shape.reduce((p, d) => p * d, 1);
  }
}

/**
 * Supplies graph tensors for parameters and buffers while tracing, and collects buffer updates
 * made in training mode (running statistics...).
 */
export interface Binding {
  param(p: Parameter, path: string): Tensor;
  buffer(b: Buffer, path: string): Tensor;
  updateBuffer(b: Buffer, value: Tensor, path: string): void;
}

let currentBinding: Binding | null = null;

/** Runs `fn` with `binding` supplying parameter tensors (nests). */
export function withBinding<T>(binding: Binding, fn: () => T): T {
  const prev = currentBinding;
  currentBinding = binding;
  try {
    return fn();
  } finally {
    currentBinding = prev;
  }
}

function binding(): Binding {
  if (!currentBinding) throw new AttnvisionError('module called outside a traced step: use model.trace(...) or a training/inference runner');
  return currentBinding;
}

export abstract class Module {
  training = true;
  private parent: Module | null = null;
  private nameInParent = '';
  private readonly _params = new Map<string, Parameter>();
  private readonly _buffers = new Map<string, Buffer>();
  private readonly _children = new Map<string, Module>();

  /** Dotted path from the root module ('' for the root). */
  get path(): string {
    if (!this.parent) return '';
    const p = this.parent.path;
    return p ? `${p}.${this.nameInParent}` : this.nameInParent;
  }

  protected addParam(name: string, shape: readonly number[], init: Initializer, decay?: boolean): Parameter {
    this.checkName(name);
    this.checkShape(name, shape);
    const p = new Parameter([...shape], init, decay);
    this._params.set(name, p);
    return p;
  }

  protected addBuffer(name: string, shape: readonly number[], init: Initializer): Buffer {
    this.checkName(name);
    this.checkShape(name, shape);
    const b = new Buffer([...shape], init);
    this._buffers.set(name, b);
    return b;
  }

  /** A parameter or buffer shape of positive integers: a bad layer size is named where it is given. */
  private checkShape(name: string, shape: readonly number[]): void {
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new ArgumentError(`${this.constructor.name}: ${name} would have shape ${JSON.stringify(shape)}; check the layer's sizes (dimensions must be integers >= 1)`);
    }
  }

  /** Registers a child module under `name` and returns it. */
  protected addChild<M extends Module>(name: string, m: M): M {
    this.checkName(name);
    if (!(m instanceof Module)) {
      const what = typeof m === 'function' ? "a function (wrap it: new Lambda('name', fn))" : m === null ? 'null' : typeof m;
      throw new ArgumentError(`${this.constructor.name}: child "${name}" is not a Module but ${what}`);
    }
    if (m.parent) throw new AttnvisionError(`module ${m.constructor.name} is already a child of "${m.parent.path}"`);
    m.parent = this;
    m.nameInParent = name;
    this._children.set(name, m);
    return m;
  }

  private checkName(name: string): void {
    if (!/^[A-Za-z0-9_]+$/.test(name)) throw new AttnvisionError(`invalid module member name "${name}" in ${this.constructor.name}`);
    if (this._params.has(name) || this._buffers.has(name) || this._children.has(name)) {
      throw new AttnvisionError(`"${name}" registered twice in ${this.path || this.constructor.name}`);
    }
  }

  children(): [string, Module][] {
    return [...this._children];
  }

  /** All parameters with full names, in registration order (depth first). */
  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [n, p] of this._params) out.push([prefix + n, p]);
    for (const [n, c] of this._children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  namedBuffers(prefix = ''): [string, Buffer][] {
    const out: [string, Buffer][] = [];
    for (const [n, b] of this._buffers) out.push([prefix + n, b]);
    for (const [n, c] of this._children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [n, c] of this._children) out.push(...c.namedModules(`${prefix}${n}.`));
    return out;
  }

  numParameters(): number {
    return this.namedParameters().reduce((s, [, p]) => s + p.size, 0);
  }

  /** Sets train (true) or eval (false) mode recursively. */
  train(mode = true): this {
    this.training = mode;
    for (const c of this._children.values()) c.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** The graph tensor of a parameter or buffer of this module (inside a traced call). */
  protected tensor(x: Parameter | Buffer): Tensor {
    return x instanceof Parameter ? binding().param(x, this.memberPath(x)) : binding().buffer(x, this.memberPath(x));
  }

  /** Records a new value for a buffer (train mode), written back after the step. */
  protected setBuf(b: Buffer, value: Tensor): void {
    binding().updateBuffer(b, value, this.memberPath(b));
  }

  private memberPath(x: Parameter | Buffer): string {
    const map = x instanceof Parameter ? this._params : this._buffers;
    for (const [n, v] of map) if (v === x) return this.path ? `${this.path}.${n}` : n;
    return this.path;
  }

  abstract forward(...args: never[]): unknown;

  /** Calls `forward` with this module's path as the graph scope (used in error messages). */
  call(...args: Parameters<this['forward']>): ReturnType<this['forward']> {
    const g = Graph.current();
    const out = g.withScope(this.path, () => (this.forward as (...a: unknown[]) => ReturnType<this['forward']>)(...args));
    const tensors = (Array.isArray(out) ? out : [out]).filter((t): t is Tensor => t instanceof Tensor);
    g.moduleCalls.push({ path: this.path, outputs: tensors });
    return out;
  }
}
