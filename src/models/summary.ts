/**
 * Model summaries: parameters and FLOPs at an input size, total and per layer (output shape,
 * parameters, multiply-adds), from one eval-mode trace.
 */
import { Graph, type Tensor } from '../graph/graph.js';
import { withBinding } from '../nn/module.js';
import { ConstantBinding } from '../nn/binding.js';
import { defaultForward, defaultInputs, type ModelHandle } from './registry.js';
import { countFlops, flopsByScope } from './flops.js';

export interface LayerRow {
  path: string;
  type: string;
  outputShape: number[][];
  params: number;
  flops: number;
}

export interface ModelSummary {
  name: string;
  params: number;
  gflops: number;
  inputSize: number[];
  layers: LayerRow[];
}

/** Traces the model at batch 1 in eval mode and counts. */
export function summarize(h: ModelHandle, inputSize: readonly number[] = h.inputSize): ModelSummary {
  const wasTraining = h.model.training;
  h.model.eval();
  try {
    const graph = new Graph();
    graph.run(() => {
      const ins: Record<string, Tensor> = {};
      for (const i of defaultInputs(h.info, 1, inputSize, h.numClasses)) ins[i.name] = graph.input(i.name, i.shape, i.dtype);
      withBinding(new ConstantBinding(graph, h.state), () => defaultForward(h.info, h.model, ins));
    });
    const byScope = flopsByScope(graph);
    const paramsOf = new Map<string, number>();
    for (const [path, m] of h.model.namedModules()) paramsOf.set(path, m.numParameters());
    const modules = new Map(h.model.namedModules());
    const seen = new Set<string>();
    const layers: LayerRow[] = [];
    for (const call of graph.moduleCalls) {
      if (seen.has(call.path) || call.path === '') continue;
      seen.add(call.path);
      layers.push({
        path: call.path,
        type: modules.get(call.path)?.constructor.name ?? '?',
        outputShape: call.outputs.map((t) => [...t.shape]),
        params: paramsOf.get(call.path) ?? 0,
        flops: byScope.get(call.path) ?? 0,
      });
    }
    // Calls complete inner-first; show them in path order (parents before children).
    layers.sort((a, b) => comparePaths(a.path, b.path));
    return { name: h.info.name, params: h.state.numParams, gflops: countFlops(graph) / 1e9, inputSize: [...inputSize], layers };
  } finally {
    h.model.train(wasTraining);
  }
}

function comparePaths(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    const na = Number(pa[i]);
    const nb = Number(pb[i]);
    if (Number.isInteger(na) && Number.isInteger(nb)) return na - nb;
    return 0; // keep definition order between siblings (stable sort)
  }
  return pa.length - pb.length;
}
