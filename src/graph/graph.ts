/**
 * The traced tensor graph: symbolic tensors with static shapes and dtypes, the nodes that produce
 * them, graph inputs and constants, and the module-path scope used in error messages.
 *
 * Plain TypeScript functions over `Tensor`s build a `Graph` while they run (tracing). Each op checks
 * its input shapes at build time (see op.ts), so a wrong model fails where it is written, not when
 * ONNX Runtime runs it.
 */
import { holdsDType, isDType, typedArrayName, type AnyTypedArray, type DType } from './dtype.js';
import type { Shape } from './shape.js';
import { fmtShape, isShape, sizeOf } from './shape.js';
import type { OpDef } from './op.js';
import { AttnvisionError } from '../util/errors.js';

/** Where a tensor's value comes from. */
export type TensorSource =
  | { kind: 'node'; node: Node; index: number }
  | { kind: 'input'; name: string }
  | { kind: 'const'; data: AnyTypedArray };

let nextTensorId = 0;

/** A symbolic tensor inside a graph under construction. */
export class Tensor {
  readonly id = nextTensorId++;
  /** Optional name, used for graph outputs and debugging. */
  name: string | undefined;
  constructor(
    readonly graph: Graph,
    readonly shape: Shape,
    readonly dtype: DType,
    readonly source: TensorSource,
  ) {}
  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return sizeOf(this.shape);
  }
  toString(): string {
    return `Tensor(${this.dtype}${fmtShape(this.shape)})`;
  }
}

/** One op application. */
export class Node {
  readonly outputs: Tensor[] = [];
  constructor(
    readonly op: OpDef<never>,
    readonly inputs: readonly Tensor[],
    readonly attrs: Readonly<Record<string, unknown>>,
    /** Module path active when the node was created, e.g. `stages.2.blocks.1.attn`. */
    readonly scope: string,
    /** Position in graph.nodes (topological order). */
    readonly index: number,
  ) {}
}

/** Ops whose output holds exactly the values of their first input, rearranged: index bounds pass through them. */
const VALUE_PRESERVING_OPS: ReadonlySet<string> = new Set(['reshape', 'transpose', 'stop_gradient']);
/** Dtypes whose values a cast between them keeps (bool as 0/1). */
const INTEGER_DTYPES: ReadonlySet<DType> = new Set<DType>(['int64', 'int32', 'bool']);

/** Values of an index input must lie in [0, size); `user` names the op and module path that needs it. */
export interface IndexBound {
  readonly size: number;
  readonly user: string;
}

/** A graph input declared by `Graph.input`. */
export interface GraphInput {
  readonly name: string;
  readonly tensor: Tensor;
}

let currentGraph: Graph | null = null;

/** A graph under construction. Ops append nodes in topological order. */
export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: GraphInput[] = [];
  /** Module calls in completion order (path and output tensors), for per-layer summaries. */
  readonly moduleCalls: { path: string; outputs: Tensor[] }[] = [];
  private readonly scopeStack: string[] = [];
  /**
   * Inputs that ops use as indices (class labels of one_hot/cross_entropy): their values are only
   * known when the graph runs, so the runtime checks each feed against the bound recorded here
   * (ONNX has no assertion op, and an out-of-range label gives an all-zero one-hot row, a finite
   * but wrong loss).
   */
  readonly indexBounds = new Map<string, IndexBound>();
  private readonly inputNames = new Set<string>();
  private readonly scalarCache = new Map<string, Tensor>();

  /** The graph being traced by the innermost `Graph.trace` / `withGraph` call. */
  static current(): Graph {
    if (!currentGraph) throw new AttnvisionError('no graph is being traced: build tensors inside Graph.trace() or graph.run()');
    return currentGraph;
  }

  static currentOrNull(): Graph | null {
    return currentGraph;
  }

  /** Runs `fn` with this graph as the current graph (nests). */
  run<T>(fn: () => T): T {
    const prev = currentGraph;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the tracing context is this graph
    currentGraph = this;
    try {
      return fn();
    } finally {
      currentGraph = prev;
    }
  }

  /** Creates a graph and traces `fn` into it. */
  static trace<T>(fn: (g: Graph) => T): { graph: Graph; result: T } {
    const g = new Graph();
    const result = g.run(() => fn(g));
    return { graph: g, result };
  }

  /** The module path of the innermost scope ('' at top level). */
  get scope(): string {
    return this.scopeStack.length ? this.scopeStack[this.scopeStack.length - 1]! : '';
  }

  /** Runs `fn` with `path` as the current module path (absolute, not appended). */
  withScope<T>(path: string, fn: () => T): T {
    this.scopeStack.push(path);
    try {
      return fn();
    } finally {
      this.scopeStack.pop();
    }
  }

  /** Declares a graph input. Names must be unique and valid ONNX identifiers. */
  input(name: string, shape: Shape, dtype: DType = 'float32'): Tensor {
    if (this.inputNames.has(name)) throw new AttnvisionError(`graph input "${name}" declared twice`);
    if (!isShape(shape)) throw new AttnvisionError(`graph input "${name}": invalid shape ${fmtShape(shape)}`);
    if (!isDType(dtype)) throw new AttnvisionError(`graph input "${name}": unsupported dtype ${String(dtype)} (expected float32, int64, int32 or bool)`);
    this.inputNames.add(name);
    const t = new Tensor(this, [...shape], dtype, { kind: 'input', name });
    t.name = name;
    this.inputs.push({ name, tensor: t });
    return t;
  }

  /**
   * Requires the values of `t` to be indices in [0, size) for `op`. A graph input's feeds are
   * checked when the graph runs (the tightest bound wins); constant indices are checked now.
   * Indices that are an input or constant rearranged (reshape, transpose) or cast between integer
   * types are traced back to it: their values are that input's.
   */
  requireIndices(t: Tensor, size: number, op: string): void {
    const user = this.scope ? `${op} at ${this.scope}` : op;
    for (;;) {
      const s = t.source;
      if (s.kind !== 'node') break;
      const from = s.node.inputs[0];
      const sameValues = VALUE_PRESERVING_OPS.has(s.node.op.name) || (s.node.op.name === 'cast' && from !== undefined && INTEGER_DTYPES.has(from.dtype) && INTEGER_DTYPES.has(t.dtype));
      if (!sameValues || !from) break;
      t = from;
    }
    if (t.source.kind === 'input') {
      const prev = this.indexBounds.get(t.source.name);
      if (!prev || size < prev.size) this.indexBounds.set(t.source.name, { size, user });
    } else if (t.source.kind === 'const') {
      const at = firstOutOfRange(t.source.data, size);
      if (at >= 0) throw new AttnvisionError(`${user}: index ${t.source.data[at]} at position ${at} is outside [0, ${size})`);
    }
  }

  /** A constant tensor (becomes an ONNX initializer). */
  constant(data: AnyTypedArray, shape: Shape, dtype: DType): Tensor {
    if (!isShape(shape)) throw new AttnvisionError(`constant: invalid shape ${fmtShape(shape)} (dimensions must be integers >= 0)`);
    if (!isDType(dtype)) throw new AttnvisionError(`constant: unsupported dtype ${String(dtype)} (expected float32, int64, int32 or bool)`);
    if (!holdsDType(data, dtype)) throw new AttnvisionError(`constant: ${dtype} values must come in a ${typedArrayName(dtype)}; got ${(data as object)?.constructor?.name ?? typeof data}`);
    if (data.length !== sizeOf(shape)) {
      throw new AttnvisionError(`constant: ${data.length} values do not fill shape ${fmtShape(shape)}`);
    }
    return new Tensor(this, [...shape], dtype, { kind: 'const', data });
  }

  /** A cached scalar (rank-0) constant. */
  scalar(value: number, dtype: DType = 'float32'): Tensor {
    checkScalar(value, dtype, this.scope);
    const key = `${dtype}:${Object.is(value, -0) ? '-0' : value}`;
    let t = this.scalarCache.get(key);
    if (!t) {
      const data =
        dtype === 'float32'
          ? Float32Array.of(value)
          : dtype === 'int64'
            ? BigInt64Array.of(BigInt(Math.trunc(value)))
            : dtype === 'int32'
              ? Int32Array.of(value)
              : Uint8Array.of(value ? 1 : 0);
      t = this.constant(data, [], dtype);
      this.scalarCache.set(key, t);
    }
    return t;
  }

  /** Appends a node; used by `applyOp` only. */
  addNode(op: OpDef<never>, inputs: readonly Tensor[], attrs: Record<string, unknown>): Node {
    const node = new Node(op, inputs, attrs, this.scope, this.nodes.length);
    this.nodes.push(node);
    return node;
  }
}

const INT_RANGE: Partial<Record<DType, [number, number]>> = { int32: [-(2 ** 31), 2 ** 31 - 1], int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] };

/**
 * A JS number used as an operand: a number (not a string, array or undefined, which would become
 * NaN), and for an integer tensor an integer its dtype can hold (1.5 would be truncated, 2^40 wrapped).
 */
function checkScalar(value: unknown, dtype: DType, scope: string): void {
  const where = scope ? `${scope}: ` : '';
  if (typeof value !== 'number') throw new AttnvisionError(`${where}expected a Tensor or a number as an operand but received ${typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  const range = INT_RANGE[dtype];
  if (range && !(Number.isInteger(value) && value >= range[0] && value <= range[1])) throw new AttnvisionError(`${where}a number operand of a ${dtype} tensor must be an integer it can hold; got ${value}`);
}

/** Position of the first value outside [0, size) (integers only), or -1. */
export function firstOutOfRange(data: AnyTypedArray, size: number): number {
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (!(v >= 0 && v < size) || !Number.isInteger(v)) return i;
  }
  return -1;
}
