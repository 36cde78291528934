/**
 * Shared helpers for the op tests: run a traced function on ONNX Runtime, compare with a plain JS
 * reference, assert shape errors, and naive reference implementations (index arithmetic only).
 */
import assert from 'node:assert/strict';
import { Graph, type Tensor } from '../../src/graph/index.js';
import { CompiledGraph, type HostTensor } from '../../src/runtime/index.js';

export interface Feed {
  shape: readonly number[];
  data: Float32Array | BigInt64Array | Uint8Array;
}

function dtypeOf(f: Feed): 'float32' | 'int64' | 'bool' {
  return f.data instanceof Float32Array ? 'float32' : f.data instanceof BigInt64Array ? 'int64' : 'bool';
}

/** Traces `fn` over graph inputs with the feeds' shapes, runs it on ORT and returns every output. */
export async function evaluate(feeds: readonly Feed[], fn: (...xs: Tensor[]) => Tensor | Tensor[], rng?: { seed: number; step: number }): Promise<HostTensor[]> {
  const { graph, result } = Graph.trace((g) => {
    const xs = feeds.map((f, i) => g.input(`x${i}`, f.shape, dtypeOf(f)));
    const out = fn(...xs);
    return Array.isArray(out) ? out : [out];
  });
  const compiled = await CompiledGraph.compile(graph, result);
  const inputs: Record<string, HostTensor> = {};
  feeds.forEach((f, i) => (inputs[`x${i}`] = { data: f.data, shape: f.shape, dtype: dtypeOf(f) }));
  const res = await compiled.run(inputs, rng);
  return result.map((t, i) => {
    const out = res[`out${i}`]!;
    assert.deepEqual([...out.shape], [...t.shape], `output ${i}: runtime shape differs from traced shape`);
    return out;
  });
}

/** A float feed. */
export const f32 = (shape: readonly number[], data: ArrayLike<number>): Feed => ({ shape, data: Float32Array.from(data) });
/** An int64 feed. */
export const i64 = (shape: readonly number[], data: readonly number[]): Feed => ({ shape, data: BigInt64Array.from(data.map((v) => BigInt(v))) });

export function assertClose(actual: HostTensor | ArrayLike<number>, expected: ArrayLike<number>, msg: string, atol = 1e-4, rtol = 1e-4): void {
  const a = 'data' in actual ? Array.from(actual.data as ArrayLike<number | bigint>, Number) : Array.from(actual);
  assert.equal(a.length, expected.length, `${msg}: ${a.length} values, expected ${expected.length}`);
  for (let i = 0; i < a.length; i++) {
    const e = expected[i]!;
    assert.ok(Math.abs(a[i]! - e) <= atol + rtol * Math.abs(e), `${msg}: element ${i} is ${a[i]} but expected ${e}`);
  }
}

export const SCOPE = 'stages.2.blocks.1.attn.qkv';

/** Asserts that tracing `fn` under the scope SCOPE throws a ShapeError whose message contains every part. */
export function assertShapeError(fn: (g: Graph) => unknown, parts: readonly string[]): void {
  assert.throws(
    () => Graph.trace((g) => g.withScope(SCOPE, () => fn(g))),
    (err: Error) => {
      assert.equal(err.name, 'ShapeError', `expected a ShapeError, got ${err.name}: ${err.message}`);
      assert.ok(err.message.startsWith(`${SCOPE}: `), `message does not start with the module path: ${err.message}`);
      for (const p of parts) assert.ok(err.message.includes(p), `message "${err.message}" does not contain "${p}"`);
      return true;
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Index arithmetic

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** Multi-index of flat position `flat` in `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i]!;
    flat = Math.floor(flat / shape[i]!);
  }
  return idx;
}

/** Value of a broadcast operand at output multi-index `idx`. */
export function bcastAt(data: ArrayLike<number>, shape: readonly number[], idx: readonly number[]): number {
  const lead = idx.length - shape.length;
  const st = stridesOf(shape);
  let off = 0;
  for (let i = 0; i < shape.length; i++) off += (shape[i] === 1 ? 0 : idx[lead + i]!) * st[i]!;
  return data[off]!;
}

/** Elementwise binary reference with numpy broadcasting. */
export function refBinary(a: ArrayLike<number>, as: readonly number[], b: ArrayLike<number>, bs: readonly number[], f: (x: number, y: number) => number): { shape: number[]; data: number[] } {
  const rank = Math.max(as.length, bs.length);
  const shape = Array.from({ length: rank }, (_, i) => {
    const x = as[i - (rank - as.length)] ?? 1;
    const y = bs[i - (rank - bs.length)] ?? 1;
    return x === 1 ? y : x;
  });
  const data = Array.from({ length: sizeOf(shape) }, (_, k) => {
    const idx = unravel(k, shape);
    return f(bcastAt(a, as, idx), bcastAt(b, bs, idx));
  });
  return { shape, data };
}

export interface ConvRefAttrs {
  stride: number[];
  /** [begin..., end...] */
  pads: number[];
  dilation: number[];
  groups: number;
}

/** Naive N-d convolution (cross-correlation, as PyTorch / ONNX). */
export function refConv(x: ArrayLike<number>, xs: readonly number[], w: ArrayLike<number>, ws: readonly number[], bias: ArrayLike<number> | null, a: ConvRefAttrs): { shape: number[]; data: Float64Array } {
  const n = xs.length - 2;
  const [N, Cin] = [xs[0]!, xs[1]!];
  const Cout = ws[0]!;
  const cg = Cin / a.groups;
  const og = Cout / a.groups;
  const ksp = ws.slice(2);
  const osp = xs.slice(2).map((d, i) => Math.floor((d + a.pads[i]! + a.pads[n + i]! - a.dilation[i]! * (ksp[i]! - 1) - 1) / a.stride[i]!) + 1);
  const shape = [N, Cout, ...osp];
  const out = new Float64Array(sizeOf(shape));
  const xst = stridesOf(xs);
  const wst = stridesOf(ws);
  const kTotal = sizeOf(ksp);
  for (let o = 0; o < out.length; o++) {
    const [b, co, ...op] = unravel(o, shape) as [number, number, ...number[]];
    const grp = Math.floor(co / og);
    let acc = bias ? bias[co]! : 0;
    for (let ci = 0; ci < cg; ci++) {
      for (let kf = 0; kf < kTotal; kf++) {
        const kk = unravel(kf, ksp);
        let off = b * xst[0]! + (grp * cg + ci) * xst[1]!;
        let inside = true;
        for (let i = 0; i < n; i++) {
          const p = op[i]! * a.stride[i]! - a.pads[i]! + kk[i]! * a.dilation[i]!;
          if (p < 0 || p >= xs[i + 2]!) inside = false;
          off += p * xst[i + 2]!;
        }
        if (!inside) continue;
        let woff = co * wst[0]! + ci * wst[1]!;
        for (let i = 0; i < n; i++) woff += kk[i]! * wst[i + 2]!;
        acc += x[off]! * w[woff]!;
      }
    }
    out[o] = acc;
  }
  return { shape, data: out };
}

/** Naive N-d transposed convolution; weight [Cin, Cout/groups, *k] (PyTorch layout). */
export function refConvTranspose(x: ArrayLike<number>, xs: readonly number[], w: ArrayLike<number>, ws: readonly number[], a: ConvRefAttrs & { outputPadding: number[] }): { shape: number[]; data: Float64Array } {
  const n = xs.length - 2;
  const [N, Cin] = [xs[0]!, xs[1]!];
  const og = ws[1]!;
  const cg = Cin / a.groups;
  const Cout = og * a.groups;
  const ksp = ws.slice(2);
  const osp = xs.slice(2).map((d, i) => a.stride[i]! * (d - 1) + a.outputPadding[i]! + a.dilation[i]! * (ksp[i]! - 1) + 1 - a.pads[i]! - a.pads[n + i]!);
  const shape = [N, Cout, ...osp];
  const out = new Float64Array(sizeOf(shape));
  const ost = stridesOf(shape);
  const wst = stridesOf(ws);
  const kTotal = sizeOf(ksp);
  for (let xi = 0; xi < sizeOf(xs); xi++) {
    const [b, ci, ...ip] = unravel(xi, xs) as [number, number, ...number[]];
    const grp = Math.floor(ci / cg);
    for (let oc = 0; oc < og; oc++) {
      for (let kf = 0; kf < kTotal; kf++) {
        const kk = unravel(kf, ksp);
        let off = b * ost[0]! + (grp * og + oc) * ost[1]!;
        let inside = true;
        for (let i = 0; i < n; i++) {
          const p = ip[i]! * a.stride[i]! - a.pads[i]! + kk[i]! * a.dilation[i]!;
          if (p < 0 || p >= osp[i]!) inside = false;
          off += p * ost[i + 2]!;
        }
        if (!inside) continue;
        let woff = ci * wst[0]! + oc * wst[1]!;
        for (let i = 0; i < n; i++) woff += kk[i]! * wst[i + 2]!;
        out[off] = out[off]! + x[xi]! * w[woff]!;
      }
    }
  }
  return { shape, data: out };
}

export interface PoolRefAttrs {
  kernel: number[];
  stride: number[];
  pads: number[];
  ceilMode: boolean;
  countIncludePad: boolean;
}

/** Naive max / average pooling with PyTorch semantics (output size, divisor). */
export function refPool(kind: 'max' | 'avg', x: ArrayLike<number>, xs: readonly number[], a: PoolRefAttrs): { shape: number[]; data: Float64Array } {
  const n = xs.length - 2;
  const osp = xs.slice(2).map((d, i) => {
    const span = d + a.pads[i]! + a.pads[n + i]! - a.kernel[i]!;
    let o = (a.ceilMode ? Math.ceil(span / a.stride[i]!) : Math.floor(span / a.stride[i]!)) + 1;
    if (a.ceilMode && (o - 1) * a.stride[i]! >= d + a.pads[i]!) o--;
    return o;
  });
  const shape = [xs[0]!, xs[1]!, ...osp];
  const out = new Float64Array(sizeOf(shape));
  const xst = stridesOf(xs);
  for (let o = 0; o < out.length; o++) {
    const [b, c, ...op] = unravel(o, shape) as [number, number, ...number[]];
    let best = -Infinity;
    let sum = 0;
    let count = 0;
    let divisor = 1;
    for (let i = 0; i < n; i++) {
      const start = op[i]! * a.stride[i]! - a.pads[i]!;
      const end = Math.min(start + a.kernel[i]!, xs[i + 2]! + a.pads[n + i]!);
      divisor *= end - start;
    }
    for (let kf = 0; kf < sizeOf(a.kernel); kf++) {
      const kk = unravel(kf, a.kernel);
      let off = b * xst[0]! + c * xst[1]!;
      let inside = true;
      for (let i = 0; i < n; i++) {
        const p = op[i]! * a.stride[i]! - a.pads[i]! + kk[i]!;
        if (p < 0 || p >= xs[i + 2]!) inside = false;
        off += p * xst[i + 2]!;
      }
      if (!inside) continue;
      best = Math.max(best, x[off]!);
      sum += x[off]!;
      count++;
    }
    out[o] = kind === 'max' ? best : sum / (a.countIncludePad ? divisor : count);
  }
  return { shape, data: out };
}
