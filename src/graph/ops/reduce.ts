/**
 * Reductions over axes (sum, mean, max) with keepdims, and argmax. Lowered to ONNX Reduce* (opset 17 or 18).
 */
import { defineOp, apply1, fail, type OpDef } from '../op.js';
import type { Tensor } from '../graph.js';
import { A, OPSET } from '../emitter.js';
import { normAxis } from '../shape.js';
import { div, equal, mul, cast } from './elementwise.js';
import { expand, reshape } from './shape_ops.js';

interface ReduceAttrs {
  /** Axes to reduce (may be negative); undefined = all. */
  axes: number[] | undefined;
  keepdims: boolean;
}

function reducedShape(shape: readonly number[], axes: number[], keepdims: boolean): number[] {
  return keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

function normAxes(x: Tensor, axes: readonly number[] | undefined): number[] {
  if (axes === undefined) return x.shape.map((_, i) => i);
  const out: number[] = [];
  for (const a of axes) {
    const n = normAxis(a, x.rank);
    if (n === null) fail(`axis ${a} out of range for rank ${x.rank}`);
    if (out.includes(n)) fail(`axis ${a} repeated`);
    out.push(n);
  }
  return out.sort((p, q) => p - q);
}

function defineReduce(name: string, onnxOp: string, grad: (x: Tensor, y: Tensor, g: Tensor, axes: number[]) => Tensor): OpDef<ReduceAttrs> {
  return defineOp<ReduceAttrs>({
    name,
    infer(ins, { axes, keepdims }) {
      const x = ins[0]!;
      if (x.dtype === 'bool') fail('cannot reduce bool');
      return [{ shape: reducedShape(x.shape, normAxes(x, axes), keepdims), dtype: x.dtype }];
    },
    lower(e, ins, outs, { axes, keepdims }, node) {
      const list = normAxes(node.inputs[0]!, axes);
      // ONNX reads an empty axis list as "reduce everything"; here it means "reduce nothing".
      if (list.length === 0) return void e.node('Identity', ins, outs);
      // Opset 17: ReduceSum takes axes as an input, ReduceMean/ReduceMax as an attribute; from opset 18 all take an input.
      if (onnxOp === 'ReduceSum' || OPSET >= 18) e.node(onnxOp, [ins[0]!, e.i64(list)], outs, { keepdims: A.i(keepdims ? 1 : 0) });
      else e.node(onnxOp, [ins[0]!], outs, { axes: A.ints(list), keepdims: A.i(keepdims ? 1 : 0) });
    },
    grad: (node, [g], { axes }) => [g ? grad(node.inputs[0]!, node.outputs[0]!, g, normAxes(node.inputs[0]!, axes)) : null],
  });
}

/** Broadcasts a reduced gradient back to the input's shape. */
function unreduce(g: Tensor, x: Tensor, axes: number[]): Tensor {
  return expand(reshape(g, reducedShape(x.shape, axes, true)), x.shape);
}

const sumOp = defineReduce('reduce_sum', 'ReduceSum', (x, _y, g, axes) => unreduce(g, x, axes));
const meanOp = defineReduce('reduce_mean', 'ReduceMean', (x, _y, g, axes) => {
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  return unreduce(div(g, count), x, axes);
});
const maxOp = defineReduce('reduce_max', 'ReduceMax', (x, y, g, axes) => {
  // Ties share the gradient evenly (as torch.amax does).
  const mask = cast(equal(x, unreduce(y, x, axes)), 'float32');
  const count = unreduce(reduceSum(mask, axes, true), x, axes);
  return div(mul(mask, unreduce(g, x, axes)), count);
});

function reduce(op: OpDef<ReduceAttrs>, x: Tensor, axes: number | readonly number[] | undefined, keepdims: boolean): Tensor {
  const list = axes === undefined ? undefined : typeof axes === 'number' ? [axes] : [...axes];
  return apply1(op, [x], { axes: list, keepdims });
}

export const reduceSum = (x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor => reduce(sumOp, x, axes, keepdims);
export const reduceMean = (x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor => reduce(meanOp, x, axes, keepdims);
export const reduceMax = (x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor => reduce(maxOp, x, axes, keepdims);

const argmaxOp = defineOp<{ axis: number; keepdims: boolean }>({
  name: 'argmax',
  infer(ins, { axis, keepdims }) {
    const x = ins[0]!;
    const a = normAxis(axis, x.rank);
    if (a === null) fail(`axis ${axis} out of range for rank ${x.rank}`);
    return [{ shape: reducedShape(x.shape, [a], keepdims), dtype: 'int64' }];
  },
  lower(e, ins, outs, { axis, keepdims }) {
    e.node('ArgMax', ins, outs, { axis: A.i(axis), keepdims: A.i(keepdims ? 1 : 0), select_last_index: A.i(0) });
  },
});

export const argmax = (x: Tensor, axis: number, keepdims = false): Tensor => apply1(argmaxOp, [x], { axis, keepdims });
