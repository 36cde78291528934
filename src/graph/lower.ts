/**
 * Lowers a traced Graph to an ONNX ModelProto (opset 17, default domain only).
 *
 * Only nodes that the requested outputs depend on are emitted. Constants become initializers;
 * graph inputs keep their names; outputs get the names the caller gives.
 */
import type { Graph, Tensor, Node } from './graph.js';
import { A, Emitter, onnx, OPSET } from './emitter.js';
import { ONNX_DTYPE, type AnyTypedArray } from './dtype.js';
import { AttnvisionError } from '../util/errors.js';

export interface LowerOptions {
  /** Output names, in order, one per output tensor. */
  outputNames: readonly string[];
  /** Graph inputs to keep even when no output depends on them. */
  keepInputs?: boolean;
  /** Replace dimension sizes of these inputs/outputs by symbolic names (e.g. {0: 'batch'}). */
  dynamicAxes?: Record<string, Record<number, string>>;
  /** Inputs to turn into initializers with the given data (export of weights). */
  bake?: ReadonlyMap<string, AnyTypedArray>;
  docString?: string;
  /** Store float32 constants of 256+ values as float16 initializers followed by a Cast (smaller files). */
  halfPrecisionWeights?: boolean;
  /**
   * Dynamic batch: shape-carrying nodes (reshape, expand) whose target dims depend linearly on the
   * batch size get their shape computed at run time as k * batch + c, batch = Shape(input)[0].
   */
  dynamicBatch?: { input: string; nodes: ReadonlyMap<number, { k: number[]; c: number[] }> };
}

function valueInfo(name: string, t: Tensor, dyn?: Record<number, string>): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: ONNX_DTYPE[t.dtype],
        shape: onnx.TensorShapeProto.create({
          dim: t.shape.map((d, i) =>
            dyn && dyn[i] !== undefined
              ? onnx.TensorShapeProto.Dimension.create({ dimParam: dyn[i] })
              : onnx.TensorShapeProto.Dimension.create({ dimValue: d }),
          ),
        }),
      }),
    }),
  });
}

/** Nodes needed for `outputs`, in topological order. */
export function liveNodes(graph: Graph, outputs: readonly Tensor[]): Node[] {
  const live = new Uint8Array(graph.nodes.length);
  const stack: Tensor[] = [...outputs];
  while (stack.length) {
    const t = stack.pop()!;
    if (t.source.kind !== 'node') continue;
    const n = t.source.node;
    if (live[n.index]) continue;
    live[n.index] = 1;
    stack.push(...n.inputs);
  }
  return graph.nodes.filter((n) => live[n.index]);
}

export function lowerGraph(graph: Graph, outputs: readonly Tensor[], opts: LowerOptions): Uint8Array {
  if (opts.outputNames.length !== outputs.length) throw new AttnvisionError('lowerGraph: one name per output is required');
  const e = new Emitter();
  const names = new Map<number, string>();
  const usedInputs = new Set<string>();
  // One namespace: the inputs' and outputs' names are the caller's, weights keep their state-dict
  // names where free, and generated names (c<id>, t<id>, op temporaries) avoid all of them.
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  opts.outputNames.forEach((name, i) => {
    if (opts.outputNames.indexOf(name) !== i) throw new AttnvisionError(`lowerGraph: output name "${name}" is given twice`);
    if (inputNames.has(name)) throw new AttnvisionError(`lowerGraph: output name "${name}" is also the name of a graph input`);
  });
  const usedConstNames = new Set<string>([...inputNames, ...opts.outputNames]);
  for (const name of usedConstNames) e.reserved.add(name);
  for (const node of graph.nodes) for (const t of node.inputs) if (t.source.kind === 'const' && t.name) e.reserved.add(t.name);
  let batchVec: string | null = null;
  const nameOf = (t: Tensor): string => {
    let n = names.get(t.id);
    if (n) return n;
    if (t.source.kind === 'input') {
      n = t.source.name;
      usedInputs.add(n);
      const baked = opts.bake?.get(n);
      if (baked) e.initializer(baked, t.shape, t.dtype, n);
    } else if (t.source.kind === 'const') {
      // Named constants (weights) keep their state-dict name when it is free.
      const wanted = t.name && !usedConstNames.has(t.name) ? t.name : e.free(`c${t.id}`);
      usedConstNames.add(wanted);
      if (opts.halfPrecisionWeights && t.dtype === 'float32' && t.size >= 256) {
        // Stored as float16 (half the file size), cast back to float32 once when ORT folds constants.
        const bits = float32ToFloat16(t.source.data as Float32Array);
        const half = e.rawInitializer(`${wanted}.f16`, new Uint8Array(bits.buffer), t.shape, 10);
        n = e.node('Cast', [half], [wanted], { to: A.i(1) });
      } else n = e.initializer(t.source.data, t.shape, t.dtype, wanted);
    } else {
      n = e.free(`t${t.id}`);
    }
    names.set(t.id, n);
    return n;
  };
  for (const node of liveNodes(graph, outputs)) {
    const ins = node.inputs.map(nameOf);
    const outs = node.outputs.map(nameOf);
    const dyn = opts.dynamicBatch?.nodes.get(node.index);
    if (dyn) {
      // shape = k * batch + c, with batch = Shape(input)[0:1]
      batchVec ??= e.op('Slice', [e.op('Shape', [opts.dynamicBatch!.input]), e.i64([0]), e.i64([1])]);
      const shape = e.op('Add', [e.op('Mul', [batchVec, e.i64(dyn.k)]), e.i64(dyn.c)]);
      e.node(node.op.name === 'reshape' ? 'Reshape' : 'Expand', [ins[0]!, shape], outs);
      continue;
    }
    try {
      node.op.lower(e, ins, outs, node.attrs as never, node);
    } catch (err) {
      throw new AttnvisionError(`${node.scope ? node.scope + ': ' : ''}lowering ${node.op.name} failed: ${(err as Error).message}`);
    }
  }
  // Outputs: rename through Identity so names are exactly as requested (and an input can be an output).
  const outInfos = outputs.map((t, i) => {
    const want = opts.outputNames[i]!;
    e.node('Identity', [nameOf(t)], [want]);
    return valueInfo(want, t, opts.dynamicAxes?.[want]);
  });
  const inputInfos = graph.inputs
    .filter((inp) => (opts.keepInputs || usedInputs.has(inp.name)) && !opts.bake?.has(inp.name))
    .map((inp) => valueInfo(inp.name, inp.tensor, opts.dynamicAxes?.[inp.name]));
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'attnvision',
    producerVersion: '0.1.0',
    docString: opts.docString ?? '',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: OPSET })],
    graph: onnx.GraphProto.create({
      name: 'attnvision',
      node: e.nodes,
      initializer: e.initializers,
      input: inputInfos,
      output: outInfos,
    }),
  });
  return onnx.ModelProto.encode(model).finish();
}

/** IEEE 754 float32 -> float16 bits (round to nearest even; overflow to infinity). */
export function float32ToFloat16(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < src.length; i++) {
    f[0] = src[i]!;
    const x = u[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let h = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      if (rem > halfway || (rem === halfway && h & 1)) h++;
      out[i] = sign | h;
    } else {
      let h = (e << 10) | (mant >>> 13);
      const rem = mant & 0x1fff;
      if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
      out[i] = sign | h;
    }
  }
  return out;
}
