/**
 * Execution on ONNX Runtime: compile a traced graph to an ONNX model, create an InferenceSession
 * (cached per model bytes, i.e. per graph and input shapes) and run it with typed-array feeds.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { firstOutOfRange, Tensor, type Graph, type IndexBound } from '../graph/graph.js';
import { lowerGraph, type LowerOptions } from '../graph/lower.js';
import { holdsDType, typedArrayName, type AnyTypedArray, type DType } from '../graph/dtype.js';
import { sizeOf, fmtShape, isShape } from '../graph/shape.js';
import { listRandomInputs, fillRandom } from '../graph/ops/random.js';
import { ArgumentError, AttnvisionError } from '../util/errors.js';

export interface RuntimeOptions {
  /** Intra-op threads (default: all cores, or ATTNVISION_THREADS). */
  threads?: number;
  /** ORT execution providers (default ['cpu']; GPU users pass ['cuda'] after opting in at install). */
  executionProviders?: string[];
  /** Write ORT profiling JSON with this prefix. */
  profilePrefix?: string;
}

let defaults: RuntimeOptions = {};

/** Sets process-wide runtime defaults (threads, execution providers). */
export function setRuntimeDefaults(opts: RuntimeOptions): void {
  if (opts.threads !== undefined) checkThreads('setRuntimeDefaults', opts.threads);
  defaults = { ...defaults, ...opts };
}

/** Upper bound for thread counts: ORT spends seconds creating thousands of threads (and hangs on 99,999). */
export const MAX_THREADS = 256;

/** A thread count in [1, MAX_THREADS], or an error naming `where`. */
export function checkThreads(where: string, threads: unknown): number {
  if (!(typeof threads === 'number' && Number.isInteger(threads) && threads >= 1 && threads <= MAX_THREADS)) {
    throw new ArgumentError(`${where}: threads must be an integer in [1, ${MAX_THREADS}]; got ${String(threads)}`);
  }
  return threads;
}

const warnedThreads = new Set<string>();

/**
 * Compute threads: ATTNVISION_THREADS when it is an integer in [1, MAX_THREADS], else the
 * configured default or the available cores (at most MAX_THREADS). Another value is named in a warning (once), not
 * silently ignored.
 */
export function defaultThreads(): number {
  const raw = process.env.ATTNVISION_THREADS;
  if (raw !== undefined && raw.trim() !== '') {
    const env = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (Number.isInteger(env) && env >= 1 && env <= MAX_THREADS) return env;
    if (!warnedThreads.has(raw)) {
      warnedThreads.add(raw);
      process.emitWarning(`ATTNVISION_THREADS="${raw}" is not an integer in [1, ${MAX_THREADS}]; using the default`, { code: 'ATTNVISION_THREADS' });
    }
  }
  return Math.min(MAX_THREADS, defaults.threads ?? (os.availableParallelism?.() ?? os.cpus().length));
}

/** A host tensor: typed array + shape + dtype. */
export interface HostTensor {
  data: AnyTypedArray;
  shape: readonly number[];
  dtype: DType;
}

/** The dtype a typed array holds. */
function dtypeOf(data: AnyTypedArray): DType {
  return data instanceof Float32Array ? 'float32' : data instanceof BigInt64Array ? 'int64' : data instanceof Int32Array ? 'int32' : 'bool';
}

export function hostTensor(data: AnyTypedArray, shape: readonly number[], dtype?: DType): HostTensor {
  const d: DType = dtype ?? dtypeOf(data);
  if (!isShape(shape)) throw new AttnvisionError(`hostTensor: invalid shape ${JSON.stringify(shape)} (dimensions must be integers >= 0)`);
  if (!holdsDType(data, d)) throw new AttnvisionError(`hostTensor: ${d} values must come in a ${typedArrayName(d)}; got ${(data as object)?.constructor?.name ?? typeof data}`);
  if (data.length !== sizeOf(shape)) throw new AttnvisionError(`hostTensor: ${data.length} values do not fill shape ${fmtShape(shape)} (${sizeOf(shape)} values)`);
  return { data, shape, dtype: d };
}

const ORT_TYPE: Record<DType, ort.Tensor.Type> = { float32: 'float32', int64: 'int64', int32: 'int32', bool: 'bool' };

function toOrt(t: HostTensor): ort.Tensor {
  return new ort.Tensor(ORT_TYPE[t.dtype], t.data as never, t.shape as number[]);
}

function fromOrt(t: ort.Tensor): HostTensor {
  const dtype: DType = t.type === 'float32' ? 'float32' : t.type === 'int64' ? 'int64' : t.type === 'int32' ? 'int32' : 'bool';
  const data = dtype === 'bool' ? Uint8Array.from(t.data as ArrayLike<number>) : (t.data as AnyTypedArray);
  return { data, shape: [...t.dims], dtype };
}

const sessionCache = new Map<string, Promise<ort.InferenceSession>>();

async function sessionFor(model: Uint8Array, opts: RuntimeOptions): Promise<ort.InferenceSession> {
  const threads = opts.threads === undefined ? defaultThreads() : checkThreads('compile', opts.threads);
  const eps = opts.executionProviders ?? defaults.executionProviders ?? ['cpu'];
  const key = createHash('sha1').update(model).update(`|${threads}|${eps.join(',')}|${opts.profilePrefix ?? ''}`).digest('hex');
  let s = sessionCache.get(key);
  if (!s) {
    s = ort.InferenceSession.create(model, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionProviders: eps,
      graphOptimizationLevel: 'all',
      enableProfiling: !!opts.profilePrefix,
      profileFilePrefix: opts.profilePrefix,
    });
    sessionCache.set(key, s);
    s.catch(() => sessionCache.delete(key));
  }
  return s;
}

/** Drops cached sessions (releasing their native memory). */
export async function clearSessionCache(): Promise<void> {
  const all = [...sessionCache.values()];
  sessionCache.clear();
  await Promise.all(all.map(async (p) => (await p.catch(() => null))?.release()));
}

export function sessionCacheSize(): number {
  return sessionCache.size;
}

/** A graph compiled for fixed input shapes. */
export class CompiledGraph {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly model: Uint8Array,
    readonly inputs: readonly { name: string; shape: readonly number[]; dtype: DType }[],
    readonly outputNames: readonly string[],
    private readonly randomInputs: readonly { name: string; kind: 'uniform' | 'normal'; shape: readonly number[] }[],
    private readonly indexBounds: ReadonlyMap<string, IndexBound>,
    /** Every input the traced graph declared, used by these outputs or not. */
    private readonly declaredInputs: ReadonlySet<string>,
  ) {}

  /** Compiles `outputs` of `graph`. Output names default to out0, out1, ... */
  static async compile(graph: Graph, outputs: readonly Tensor[], opts: RuntimeOptions & Partial<LowerOptions> = {}): Promise<CompiledGraph> {
    if (!Array.isArray(outputs) || !outputs.length) throw new ArgumentError('compile: expected a non-empty array of output tensors');
    outputs.forEach((t, i) => {
      if (!(t instanceof Tensor) || t.graph !== graph) throw new ArgumentError(`compile: output ${i} is ${t instanceof Tensor ? 'a tensor of another graph' : `not a Tensor (${t === null ? 'null' : typeof t})`}`);
    });
    const outputNames = opts.outputNames ?? outputs.map((_, i) => `out${i}`);
    const model = lowerGraph(graph, outputs, { ...opts, outputNames });
    let session: ort.InferenceSession;
    try {
      session = await sessionFor(model, opts);
    } catch (err) {
      throw new AttnvisionError(`ONNX Runtime rejected the compiled graph: ${(err as Error).message}`);
    }
    const used = new Set(session.inputNames);
    const inputs = graph.inputs.filter((i) => used.has(i.name)).map((i) => ({ name: i.name, shape: i.tensor.shape, dtype: i.tensor.dtype }));
    const rnd = listRandomInputs(graph).filter((r) => used.has(r.name));
    return new CompiledGraph(session, model, inputs, outputNames, rnd, graph.indexBounds, new Set(graph.inputs.map((i) => i.name)));
  }

  /** Names of inputs the caller must feed (random inputs are filled by the runtime). */
  get feedNames(): string[] {
    const rnd = new Set(this.randomInputs.map((r) => r.name));
    return this.inputs.filter((i) => !rnd.has(i.name)).map((i) => i.name);
  }

  /**
   * Runs the graph. Feeds are checked against the declared shapes and dtypes; a feed the graph
   * never declared (a typo) is an error naming the inputs, while one for a declared input these
   * outputs do not use is ignored. `rng` seeds the random inputs (dropout masks...) as (seed, step).
   */
  async run(feeds: Record<string, HostTensor | AnyTypedArray>, rng: { seed: number; step: number } = { seed: 0, step: 0 }): Promise<Record<string, HostTensor>> {
    if (typeof feeds !== 'object' || feeds === null) throw new ArgumentError(`run: expected an object of feeds { name: tensor } but received ${feeds === null ? 'null' : typeof feeds}`);
    for (const name of Object.keys(feeds)) {
      if (!this.declaredInputs.has(name)) throw new ArgumentError(`run: unknown feed "${name}" (inputs: ${this.feedNames.join(', ') || 'none'})`);
    }
    const ortFeeds: Record<string, ort.Tensor> = {};
    const rndNames = new Map(this.randomInputs.map((r, i) => [r.name, { r, i }]));
    for (const inp of this.inputs) {
      const rnd = rndNames.get(inp.name);
      if (rnd) {
        const buf = new Float32Array(sizeOf(rnd.r.shape));
        fillRandom(buf, rnd.r.kind, rng.seed, rng.step, Number(rnd.r.name.slice(4)));
        ortFeeds[inp.name] = new ort.Tensor('float32', buf, [...rnd.r.shape]);
        continue;
      }
      const f = feeds[inp.name];
      if (f === undefined) throw new AttnvisionError(`missing feed "${inp.name}" (expected ${inp.dtype}${fmtShape(inp.shape)})`);
      if (typeof f !== 'object' || f === null || !(ArrayBuffer.isView(f) || ArrayBuffer.isView((f as HostTensor).data))) {
        throw new AttnvisionError(`feed "${inp.name}": expected a typed array or { data, shape, dtype } but received ${f === null ? 'null' : Array.isArray(f) ? 'a plain array' : typeof f}`);
      }
      // A bare typed array takes the graph's shape (its length is checked below, naming the feed).
      const ht: HostTensor = ArrayBuffer.isView(f) ? { data: f as AnyTypedArray, shape: inp.shape, dtype: dtypeOf(f as AnyTypedArray) } : (f as HostTensor);
      if (ht.dtype !== inp.dtype) throw new AttnvisionError(`feed "${inp.name}": expected dtype ${inp.dtype} but received ${ht.dtype}`);
      if (!holdsDType(ht.data, ht.dtype)) throw new AttnvisionError(`feed "${inp.name}": ${ht.dtype} data must be a ${typedArrayName(ht.dtype)}; got ${(ht.data as object)?.constructor?.name ?? typeof ht.data}`);
      if (ht.data.length !== sizeOf(inp.shape)) {
        throw new AttnvisionError(`feed "${inp.name}": expected ${inp.dtype}${fmtShape(inp.shape)} (${sizeOf(inp.shape)} values) but received ${ht.data.length} values`);
      }
      // A stated shape must be the graph's (same count in another layout is another image); size-1
      // dimensions do not change the layout, so [1] for [] or [4] for [1, 4] pass.
      const squeezed = (s: readonly number[]) => s.filter((d) => d !== 1).join(',');
      if (!ArrayBuffer.isView(f) && ht.shape && squeezed(ht.shape) !== squeezed(inp.shape)) {
        throw new AttnvisionError(`feed "${inp.name}": expected shape ${fmtShape(inp.shape)} but received ${fmtShape(ht.shape)}`);
      }
      const bound = this.indexBounds.get(inp.name);
      const at = bound ? firstOutOfRange(ht.data, bound.size) : -1;
      if (bound && at >= 0) {
        throw new AttnvisionError(`feed "${inp.name}": value ${ht.data[at]} at position ${at} is outside [0, ${bound.size}), the indices ${bound.user} accepts`);
      }
      ortFeeds[inp.name] = toOrt({ ...ht, shape: inp.shape });
    }
    const res = await this.session.run(ortFeeds);
    const out: Record<string, HostTensor> = {};
    for (const name of this.outputNames) out[name] = fromOrt(res[name] as ort.Tensor);
    return out;
  }

  /** Ends ORT profiling (if enabled) and returns the profile file name. */
  endProfiling(): void {
    this.session.endProfiling();
  }
}
