/**
 * Pooling: max and average pooling over 1-3 spatial dims, global average/max pooling.
 *
 * Max-pool gradient: ONNX MaxPool also returns the flat index of each maximum; the gradient
 * scatter-adds the output gradient to those positions (ScatterElements, reduction add), which is
 * correct for overlapping windows. Average-pool gradient: a depthwise transposed convolution with a
 * constant box kernel, after dividing by the per-position window counts.
 */
import { defineOp, apply1, applyOp, fail } from '../op.js';
import type { Tensor } from '../graph.js';
import { A } from '../emitter.js';
import { fmtShape } from '../shape.js';
import { div } from './elementwise.js';
import { reduceMax, reduceMean } from './reduce.js';
import { convTranspose } from './conv.js';
import { gather, reshape } from './shape_ops.js';
import { shapeError } from './common.js';

export interface PoolOptions {
  kernel: number | number[];
  stride?: number | number[];
  padding?: number | number[];
  /** Average pooling: include the zero padding in the count (PyTorch default true). */
  countIncludePad?: boolean;
  ceilMode?: boolean;
}

interface PoolAttrs {
  kernel: number[];
  strides: number[];
  pads: number[];
  countIncludePad: boolean;
  ceilMode: boolean;
}

function poolAttrs(opts: PoolOptions | undefined, n: number): PoolAttrs {
  // Shapes and values are checked in poolOut (inside infer, so errors name the op and input shape).
  opts ??= {} as PoolOptions;
  n = Math.max(n, 0);
  const per = (v: number | number[] | undefined, d: number) => (v === undefined ? new Array<number>(n).fill(d) : typeof v === 'number' ? new Array<number>(n).fill(v) : Array.isArray(v) ? [...v] : [Number.NaN]);
  const kernel = per(opts.kernel, 1);
  const p = per(opts.padding, 0);
  return {
    kernel,
    strides: opts.stride === undefined ? kernel : per(opts.stride, 1),
    pads: p.length === n ? [...p, ...p] : p,
    countIncludePad: opts.countIncludePad ?? true,
    ceilMode: opts.ceilMode ?? false,
  };
}

function poolOut(x: Tensor, a: PoolAttrs): number[] {
  const n = x.rank - 2;
  if (x.dtype !== 'float32') fail(`expected float32 input, got ${x.dtype}`);
  if (n < 1 || n > 3) fail('input must be [N, C, *spatial] with 1-3 spatial dims');
  if (a.kernel.length !== n || a.strides.length !== n || a.pads.length !== 2 * n) fail(`kernel/stride/padding must have ${n} spatial entries`);
  const positive = (v: number) => Number.isInteger(v) && v >= 1;
  if (!a.kernel.every(positive) || !a.strides.every(positive) || !a.pads.every((v) => Number.isInteger(v) && v >= 0)) {
    fail(`kernel and stride must be positive integers and padding integers >= 0; got kernel ${fmtShape(a.kernel)}, stride ${fmtShape(a.strides)}, padding ${fmtShape(a.pads)}`);
  }
  a.kernel.forEach((k, i) => {
    if (a.pads[i]! > k / 2 || a.pads[n + i]! > k / 2) fail(`padding ${a.pads[i]} must be at most half the kernel ${k}`);
  });
  const sp = x.shape.slice(2).map((d, i) => {
    const span = d + a.pads[i]! + a.pads[n + i]! - a.kernel[i]!;
    let o = (a.ceilMode ? Math.ceil(span / a.strides[i]!) : Math.floor(span / a.strides[i]!)) + 1;
    if (a.ceilMode && (o - 1) * a.strides[i]! >= d + a.pads[i]!) o--;
    return o;
  });
  if (sp.some((d) => d < 1)) fail(`output spatial size ${fmtShape(sp)} is empty`);
  return [x.shape[0]!, x.shape[1]!, ...sp];
}

function onnxPoolAttrs(a: PoolAttrs) {
  return { kernel_shape: A.ints(a.kernel), strides: A.ints(a.strides), pads: A.ints(a.pads), ceil_mode: A.i(a.ceilMode ? 1 : 0) };
}

const maxPoolOp = defineOp<PoolAttrs>({
  name: 'max_pool',
  infer(ins, a) {
    const shape = poolOut(ins[0]!, a);
    return [
      { shape, dtype: 'float32' },
      { shape, dtype: 'int64' },
    ];
  },
  lower: (e, ins, outs, a) => void e.node('MaxPool', ins, outs, onnxPoolAttrs(a)),
  grad(node, [g]) {
    if (!g) return [null];
    const x = node.inputs[0]!;
    return [apply1(scatterAddFlatOp, [g, node.outputs[1]!], { shape: [...x.shape] })];
  },
});

/** out = zeros(shape).flatten(); out[idx.flatten()] += g.flatten(); reshaped back. */
const scatterAddFlatOp = defineOp<{ shape: number[] }>({
  name: 'scatter_add_flat',
  infer: (_ins, { shape }) => [{ shape, dtype: 'float32' }],
  lower(e, ins, outs, { shape }) {
    const total = shape.reduce((p, d) => p * d, 1);
    const zeros = e.op('ConstantOfShape', [e.i64([total])], { value: { t: { data: new Float32Array(1), shape: [1], dtype: 'float32' } } });
    const gFlat = e.op('Reshape', [ins[0]!, e.i64([-1])]);
    const iFlat = e.op('Reshape', [ins[1]!, e.i64([-1])]);
    const scattered = e.op('ScatterElements', [zeros, iFlat, gFlat], { axis: A.i(0), reduction: A.s('add') });
    e.node('Reshape', [scattered, e.i64(shape)], outs);
  },
  // Double backward of max pool: the adjoint of a scatter-add is a gather at the same indices.
  grad(node, [g], { shape }) {
    if (!g) return [null, null];
    const [up, idx] = node.inputs as [Tensor, Tensor];
    const flat = reshape(g, [shape.reduce((p, d) => p * d, 1)]);
    return [reshape(gather(flat, reshape(idx, [idx.size]), 0), up.shape), null];
  },
});

const avgPoolOp = defineOp<PoolAttrs>({
  name: 'avg_pool',
  infer: (ins, a) => [{ shape: poolOut(ins[0]!, a), dtype: 'float32' }],
  lower: (e, ins, outs, a) => void e.node('AveragePool', ins, outs, { ...onnxPoolAttrs(a), count_include_pad: A.i(a.countIncludePad ? 1 : 0) }),
  grad(node, [g], a) {
    if (!g) return [null];
    const x = node.inputs[0]!;
    const n = x.rank - 2;
    const C = x.shape[1]!;
    const counts = windowCounts(x.shape.slice(2), g.shape.slice(2), a);
    const scaled = div(g, x.graph.constant(counts, g.shape.slice(2), 'float32'));
    const kernel = x.graph.constant(new Float32Array(C * a.kernel.reduce((p, k) => p * k, 1)).fill(1), [C, 1, ...a.kernel], 'float32');
    // The adjoint of the box-window sum is a depthwise transposed conv with a box kernel. Its natural
    // output size is base; floor mode leaves 0 <= d - base < stride (output padding), ceil mode can
    // overshoot (d < base): crop the overshoot with extra end padding instead.
    const base = x.shape.slice(2).map((_, i) => a.strides[i]! * (g.shape[i + 2]! - 1) + a.kernel[i]! - a.pads[i]! - a.pads[n + i]!);
    const outputPadding = x.shape.slice(2).map((d, i) => Math.max(0, d - base[i]!));
    const endPads = x.shape.slice(2).map((d, i) => a.pads[n + i]! + Math.max(0, base[i]! - d));
    return [convTranspose(scaled, kernel, null, { stride: a.strides, padding: [...a.pads.slice(0, n), ...endPads], groups: C, outputPadding })];
  },
});

/** Number of elements averaged by each output window (excluding padding unless countIncludePad). */
function windowCounts(inSp: readonly number[], outSp: readonly number[], a: PoolAttrs): Float32Array {
  const n = inSp.length;
  const total = outSp.reduce((p, d) => p * d, 1);
  const out = new Float32Array(total);
  for (let flat = 0; flat < total; flat++) {
    let rem = flat;
    let count = 1;
    for (let i = n - 1; i >= 0; i--) {
      const o = rem % outSp[i]!;
      rem = Math.floor(rem / outSp[i]!);
      const start = o * a.strides[i]! - a.pads[i]!;
      const end = start + a.kernel[i]!;
      if (a.countIncludePad) count *= Math.min(end, inSp[i]! + a.pads[n + i]!) - start;
      else count *= Math.min(end, inSp[i]!) - Math.max(start, 0);
    }
    out[flat] = count;
  }
  return out;
}

export function maxPool(x: Tensor, opts: PoolOptions): Tensor {
  return applyOp(maxPoolOp, [x], poolAttrs(opts, x.rank - 2))[0]!;
}

export function avgPool(x: Tensor, opts: PoolOptions): Tensor {
  return apply1(avgPoolOp, [x], poolAttrs(opts, x.rank - 2));
}

export const maxPool2d = maxPool;
export const avgPool2d = avgPool;

/** Mean over all spatial dims: [N, C, *S] -> [N, C] (or [N, C, 1, ...] with keepdims). */
export function globalAvgPool(x: Tensor, keepdims = false): Tensor {
  if (x.rank < 3) shapeError('global_avg_pool', [x], 'input must be [N, C, *spatial]');
  return reduceMean(x, x.shape.slice(2).map((_, i) => i + 2), keepdims);
}

export function globalMaxPool(x: Tensor, keepdims = false): Tensor {
  if (x.rank < 3) shapeError('global_max_pool', [x], 'input must be [N, C, *spatial]');
  return reduceMax(x, x.shape.slice(2).map((_, i) => i + 2), keepdims);
}
