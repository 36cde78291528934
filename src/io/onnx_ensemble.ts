/**
 * Output-averaging ensembles as one ONNX file: several models with the same input and outputs run
 * side by side on that input, and each output is the element-wise Mean of the members' outputs
 * (Lakshminarayanan et al., NeurIPS 2017, "deep ensembles"; here the members' logits are averaged).
 *
 * Every name inside member i (nodes, values, initializers) gets the prefix `m<i>/`; the shared
 * input and the averaged outputs keep their names, so the result drops in wherever one member did
 * (the inspector, the browser bundle, any ONNX tool). Only the default domain is used: Mean is a
 * standard op since opset 1.
 */
import onnxProto from 'onnx-proto';
import { ArgumentError } from '../util/errors.js';

const { onnx } = onnxProto;
type ModelProto = InstanceType<typeof onnx.ModelProto>;
type ValueInfo = onnxProto.onnx.IValueInfoProto;

export interface OnnxMember {
  /** Where the bytes came from, for error messages (file or checkpoint name). */
  name: string;
  bytes: Uint8Array;
}

/** Type and shape of a graph input/output as text (`float32[batch,3,112,112]`), to compare members. */
function typeText(v: ValueInfo): string {
  const t = v.type?.tensorType;
  if (!t) return '(not a tensor)';
  const dims = (t.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : String(d.dimValue ?? '?')));
  return `${onnx.TensorProto.DataType[t.elemType ?? 0] ?? t.elemType}[${dims.join(',')}]`;
}

/** protobuf int64 fields may decode as Long objects. */
function toNum(v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'object' && 'toNumber' in (v as object)) return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

function decodeMember(m: OnnxMember): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(m.bytes);
  } catch (e) {
    throw new ArgumentError(`ensemble: ${m.name} is not an ONNX model (${(e as Error).message})`);
  }
  if (!model.graph) throw new ArgumentError(`ensemble: ${m.name} has no graph`);
  const custom = (model.opsetImport ?? []).filter((o) => o.domain && o.domain !== 'ai.onnx');
  if (custom.length) throw new ArgumentError(`ensemble: ${m.name} uses operator domain ${custom.map((o) => o.domain).join(', ')}; only the default domain is supported`);
  for (const n of model.graph.node ?? []) {
    if ((n.attribute ?? []).some((a) => a.g || a.graphs?.length)) {
      throw new ArgumentError(`ensemble: ${m.name} node ${n.name || n.opType} (${n.opType}) has a subgraph; control flow is not supported`);
    }
  }
  return model;
}

/**
 * One ONNX model whose outputs are the element-wise means of the members' outputs. Members must
 * have the same graph inputs and outputs (names, element types, shapes); the error names the
 * first member and value that differ.
 */
export function ensembleOnnx(members: readonly OnnxMember[], opts: { docString?: string } = {}): Uint8Array {
  if (members.length < 2) throw new ArgumentError(`ensemble: needs at least 2 models, got ${members.length}`);
  const models = members.map(decodeMember);
  const first = models[0]!.graph!;
  const ioOf = (g: NonNullable<ModelProto['graph']>) => {
    const inits = new Set((g.initializer ?? []).map((t) => t.name));
    return { inputs: (g.input ?? []).filter((v) => !inits.has(v.name)), outputs: g.output ?? [] };
  };
  const ref = ioOf(first);
  const describe = (vs: ValueInfo[]) => vs.map((v) => `${v.name}: ${typeText(v)}`).join(', ');
  models.forEach((m, i) => {
    const io = ioOf(m.graph!);
    for (const kind of ['inputs', 'outputs'] as const) {
      const a = describe(ref[kind]);
      const b = describe(io[kind]);
      if (a !== b) throw new ArgumentError(`ensemble: ${members[i]!.name} has ${kind} (${b}) but ${members[0]!.name} has (${a}); members must agree`);
    }
  });
  const opset = Math.max(...models.map((m) => toNum((m.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version, 1)));
  const irVersion = Math.max(...models.map((m) => toNum(m.irVersion, 8)));
  const inputNames = new Set(ref.inputs.map((v) => v.name!));
  const nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  const initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  const valueInfo: ValueInfo[] = [];
  models.forEach((m, i) => {
    const g = m.graph!;
    // Shared inputs and absent optional inputs ('') keep their names; everything else is private.
    const rename = (n: string) => (n === '' || inputNames.has(n) ? n : `m${i}/${n}`);
    for (const n of g.node ?? []) {
      nodes.push(onnx.NodeProto.create({ ...n, name: rename(n.name || `${n.opType}_${nodes.length}`), input: (n.input ?? []).map(rename), output: (n.output ?? []).map(rename) }));
    }
    for (const t of g.initializer ?? []) initializers.push(onnx.TensorProto.create({ ...t, name: rename(t.name ?? '') }));
    for (const v of g.valueInfo ?? []) valueInfo.push(onnx.ValueInfoProto.create({ ...v, name: rename(v.name ?? '') }));
  });
  for (const out of ref.outputs) {
    nodes.push(onnx.NodeProto.create({ name: `ensemble_mean/${out.name}`, opType: 'Mean', input: models.map((_, i) => `m${i}/${out.name}`), output: [out.name!] }));
  }
  const graph = onnx.GraphProto.create({
    name: 'ensemble',
    node: nodes,
    initializer: initializers,
    input: ref.inputs,
    output: ref.outputs,
    valueInfo,
  });
  const model = onnx.ModelProto.create({
    irVersion,
    producerName: models[0]!.producerName ?? 'attnvision',
    docString: opts.docString ?? '',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: opset })],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
