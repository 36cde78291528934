/**
 * Elementwise ops with numpy broadcasting: arithmetic, comparisons, logic, `where`, unary math,
 * activations, `cast` and `clip`. Each op's shape rule, ONNX lowering and gradient live together.
 */
import { defineOp, apply1, fail, type OpDef } from '../op.js';
import type { Tensor } from '../graph.js';
import { isDType, type DType } from '../dtype.js';
import { A } from '../emitter.js';
import { broadcastShapes, fmtShape } from '../shape.js';
import { coercePair, shapeError, sumTo, toTensor, type TensorLike } from './common.js';

// ---------------------------------------------------------------------------------------------
// Binary arithmetic

type BinaryGrad = (a: Tensor, b: Tensor, y: Tensor, g: Tensor) => [Tensor | null, Tensor | null];

function binaryInfer(numeric: boolean, outDtype?: DType) {
  return (ins: readonly Tensor[]) => {
    const [a, b] = ins as [Tensor, Tensor];
    if (a.dtype !== b.dtype) fail(`dtypes differ: ${a.dtype} vs ${b.dtype}`);
    if (numeric && a.dtype === 'bool') fail('bool operands are not numeric');
    const shape = broadcastShapes(a.shape, b.shape);
    if (!shape) fail(`shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not broadcast`);
    return [{ shape, dtype: outDtype ?? a.dtype }];
  };
}

function defineBinary(name: string, onnxOp: string, grad?: BinaryGrad, outDtype?: DType, numeric = true): OpDef {
  return defineOp<Record<string, never>>({
    name,
    infer: binaryInfer(numeric, outDtype),
    lower: (e, ins, outs) => void e.node(onnxOp, ins, outs),
    grad: grad
      ? (node, [g]) => {
          if (!g) return [null, null];
          const [a, b] = node.inputs as [Tensor, Tensor];
          const [ga, gb] = grad(a, b, node.outputs[0]!, g);
          return [ga && sumTo(ga, a.shape), gb && sumTo(gb, b.shape)];
        }
      : undefined,
  });
}

const addOp = defineBinary('add', 'Add', (_a, _b, _y, g) => [g, g]);
const subOp = defineBinary('sub', 'Sub', (_a, _b, _y, g) => [g, neg(g)]);
const mulOp = defineBinary('mul', 'Mul', (a, b, _y, g) => [mul(g, b), mul(g, a)]);
const divOp = defineBinary('div', 'Div', (_a, b, y, g) => {
  const ga = div(g, b);
  return [ga, neg(mul(ga, y))];
});
const powOp = defineBinary('pow', 'Pow', (a, b, y, g) => [
  mul(g, mul(b, pow(a, sub(b, 1)))),
  // d/db a^b = a^b ln a (defined for a > 0; 0 where a <= 0 as PyTorch does for a == 0)
  mul(g, where(greater(a, 0), mul(y, log(maximum(a, 1e-30))), 0)),
]);
const maximumOp = defineBinary('maximum', 'Max', (a, b, _y, g) => {
  const takeA = greaterEqual(a, b);
  return [where(takeA, g, 0), where(takeA, 0, g)];
});
const minimumOp = defineBinary('minimum', 'Min', (a, b, _y, g) => {
  const takeA = lessEqual(a, b);
  return [where(takeA, g, 0), where(takeA, 0, g)];
});
const equalOp = defineBinary('equal', 'Equal', undefined, 'bool', false);
const lessOp = defineBinary('less', 'Less', undefined, 'bool');
const greaterOp = defineBinary('greater', 'Greater', undefined, 'bool');
const lessEqualOp = defineBinary('less_equal', 'LessOrEqual', undefined, 'bool');
const greaterEqualOp = defineBinary('greater_equal', 'GreaterOrEqual', undefined, 'bool');
const andOp = defineBinary('logical_and', 'And', undefined, 'bool', false);
const orOp = defineBinary('logical_or', 'Or', undefined, 'bool', false);

export const add = (a: TensorLike, b: TensorLike): Tensor => apply1(addOp, coercePair(a, b), {});
export const sub = (a: TensorLike, b: TensorLike): Tensor => apply1(subOp, coercePair(a, b), {});
export const mul = (a: TensorLike, b: TensorLike): Tensor => apply1(mulOp, coercePair(a, b), {});
export const div = (a: TensorLike, b: TensorLike): Tensor => apply1(divOp, coercePair(a, b), {});
export const pow = (a: TensorLike, b: TensorLike): Tensor => apply1(powOp, coercePair(a, b), {});
export const maximum = (a: TensorLike, b: TensorLike): Tensor => apply1(maximumOp, coercePair(a, b), {});
export const minimum = (a: TensorLike, b: TensorLike): Tensor => apply1(minimumOp, coercePair(a, b), {});
export const equal = (a: TensorLike, b: TensorLike): Tensor => apply1(equalOp, coercePair(a, b), {});
export const less = (a: TensorLike, b: TensorLike): Tensor => apply1(lessOp, coercePair(a, b), {});
export const greater = (a: TensorLike, b: TensorLike): Tensor => apply1(greaterOp, coercePair(a, b), {});
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => apply1(lessEqualOp, coercePair(a, b), {});
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => apply1(greaterEqualOp, coercePair(a, b), {});
export const logicalAnd = (a: Tensor, b: Tensor): Tensor => apply1(andOp, [a, b], {});
export const logicalOr = (a: Tensor, b: Tensor): Tensor => apply1(orOp, [a, b], {});

// ---------------------------------------------------------------------------------------------
// where(cond, a, b)

const whereOp = defineOp<Record<string, never>>({
  name: 'where',
  infer(ins) {
    const [c, a, b] = ins as [Tensor, Tensor, Tensor];
    if (c.dtype !== 'bool') fail(`condition must be bool, got ${c.dtype}`);
    if (a.dtype !== b.dtype) fail(`branch dtypes differ: ${a.dtype} vs ${b.dtype}`);
    const shape = broadcastShapes(c.shape, a.shape, b.shape);
    if (!shape) fail('shapes do not broadcast');
    return [{ shape, dtype: a.dtype }];
  },
  lower: (e, ins, outs) => void e.node('Where', ins, outs),
  grad(node, [g]) {
    if (!g) return [null, null, null];
    const [c, a, b] = node.inputs as [Tensor, Tensor, Tensor];
    return [null, sumTo(where(c, g, 0), a.shape), sumTo(where(c, 0, g), b.shape)];
  },
});

export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = coercePair(a, b);
  return apply1(whereOp, [cond, ta, tb], {});
}

// ---------------------------------------------------------------------------------------------
// Unary ops

type UnaryGrad = (x: Tensor, y: Tensor, g: Tensor) => Tensor;

function defineUnary(name: string, onnxOp: string, grad?: UnaryGrad, dtypes: DType[] = ['float32']): OpDef {
  return defineOp<Record<string, never>>({
    name,
    infer(ins) {
      const x = ins[0]!;
      if (!dtypes.includes(x.dtype)) fail(`expected ${dtypes.join('|')} input, got ${x.dtype}`);
      return [{ shape: x.shape, dtype: x.dtype }];
    },
    lower: (e, ins, outs) => void e.node(onnxOp, ins, outs),
    grad: grad ? (node, [g]) => [g ? grad(node.inputs[0]!, node.outputs[0]!, g) : null] : undefined,
  });
}

const negOp = defineUnary('neg', 'Neg', (_x, _y, g) => neg(g), ['float32', 'int64', 'int32']);
const expOp = defineUnary('exp', 'Exp', (_x, y, g) => mul(g, y));
const logOp = defineUnary('log', 'Log', (x, _y, g) => div(g, x));
const sqrtOp = defineUnary('sqrt', 'Sqrt', (_x, y, g) => div(mul(g, 0.5), y));
const reciprocalOp = defineUnary('reciprocal', 'Reciprocal', (_x, y, g) => neg(mul(g, mul(y, y))));
const absOp = defineUnary('abs', 'Abs', (x, _y, g) => mul(g, sign(x)), ['float32', 'int64', 'int32']);
const reluOp = defineUnary('relu', 'Relu', (x, _y, g) => where(greater(x, 0), g, 0));
const sigmoidOp = defineUnary('sigmoid', 'Sigmoid', (_x, y, g) => mul(g, mul(y, sub(1, y))));
const tanhOp = defineUnary('tanh', 'Tanh', (_x, y, g) => mul(g, sub(1, mul(y, y))));
const erfOp = defineUnary('erf', 'Erf', (x, _y, g) => mul(g, mul(2 / Math.sqrt(Math.PI), exp(neg(mul(x, x))))));
const signOp = defineUnary('sign', 'Sign', undefined, ['float32', 'int64', 'int32']);
const floorOp = defineUnary('floor', 'Floor');
const notOp = defineUnary('logical_not', 'Not', undefined, ['bool']);

export const neg = (x: Tensor): Tensor => apply1(negOp, [x], {});
export const exp = (x: Tensor): Tensor => apply1(expOp, [x], {});
export const log = (x: Tensor): Tensor => apply1(logOp, [x], {});
export const sqrt = (x: Tensor): Tensor => apply1(sqrtOp, [x], {});
export const reciprocal = (x: Tensor): Tensor => apply1(reciprocalOp, [x], {});
export const abs = (x: Tensor): Tensor => apply1(absOp, [x], {});
export const relu = (x: Tensor): Tensor => apply1(reluOp, [x], {});
export const sigmoid = (x: Tensor): Tensor => apply1(sigmoidOp, [x], {});
export const tanh = (x: Tensor): Tensor => apply1(tanhOp, [x], {});
export const erf = (x: Tensor): Tensor => apply1(erfOp, [x], {});
export const sign = (x: Tensor): Tensor => apply1(signOp, [x], {});
export const floor = (x: Tensor): Tensor => apply1(floorOp, [x], {});
export const logicalNot = (x: Tensor): Tensor => apply1(notOp, [x], {});

/** 1 / sqrt(x). */
export const rsqrt = (x: Tensor): Tensor => reciprocal(sqrt(x));
export const square = (x: Tensor): Tensor => mul(x, x);
/** Exact GELU: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)). */
export const gelu = (x: Tensor): Tensor => mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
/** SiLU / swish: x * sigmoid(x). */
export const silu = (x: Tensor): Tensor => mul(x, sigmoid(x));
/** Numerically stable softplus: max(x, 0) + log(1 + exp(-|x|)). */
export const softplus = (x: Tensor): Tensor => add(relu(x), log(add(exp(neg(abs(x))), 1)));
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => where(greater(x, 0), x, mul(x, slope));

// ---------------------------------------------------------------------------------------------
// cast, clip

const castOp = defineOp<{ to: DType }>({
  name: 'cast',
  infer: (ins, { to }) => [{ shape: ins[0]!.shape, dtype: to }],
  lower: (e, ins, outs, { to }) => void e.node('Cast', ins, outs, { to: A.i({ float32: 1, int32: 6, int64: 7, bool: 9 }[to]) }),
  grad: (node, [g]) => [g && node.inputs[0]!.dtype === 'float32' && node.outputs[0]!.dtype === 'float32' ? g : null],
});

export function cast(x: Tensor, to: DType): Tensor {
  if (!isDType(to)) shapeError('cast', [x], `unsupported dtype ${String(to)} (expected float32, int64, int32 or bool)`);
  return x.dtype === to ? x : apply1(castOp, [x], { to });
}

const clipOp = defineOp<{ min: number; max: number }>({
  name: 'clip',
  infer(ins, { min, max }) {
    if (ins[0]!.dtype !== 'float32') fail('clip expects float32');
    if (!(min <= max)) fail(`min ${min} > max ${max}`);
    return [{ shape: ins[0]!.shape, dtype: 'float32' }];
  },
  lower: (e, ins, outs, { min, max }) => void e.node('Clip', [ins[0]!, e.f32(min), e.f32(max)], outs),
  grad(node, [g], { min, max }) {
    if (!g) return [null];
    const x = node.inputs[0]!;
    return [where(logicalAnd(greaterEqual(x, min), lessEqual(x, max)), g, 0)];
  },
});

/** Clamps to [min, max] (use +-Infinity for one-sided). */
export function clip(x: Tensor, min = -Infinity, max = Infinity): Tensor {
  return apply1(clipOp, [x], { min: Math.max(min, -3.4e38), max: Math.min(max, 3.4e38) });
}

// ---------------------------------------------------------------------------------------------
// stop_gradient

const stopGradientOp = defineOp<Record<string, never>>({
  name: 'stop_gradient',
  infer: (ins) => [{ shape: ins[0]!.shape, dtype: ins[0]!.dtype }],
  lower: (e, ins, outs) => void e.node('Identity', ins, outs),
  grad: () => [null],
});

/** Identity in the forward pass that blocks gradients (PyTorch's `.detach()`). */
export const stopGradient = (x: Tensor): Tensor => apply1(stopGradientOp, [x], {});

export { toTensor };
