/**
 * N-d convolution (1-d, 2-d, 3-d) with stride, padding, dilation and groups, and its transpose.
 *
 * Gradients: the input gradient of a convolution is a transposed convolution with the same weight;
 * the weight gradient is itself a grouped convolution of the input with the output gradient, with
 * the roles of stride and dilation swapped (`convWeightGrad`). Both are standard ONNX ops.
 */
import { defineOp, apply1, fail } from '../op.js';
import type { Tensor } from '../graph.js';
import { A } from '../emitter.js';
import { fmtShape } from '../shape.js';
import { reduceSum } from './reduce.js';
import { reshape, slice, transpose } from './shape_ops.js';
import { matmul } from './matmul.js';

export interface ConvAttrs {
  strides: number[];
  /** ONNX order: [begin_1..begin_n, end_1..end_n]. */
  pads: number[];
  dilations: number[];
  groups: number;
}

export interface ConvOptions {
  stride?: number | number[];
  /** Symmetric padding per spatial dim, or explicit [begin..., end...]. */
  padding?: number | number[];
  dilation?: number | number[];
  groups?: number;
}

/** Expands a per-spatial-dim option: a number for every dim, or an explicit list (copied). */
export function perDim(v: number | number[] | undefined, n: number, dflt: number): number[] {
  if (v === undefined) return new Array<number>(n).fill(dflt);
  if (typeof v === 'number') return new Array<number>(n).fill(v);
  return [...v];
}

export function convAttrs(opts: ConvOptions, nSpatial: number): ConvAttrs {
  const p = perDim(opts.padding, nSpatial, 0);
  return {
    strides: perDim(opts.stride, nSpatial, 1),
    pads: p.length === nSpatial ? [...p, ...p] : p,
    dilations: perDim(opts.dilation, nSpatial, 1),
    groups: opts.groups ?? 1,
  };
}

/** Checks what conv and conv-transpose share: float32 operands, [N, C, *spatial] input with 1-3
 * spatial dims, a weight of the same rank, and well-formed attributes. Returns the spatial rank. */
function checkOperands(ins: readonly Tensor[], a: ConvAttrs): number {
  const [x, w] = ins as [Tensor, Tensor];
  const n = x.rank - 2;
  if (ins.some((t) => t.dtype !== 'float32')) fail(`expected float32 operands, got ${ins.map((t) => t.dtype).join(', ')}`);
  if (n < 1 || n > 3) fail('input must be [N, C, *spatial] with 1-3 spatial dims');
  if (w.rank !== x.rank) fail(`weight rank ${w.rank} != input rank ${x.rank}`);
  if (w.shape.slice(2).some((k) => k < 1)) fail(`kernel ${fmtShape(w.shape.slice(2))} has an empty dimension`);
  checkAttrs(n, a);
  return n;
}

function checkAttrs(n: number, a: ConvAttrs) {
  if (a.strides.length !== n || a.dilations.length !== n || a.pads.length !== 2 * n) fail(`stride/dilation/padding must have ${n} spatial entries`);
  if ([...a.strides, ...a.dilations].some((v) => !Number.isInteger(v) || v < 1)) fail('stride and dilation must be positive integers');
  if (a.pads.some((v) => !Number.isInteger(v) || v < 0)) fail('padding must be non-negative integers');
  if (!Number.isInteger(a.groups) || a.groups < 1) fail(`groups ${a.groups} must be a positive integer`);
}

function convOutSize(inp: number, k: number, s: number, d: number, pb: number, pe: number): number {
  return Math.floor((inp + pb + pe - d * (k - 1) - 1) / s) + 1;
}

function onnxConvAttrs(a: ConvAttrs, kernel: readonly number[]) {
  return { strides: A.ints(a.strides), pads: A.ints(a.pads), dilations: A.ints(a.dilations), group: A.i(a.groups), kernel_shape: A.ints(kernel) };
}

const convOp = defineOp<ConvAttrs>({
  name: 'conv',
  infer(ins, a) {
    const [x, w, b] = ins as [Tensor, Tensor, Tensor | undefined];
    const n = checkOperands(ins, a);
    const cin = x.shape[1]!;
    const cout = w.shape[0]!;
    if (cin % a.groups !== 0 || cout % a.groups !== 0) fail(`channels ${cin}->${cout} not divisible by groups ${a.groups}`);
    if (w.shape[1]! * a.groups !== cin) fail(`weight expects ${w.shape[1]! * a.groups} input channels, input has ${cin}`);
    if (b && (b.rank !== 1 || b.shape[0] !== cout)) fail(`bias shape ${fmtShape(b.shape)} != [${cout}]`);
    const spatial = x.shape.slice(2).map((d, i) => convOutSize(d, w.shape[i + 2]!, a.strides[i]!, a.dilations[i]!, a.pads[i]!, a.pads[n + i]!));
    if (spatial.some((d) => d < 1)) fail(`output spatial size ${fmtShape(spatial)} is empty (kernel larger than padded input)`);
    return [{ shape: [x.shape[0]!, cout, ...spatial], dtype: 'float32' }];
  },
  lower: (e, ins, outs, a, node) => void e.node('Conv', ins, outs, onnxConvAttrs(a, node.inputs[1]!.shape.slice(2))),
  grad(node, [g], a) {
    if (!g) return node.inputs.map(() => null);
    const [x, w, b] = node.inputs as [Tensor, Tensor, Tensor | undefined];
    const gx = convTransposeRaw(g, w, a, x.shape.slice(2));
    const gw = convWeightGrad(x, g, w.shape, a);
    const out: (Tensor | null)[] = [gx, gw];
    if (b) out.push(reduceSum(g, [0, ...g.shape.slice(2).map((_, i) => i + 2)]));
    return out;
  },
});

/**
 * dL/dW of y = conv(x, W), fast path (im2col + GEMM):
 * - 1x1 kernels without padding: dW = sum_n dY[n] X[n]^T, one batched MatMul over (strided) x;
 * - k x k kernels: patches are unfolded with a depthwise conv whose kernels are one-hot
 *   (cols [N, Cin*kk, L]), then dW = sum_n dY[n] cols[n]^T per group.
 * The plain path (`convWeightGradReference`, a grouped conv with stride and dilation swapped) is
 * kept as the reference the tests compare against; on ResNet-50 the fast path is several times
 * faster because ORT's conv is poorly suited to output-sized "kernels".
 */
export function convWeightGrad(x: Tensor, gy: Tensor, wShape: readonly number[], a: ConvAttrs): Tensor {
  const [N, Cin] = [x.shape[0]!, x.shape[1]!];
  const Cout = gy.shape[1]!;
  const G = a.groups;
  const cg = Cin / G;
  const og = Cout / G;
  const kernel = wShape.slice(2);
  const kk = kernel.reduce((p, k) => p * k, 1);
  const outSp = gy.shape.slice(2);
  const L = outSp.reduce((p, d) => p * d, 1);
  let cols: Tensor; // [N, Cin*kk, L], channel index c*kk + j
  if (kk === 1 && a.pads.every((p) => p === 0)) {
    const xs = a.strides.some((s) => s > 1)
      ? slice(x, outSp.map(() => 0), outSp.map((o, i) => (o - 1) * a.strides[i]! + 1), outSp.map((_, i) => i + 2), a.strides)
      : x;
    cols = reshape(xs, [N, Cin, L]);
  } else {
    const onehot = new Float32Array(Cin * kk * kk);
    for (let c = 0; c < Cin; c++) for (let j = 0; j < kk; j++) onehot[(c * kk + j) * kk + j] = 1;
    const w1 = x.graph.constant(onehot, [Cin * kk, 1, ...kernel], 'float32');
    const unfolded = apply1(convOp, [x, w1], { strides: a.strides, pads: a.pads, dilations: a.dilations, groups: Cin }); // [N, Cin*kk, *So]
    cols = reshape(unfolded, [N, Cin * kk, L]);
  }
  const g4 = reshape(gy, [N, G, og, L]); // [N, G, Cout/G, L]
  const c4 = transpose(reshape(cols, [N, G, cg * kk, L]), [0, 1, 3, 2]); // [N, G, L, Cin/G*kk]
  const perSample = matmul(g4, c4); // [N, G, Cout/G, Cin/G*kk]
  return reshape(reduceSum(perSample, [0]), [Cout, cg, ...kernel]); // [Cout, Cin/G, *K]
}

/**
 * Reference (plain) path for dL/dW of y = conv(x, W): a grouped conv of the input (channels as batch) with the output
 * gradient as kernel; stride and dilation swap roles. Result cropped to the kernel size.
 */
export function convWeightGradReference(x: Tensor, gy: Tensor, wShape: readonly number[], a: ConvAttrs): Tensor {
  const n = x.rank - 2;
  const [N, Cin] = [x.shape[0]!, x.shape[1]!];
  const G = a.groups;
  const cg = Cin / G;
  const sp = x.shape.slice(2);
  const spAxes = sp.map((_, i) => i + 3);
  // x: [N, Cin, *S] -> [N, G, Cin/G, *S] -> [Cin/G, G, N, *S] -> [Cin/G, G*N, *S]
  const xr = reshape(transpose(reshape(x, [N, G, cg, ...sp]), [2, 1, 0, ...spAxes]), [cg, G * N, ...sp]);
  // gy: [N, Cout, *So] -> [Cout, N, *So]
  const gyr = transpose(gy, [1, 0, ...gy.shape.slice(2).map((_, i) => i + 2)]);
  const raw = apply1(convOp, [xr, gyr], { strides: a.dilations, pads: a.pads, dilations: a.strides, groups: G }); // [Cin/G, Cout, *K']
  const cropped = slice(raw, wShape.slice(2).map(() => 0), wShape.slice(2), wShape.slice(2).map((_, i) => i + 2));
  return transpose(cropped, [1, 0, ...Array.from({ length: n }, (_, i) => i + 2)]); // [Cout, Cin/G, *K]
}

/** Transposed conv producing exactly `outSpatial` (the adjoint of conv with attrs `a`). */
function convTransposeRaw(x: Tensor, w: Tensor, a: ConvAttrs, outSpatial: readonly number[]): Tensor {
  const n = x.rank - 2;
  const outputPadding = outSpatial.map((o, i) => {
    const k = w.shape[i + 2]!;
    const base = a.strides[i]! * (x.shape[i + 2]! - 1) + a.dilations[i]! * (k - 1) + 1 - a.pads[i]! - a.pads[n + i]!;
    return o - base;
  });
  return apply1(convTransposeOp, [x, w], { ...a, outputPadding });
}

export interface ConvTransposeAttrs extends ConvAttrs {
  outputPadding: number[];
}

const convTransposeOp = defineOp<ConvTransposeAttrs>({
  name: 'conv_transpose',
  infer(ins, a) {
    const [x, w, b] = ins as [Tensor, Tensor, Tensor | undefined];
    const n = checkOperands(ins, a);
    if (w.shape[0] !== x.shape[1]) fail(`weight expects ${w.shape[0]} input channels, input has ${x.shape[1]}`);
    if (x.shape[1]! % a.groups) fail(`${x.shape[1]} input channels are not divisible by groups ${a.groups}`);
    const cout = w.shape[1]! * a.groups;
    if (b && (b.rank !== 1 || b.shape[0] !== cout)) fail(`bias shape ${fmtShape(b.shape)} != [${cout}]`);
    // PyTorch allows output padding < max(stride, dilation); ONNX Runtime only < stride.
    if (a.outputPadding.length !== n || a.outputPadding.some((p, i) => !Number.isInteger(p) || p < 0 || p >= a.strides[i]!)) {
      fail(`output padding ${fmtShape(a.outputPadding)} must be integers in [0, stride), one per spatial dim (stride ${fmtShape(a.strides)})`);
    }
    const spatial = x.shape.slice(2).map((d, i) => a.strides[i]! * (d - 1) + a.outputPadding[i]! + a.dilations[i]! * (w.shape[i + 2]! - 1) + 1 - a.pads[i]! - a.pads[n + i]!);
    if (spatial.some((d) => d < 1)) fail(`output spatial size ${fmtShape(spatial)} is empty`);
    return [{ shape: [x.shape[0]!, cout, ...spatial], dtype: 'float32' }];
  },
  lower(e, ins, outs, a, node) {
    e.node('ConvTranspose', ins, outs, { ...onnxConvAttrs(a, node.inputs[1]!.shape.slice(2)), output_padding: A.ints(a.outputPadding) });
  },
  grad(node, [g], a) {
    if (!g) return node.inputs.map(() => null);
    const [x, w, b] = node.inputs as [Tensor, Tensor, Tensor | undefined];
    // y = C^T x where C = conv(., w): dx = conv(g, w); dw = convWeightGrad(input g, output-grad x).
    const gx = apply1(convOp, [g, w], { strides: a.strides, pads: a.pads, dilations: a.dilations, groups: a.groups });
    const gw = convWeightGrad(g, x, w.shape, a);
    const out: (Tensor | null)[] = [gx, gw];
    if (b) out.push(reduceSum(g, [0, ...g.shape.slice(2).map((_, i) => i + 2)]));
    return out;
  },
});

/** Convolution over [N, C, *spatial] with weight [Cout, Cin/groups, *kernel]. */
export function conv(x: Tensor, w: Tensor, bias: Tensor | null | undefined, opts: ConvOptions = {}): Tensor {
  const ins = bias ? [x, w, bias] : [x, w];
  return apply1(convOp, ins, convAttrs(opts, Math.max(1, x.rank - 2)));
}

export const conv2d = conv;
export const conv3d = conv;

/** Transposed convolution; weight [Cin, Cout/groups, *kernel] (PyTorch layout). */
export function convTranspose(x: Tensor, w: Tensor, bias: Tensor | null | undefined, opts: ConvOptions & { outputPadding?: number | number[] } = {}): Tensor {
  const n = Math.max(1, x.rank - 2);
  const ins = bias ? [x, w, bias] : [x, w];
  return apply1(convTransposeOp, ins, { ...convAttrs(opts, n), outputPadding: perDim(opts.outputPadding, n, 0) });
}

export const convTranspose2d = convTranspose;
