/**
 * Export of a model's forward pass (eval mode) to a standalone ONNX file: weights as named
 * initializers, first input the NCHW float batch, first output the logits, and (by default) a
 * dynamic batch dimension. Opens unchanged in Python onnxruntime and onnxruntime-web.
 *
 * Dynamic batch: the model is traced at batch 2 and batch 3; every reshape/expand whose target
 * shape differs between the two traces has its shape computed at run time as k * batch + c.
 */
import { Graph, type Tensor } from '../graph/graph.js';
import { lowerGraph } from '../graph/lower.js';
import { Module, withBinding } from '../nn/module.js';
import { ConstantBinding } from '../nn/binding.js';
import type { ModelState } from '../nn/state.js';
import { AttnvisionError, checkInt, invalidArg } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';

export interface ExportOptions<M extends Module> {
  model: M;
  state: ModelState;
  /** Input shape without the batch dim, e.g. [3, 224, 224]. */
  inputShape: readonly number[];
  /** Forward function (default: `model.call(x)`); may return several named outputs (first = logits). */
  forward?: (model: M, x: Tensor) => Tensor | Record<string, Tensor>;
  /** Input name (default 'input'). */
  inputName?: string;
  /** Dynamic batch dimension (default true); false fixes it to `batch`. */
  dynamicBatch?: boolean;
  /** Batch size for a static export (default 1). */
  batch?: number;
  /** Stored as ONNX metadata/doc string. */
  docString?: string;
  /** Store weights as float16 (half the file; computation stays float32). Default false. */
  halfPrecisionWeights?: boolean;
}

function trace<M extends Module>(o: ExportOptions<M>, batch: number) {
  const graph = new Graph();
  const inputName = o.inputName ?? 'input';
  const result = graph.run(() => {
    const x = graph.input(inputName, [batch, ...o.inputShape], 'float32');
    const out = withBinding(new ConstantBinding(graph, o.state), () => (o.forward ? o.forward(o.model, x) : (o.model as unknown as { call(x: Tensor): Tensor }).call(x)));
    return out instanceof Object && !('graph' in out) ? (out as Record<string, Tensor>) : { logits: out as Tensor };
  });
  return { graph, outputs: result };
}

/** Returns the ONNX model bytes. */
export function exportOnnx<M extends Module>(o: ExportOptions<M>): Uint8Array {
  if (o.inputName !== undefined && !/^[A-Za-z_][A-Za-z0-9_.:/-]*$/.test(o.inputName)) invalidArg('export', 'inputName', 'a non-empty name (letters, digits, _ . : / -)', o.inputName);
  if (o.batch !== undefined) checkInt('export', 'batch', o.batch, 1);
  if (!Array.isArray(o.inputShape) || !o.inputShape.every((d) => Number.isInteger(d) && d >= 1)) invalidArg('export', 'inputShape', 'positive integers without the batch, e.g. [3, 224, 224]', o.inputShape);
  const wasTraining = o.model.training;
  o.model.eval();
  try {
    const inputName = o.inputName ?? 'input';
    const dynamic = o.dynamicBatch ?? true;
    const main = trace(o, dynamic ? 2 : (o.batch ?? 1));
    const names = Object.keys(main.outputs);
    const outs = Object.values(main.outputs);
    if (!dynamic) return lowerGraph(main.graph, outs, { outputNames: names, docString: o.docString, halfPrecisionWeights: o.halfPrecisionWeights });
    const other = trace(o, 3);
    const a = main.graph.nodes;
    const b = other.graph.nodes;
    const structureError = () => new AttnvisionError('export: the traced graph depends on the batch size in more than its shapes; export with a static batch');
    if (a.length !== b.length) throw structureError();
    const nodes = new Map<number, { k: number[]; c: number[] }>();
    for (let i = 0; i < a.length; i++) {
      const na = a[i]!;
      const nb = b[i]!;
      if (na.op.name !== nb.op.name) throw structureError();
      if (na.op.name !== 'reshape' && na.op.name !== 'expand') continue;
      const sa = na.outputs[0]!.shape;
      const sb = nb.outputs[0]!.shape;
      if (sa.every((d, j) => d === sb[j])) continue;
      const k = sa.map((d, j) => sb[j]! - d);
      const c = sa.map((d, j) => d - 2 * k[j]!);
      nodes.set(i, { k, c });
    }
    const dynamicAxes: Record<string, Record<number, string>> = { [inputName]: { 0: 'batch' } };
    const otherOuts = Object.values(other.outputs);
    names.forEach((n, i) => {
      if (outs[i]!.shape[0] !== otherOuts[i]!.shape[0]) dynamicAxes[n] = { 0: 'batch' };
    });
    return lowerGraph(main.graph, outs, { outputNames: names, dynamicAxes, dynamicBatch: { input: inputName, nodes }, docString: o.docString, halfPrecisionWeights: o.halfPrecisionWeights });
  } finally {
    o.model.train(wasTraining);
  }
}

/** Exports to a file (atomic write). */
export async function exportOnnxFile<M extends Module>(file: string, o: ExportOptions<M>): Promise<void> {
  await writeFileAtomic(file, exportOnnx(o));
}
