/**
 * Helpers shared by op definitions: coercion of numbers to scalar tensors, broadcasting gradients
 * back to an input's shape (`sumTo`).
 */
import { Graph, Tensor } from '../graph.js';
import { ShapeError } from '../../util/errors.js';
import type { DType } from '../dtype.js';
import type { Shape } from '../shape.js';
import { fmtShape, sameShape } from '../shape.js';
import { reduceSum } from './reduce.js';
import { reshape } from './shape_ops.js';

/** A tensor, or a JS number that becomes a scalar constant of the other operand's dtype. */
export type TensorLike = Tensor | number;

export function toTensor(x: TensorLike, like?: Tensor | DType): Tensor {
  if (x instanceof Tensor) return x;
  const g = like instanceof Tensor ? like.graph : Graph.current();
  const dtype: DType = like instanceof Tensor ? like.dtype : (like ?? 'float32');
  return g.scalar(x, dtype);
}

/** Coerces a binary op's operands: numbers take the dtype of the tensor operand. */
export function coercePair(a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (a instanceof Tensor) return [a, toTensor(b, a)];
  if (b instanceof Tensor) return [toTensor(a, b), b];
  const g = Graph.current();
  return [g.scalar(a), g.scalar(b)];
}

/** Sums a broadcast gradient back to `shape` (the inverse of numpy broadcasting). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? reduceSum(g, axes, true) : g;
  return reshape(summed, shape);
}

/**
 * Throws the ShapeError `applyOp` throws for a failed shape rule, for functions that check their
 * arguments before (or instead of) applying a primitive: `<scope>: <op> <shapes>: <reason>`.
 */
export function shapeError(op: string, inputs: readonly Tensor[], reason: string): never {
  const scope = inputs[0]?.graph.scope ?? Graph.currentOrNull()?.scope ?? '';
  const shapes = inputs.map((t) => ' ' + fmtShape(t.shape)).join(' x');
  throw new ShapeError(`${scope ? scope + ': ' : ''}${op}${shapes}: ${reason}`);
}
