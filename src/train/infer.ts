/**
 * In-memory inference: trace a model's forward pass in eval mode for fixed input shapes and run it
 * on ONNX Runtime. Weights are baked in as initializers (ORT pre-packs them), so a Predictor is
 * rebuilt after the weights change (`refresh`).
 */
import { Graph, type Tensor } from '../graph/graph.js';
import { Module, withBinding } from '../nn/module.js';
import { ConstantBinding, FLAT_INPUTS, FlatBinding } from '../nn/binding.js';
import type { ModelState } from '../nn/state.js';
import { CompiledGraph, type HostTensor, type RuntimeOptions } from '../runtime/session.js';
import type { InputSpec } from './step.js';

export type ForwardFn<M extends Module> = (model: M, inputs: Record<string, Tensor>) => Record<string, Tensor>;

export interface PredictorSpec<M extends Module> {
  model: M;
  state: ModelState;
  inputs: readonly InputSpec[];
  forward: ForwardFn<M>;
  /** 'baked' (default): weights as initializers; 'fed': weights fed each run from state (no rebuild after training). */
  weights?: 'baked' | 'fed';
  runtime?: RuntimeOptions;
}

/**
 * Feeds of a model's flat weights (FlatBinding's `params` and `buffers`) for the ones `compiled`
 * reads: a model without buffers declares no `buffers` input, and a feed the graph does not
 * declare is refused by CompiledGraph.run.
 */
export function flatWeightFeeds(compiled: CompiledGraph, state: ModelState): Record<string, HostTensor> {
  const takes = new Set(compiled.feedNames);
  const feeds: Record<string, HostTensor> = {};
  if (takes.has(FLAT_INPUTS.params)) feeds[FLAT_INPUTS.params] = { data: state.params, shape: [state.params.length], dtype: 'float32' };
  if (takes.has(FLAT_INPUTS.buffers)) feeds[FLAT_INPUTS.buffers] = { data: state.buffers.length ? state.buffers : new Float32Array(1), shape: [Math.max(1, state.buffers.length)], dtype: 'float32' };
  return feeds;
}

export class Predictor<M extends Module> {
  private constructor(
    readonly spec: PredictorSpec<M>,
    private readonly compiled: CompiledGraph,
  ) {}

  static async build<M extends Module>(spec: PredictorSpec<M>): Promise<Predictor<M>> {
    const wasTraining = spec.model.training;
    spec.model.eval();
    try {
      const graph = new Graph();
      const { outs, names } = graph.run(() => {
        const binding = spec.weights === 'fed' ? new FlatBinding(graph, spec.state) : new ConstantBinding(graph, spec.state);
        const ins: Record<string, Tensor> = {};
        for (const i of spec.inputs) ins[i.name] = graph.input(i.name, i.shape, i.dtype);
        const res = withBinding(binding, () => spec.forward(spec.model, ins));
        return { outs: Object.values(res), names: Object.keys(res) };
      });
      const compiled = await CompiledGraph.compile(graph, outs, { ...spec.runtime, outputNames: names });
      return new Predictor(spec, compiled);
    } finally {
      spec.model.train(wasTraining);
    }
  }

  async run(inputs: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
    const feeds = this.spec.weights === 'fed' ? { ...inputs, ...flatWeightFeeds(this.compiled, this.spec.state) } : inputs;
    return this.compiled.run(feeds);
  }
}
