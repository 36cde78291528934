/**
 * The op registry. An op keeps together its shape rule (`infer`), its ONNX lowering (`lower`) and
 * its gradient (`grad`), so changing an op means changing one place. Gradients are written with the
 * same graph ops, so backward graphs use only standard ONNX ops too.
 */
import type { DType } from './dtype.js';
import { Graph, Tensor, type Node } from './graph.js';
import type { Shape } from './shape.js';
import { fmtShape } from './shape.js';
import { ShapeError } from '../util/errors.js';
import type { Emitter } from './emitter.js';

export interface TensorInfo {
  shape: Shape;
  dtype: DType;
}

export interface OpDef<A = Record<string, never>> {
  /** Unique op name (snake_case), shown in errors. */
  readonly name: string;
  /**
   * Output shapes and dtypes for the given inputs, or throws `fail(reason)`.
   * Called at graph-build time.
   */
  infer(inputs: readonly Tensor[], attrs: A): TensorInfo[];
  /** Emits standard ONNX nodes computing `outs` from `ins` (value names). */
  lower(e: Emitter, ins: readonly string[], outs: readonly string[], attrs: A, node: Node): void;
  /**
   * Gradients of the loss w.r.t. each input, given the gradients w.r.t. each output
   * (null where an output does not influence the loss). Return null for non-differentiable inputs.
   * Omit for ops with no gradient (integer/boolean results).
   */
  grad?(node: Node, outGrads: readonly (Tensor | null)[], attrs: A): (Tensor | null)[];
}

const registry = new Map<string, OpDef<never>>();

/** Registers an op; names must be unique. */
export function defineOp<A>(def: OpDef<A>): OpDef<A> {
  if (registry.has(def.name)) throw new Error(`op "${def.name}" registered twice`);
  registry.set(def.name, def as unknown as OpDef<never>);
  return def;
}

export function listOps(): string[] {
  return [...registry.keys()].sort();
}

export function getOp(name: string): OpDef<never> | undefined {
  return registry.get(name);
}

/** Thrown inside `infer` to report why shapes do not fit; `applyOp` adds op, shapes and scope. */
export class InferFailure extends Error {}

export function fail(reason: string): never {
  throw new InferFailure(reason);
}

/** Applies an op to tensors of the current graph and returns its outputs. */
export function applyOp<A>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor[] {
  const first = inputs.find((t) => t instanceof Tensor);
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor)) {
      const scope = (first?.graph ?? Graph.currentOrNull())?.scope;
      throw new ShapeError(`${scope ? scope + ': ' : ''}${op.name}: expected a Tensor as input ${i} but received ${t === null ? 'null' : typeof t === 'object' ? ((t as object).constructor?.name ?? 'an object') : typeof t === 'string' ? JSON.stringify(t) : String(t)}`);
    }
  });
  const g = first ? first.graph : Graph.current();
  inputs.forEach((t, i) => {
    if (t.graph !== g) {
      const shapes = inputs.map((u) => fmtShape(u.shape)).join(' x ');
      throw new ShapeError(`${g.scope ? g.scope + ': ' : ''}${op.name} ${shapes}: input ${i} belongs to another graph (a tensor kept from an earlier trace, or a binding reused across graphs)`);
    }
  });
  let infos: TensorInfo[];
  try {
    infos = op.infer(inputs, attrs);
  } catch (err) {
    if (err instanceof InferFailure) {
      const shapes = inputs.map((t) => fmtShape(t.shape)).join(' x ');
      throw new ShapeError(`${g.scope ? g.scope + ': ' : ''}${op.name} ${shapes}: ${err.message}`);
    }
    throw err;
  }
  const node = g.addNode(op as unknown as OpDef<never>, inputs, attrs as unknown as Record<string, unknown>);
  infos.forEach((info, index) => node.outputs.push(new Tensor(g, info.shape, info.dtype, { kind: 'node', node, index })));
  return [...node.outputs]; // a copy: callers may reorder or splice the list they get
}

/** Applies a single-output op. */
export function apply1<A>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  return applyOp(op, inputs, attrs)[0]!;
}
