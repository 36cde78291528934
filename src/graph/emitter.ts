/**
 * Emitter: collects ONNX NodeProtos and initializers while ops lower themselves.
 * Only the default ONNX domain is ever used, so emitted graphs run on any ONNX Runtime build.
 */
import onnxProto from 'onnx-proto';
import type { AnyTypedArray, DType } from './dtype.js';
import { ONNX_DTYPE } from './dtype.js';
import type { Shape } from './shape.js';

export const { onnx } = onnxProto;

/** The ONNX opset every emitted graph declares. */
export const OPSET = 17;

export type AttrValue =
  | { i: number }
  | { f: number }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { s: string }
  | { t: { data: AnyTypedArray; shape: Shape; dtype: DType } };

/** Attribute constructors: `A.i(1)`, `A.ints([0, 2, 1])`. */
export const A = {
  i: (v: number): AttrValue => ({ i: v }),
  f: (v: number): AttrValue => ({ f: v }),
  ints: (v: readonly number[]): AttrValue => ({ ints: v }),
  floats: (v: readonly number[]): AttrValue => ({ floats: v }),
  s: (v: string): AttrValue => ({ s: v }),
};

export function tensorProto(name: string, data: AnyTypedArray, shape: Shape, dtype: DType): InstanceType<typeof onnx.TensorProto> {
  return onnx.TensorProto.create({
    name,
    dims: [...shape],
    dataType: ONNX_DTYPE[dtype],
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  });
}

function attrProto(name: string, v: AttrValue): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  if ('i' in v) return onnx.AttributeProto.create({ name, type: T.INT, i: v.i });
  if ('f' in v) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.f });
  if ('ints' in v) return onnx.AttributeProto.create({ name, type: T.INTS, ints: [...v.ints] });
  if ('floats' in v) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: [...v.floats] });
  if ('s' in v) return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v.s) });
  return onnx.AttributeProto.create({ name, type: T.TENSOR, t: tensorProto(name, v.t.data, v.t.shape, v.t.dtype) });
}

export class Emitter {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private counter = 0;
  private readonly constCache = new Map<string, string>();
  /** Names chosen by the caller (graph inputs and outputs, weights): never given out by `fresh`. */
  readonly reserved = new Set<string>();

  /** A fresh value name (never a reserved one). */
  fresh(prefix = 'v'): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.reserved.has(name));
    return name;
  }

  /** `name` when it is not reserved, else a fresh name derived from it. */
  free(name: string): string {
    return this.reserved.has(name) ? this.fresh(name) : name;
  }

  /** Emits one node and returns its first output name. */
  node(opType: string, inputs: readonly string[], outputs: readonly string[], attrs: Record<string, AttrValue> = {}): string {
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        input: [...inputs],
        output: [...outputs],
        name: `${opType}_${this.nodes.length}`,
        attribute: Object.entries(attrs).map(([k, v]) => attrProto(k, v)),
      }),
    );
    return outputs[0]!;
  }

  /** Emits a node with one fresh output and returns its name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}): string {
    return this.node(opType, inputs, [this.fresh(opType.toLowerCase())], attrs);
  }

  /** Adds an initializer and returns its name. */
  initializer(data: AnyTypedArray, shape: Shape, dtype: DType, name = this.fresh('init')): string {
    this.initializers.push(tensorProto(name, data, shape, dtype));
    return name;
  }

  /** Adds an initializer of raw little-endian bytes with an ONNX element type (e.g. 10 = float16). */
  rawInitializer(name: string, bytes: Uint8Array, shape: Shape, onnxType: number): string {
    this.initializers.push(onnx.TensorProto.create({ name, dims: [...shape], dataType: onnxType, rawData: bytes }));
    return name;
  }

  /** A cached int64 1-D constant (shapes, axes, starts/ends). */
  i64(values: readonly number[]): string {
    const key = `i64:${values.join(',')}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.initializer(BigInt64Array.from(values.map((v) => BigInt(v))), [values.length], 'int64');
      this.constCache.set(key, name);
    }
    return name;
  }

  /** A cached float32 scalar or 1-D constant. */
  f32(values: number | readonly number[]): string {
    const arr = typeof values === 'number' ? [values] : values;
    const key = `f32:${typeof values === 'number' ? 's' : 'v'}:${arr.join(',')}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.initializer(Float32Array.from(arr), typeof values === 'number' ? [] : [arr.length], 'float32');
      this.constCache.set(key, name);
    }
    return name;
  }
}
