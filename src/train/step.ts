/**
 * The training step as one ONNX graph: forward, loss, reverse-mode gradients, global-norm clipping,
 * the optimizer update and buffer (running-statistics) updates. One ORT `run` per step with inputs
 * (params, buffers, optimizer states, lr, step, batch) and outputs (their new values, loss, metrics).
 */
import { Graph, Tensor } from '../graph/graph.js';
import type { DType } from '../graph/dtype.js';
import { concat, reshape, zeros } from '../graph/ops/shape_ops.js';
import { grad } from '../autodiff/grad.js';
import { Module, withBinding } from '../nn/module.js';
import { FlatBinding } from '../nn/binding.js';
import type { ModelState } from '../nn/state.js';
import type { Optimizer } from '../optim/optimizer.js';
import { clipByGlobalNorm } from '../optim/clip.js';
import { CompiledGraph, type HostTensor, type RuntimeOptions } from '../runtime/session.js';
import { AttnvisionError, invalidArg } from '../util/errors.js';

export interface InputSpec {
  name: string;
  shape: readonly number[];
  dtype: DType;
}

export interface LossResult {
  /** Scalar loss to minimise. */
  loss: Tensor;
  /** Extra outputs returned each step (e.g. logits for accuracy). */
  outputs?: Record<string, Tensor>;
}

export type LossFn<M extends Module> = (model: M, inputs: Record<string, Tensor>) => LossResult;

export interface TrainStepSpec<M extends Module> {
  model: M;
  state: ModelState;
  inputs: readonly InputSpec[];
  loss: LossFn<M>;
  optimizer: Optimizer;
  /** Clip gradients to this global L2 norm (default: no clipping). */
  clipNorm?: number;
  runtime?: RuntimeOptions;
}

export interface StepResult {
  loss: number;
  gradNorm: number;
  outputs: Record<string, HostTensor>;
}

/** Serializable optimizer progress (for checkpoints and exact resume). */
export interface OptimizerSnapshot {
  step: number;
  states: Record<string, Float32Array>;
}

export class TrainStep<M extends Module> {
  /** Number of completed optimizer steps. */
  step = 0;
  readonly optStates: Float32Array[];
  private readonly decayMask: Float32Array;

  private constructor(
    readonly spec: TrainStepSpec<M>,
    private readonly compiled: CompiledGraph,
    private readonly outputNames: string[],
  ) {
    const P = spec.state.params.length;
    this.optStates = spec.optimizer.stateNames.map(() => new Float32Array(P));
    this.decayMask = new Float32Array(P);
    for (const s of spec.state.paramSlots) if (s.item.decay) this.decayMask.fill(1, s.offset, s.offset + s.size);
  }

  static async build<M extends Module>(spec: TrainStepSpec<M>): Promise<TrainStep<M>> {
    const { model, state, optimizer } = spec;
    // A clip norm <= 0 would flip (negative) or zero every update; leave it out for no clipping.
    if (spec.clipNorm !== undefined && !(spec.clipNorm > 0)) invalidArg('TrainStep.build', 'clipNorm', 'a number > 0 (or no clipNorm for none)', spec.clipNorm);
    // The step's own inputs and outputs; the batch and the loss's extra outputs must not take their names.
    const own = ['params', 'buffers', 'lr', 'step', 'decay_mask', 'params_out', 'loss', 'grad_norm', 'buffers_out', ...optimizer.stateNames.flatMap((n) => [`opt_${n}`, `opt_${n}_out`])];
    for (const i of spec.inputs) if (own.includes(i.name)) invalidArg('TrainStep.build', 'input name', `a name other than the step's own (${own.join(', ')})`, i.name);
    model.train(true);
    const P = state.params.length;
    const graph = new Graph();
    const { outputs, names } = graph.run(() => {
      const binding = new FlatBinding(graph, state);
      const params = binding.params;
      const ins: Record<string, Tensor> = {};
      for (const i of spec.inputs) ins[i.name] = graph.input(i.name, i.shape, i.dtype);
      const lr = graph.input('lr', [], 'float32');
      const stepT = graph.input('step', [], 'float32');
      const decayMask = graph.input('decay_mask', [P], 'float32');
      const states = optimizer.stateNames.map((n) => graph.input(`opt_${n}`, [P], 'float32'));
      const res = withBinding(binding, () => spec.loss(model, ins));
      if (!(res?.loss instanceof Tensor)) throw new AttnvisionError(`TrainStep: the loss function must return { loss: Tensor, outputs? }; got ${res instanceof Tensor ? 'a bare Tensor' : typeof res}`);
      if (res.loss.rank !== 0) throw new AttnvisionError(`loss must be a scalar, got shape [${res.loss.shape}]`);
      if (res.loss.dtype !== 'float32') throw new AttnvisionError(`loss must be float32 (a ${res.loss.dtype} loss has no gradient)`);
      for (const k of Object.keys(res.outputs ?? {})) if (own.includes(k)) throw new AttnvisionError(`TrainStep: extra output "${k}" takes a name of the step's own (${own.join(', ')})`);
      // Gradients w.r.t. each parameter slice; unused parameters get zeros.
      const used = state.paramSlots.filter((s) => binding.paramTensors.has(s.item));
      const grads = grad(res.loss, used.map((s) => binding.paramTensors.get(s.item)!), { allowUnused: true });
      const gradOf = new Map(used.map((s, i) => [s.item, grads[i]]));
      const flat = graph.withScope('optimizer', () =>
        concat(
          state.paramSlots.map((s) => {
            const gi = gradOf.get(s.item);
            return gi ? reshape(gi, [s.size]) : zeros([s.size]);
          }),
          0,
        ),
      );
      const { g, norm } = clipByGlobalNorm(flat, spec.clipNorm ?? Infinity);
      const upd = graph.withScope('optimizer', () => optimizer.update({ p: params, g, states, lr, step: stepT, decayMask }));
      // New buffers: updated values where the model wrote them, else unchanged slices.
      const outs: Tensor[] = [upd.p, ...upd.states, res.loss, norm];
      const names = ['params_out', ...optimizer.stateNames.map((n) => `opt_${n}_out`), 'loss', 'grad_norm'];
      if (state.buffers.length) {
        const bufs = state.bufferSlots.map((s) => {
          const u = binding.bufferUpdates.get(s.item);
          return reshape(u ?? binding.buffer(s.item, s.name), [s.size]);
        });
        outs.push(concat(bufs, 0));
        names.push('buffers_out');
      }
      for (const [k, t] of Object.entries(res.outputs ?? {})) {
        outs.push(t);
        names.push(k);
      }
      return { outputs: outs, names };
    });
    const compiled = await CompiledGraph.compile(graph, outputs, { ...spec.runtime, outputNames: names, keepInputs: true });
    return new TrainStep(spec, compiled, names);
  }

  /** Runs one optimisation step; updates params, buffers and optimizer state in place. */
  async run(batch: Record<string, HostTensor>, opts: { lr: number; seed?: number }): Promise<StepResult> {
    // A NaN learning rate would turn every weight into NaN while this step still reports its loss.
    if (typeof opts?.lr !== 'number' || !Number.isFinite(opts.lr) || opts.lr < 0) invalidArg('TrainStep.run', 'lr', 'a finite number >= 0', opts?.lr);
    const { state } = this.spec;
    const P = state.params.length;
    const feeds: Record<string, HostTensor> = {
      ...batch,
      params: { data: state.params, shape: [P], dtype: 'float32' },
      lr: { data: Float32Array.of(opts.lr), shape: [], dtype: 'float32' },
      step: { data: Float32Array.of(this.step + 1), shape: [], dtype: 'float32' },
      decay_mask: { data: this.decayMask, shape: [P], dtype: 'float32' },
    };
    if (state.buffers.length) feeds.buffers = { data: state.buffers, shape: [state.buffers.length], dtype: 'float32' };
    this.spec.optimizer.stateNames.forEach((n, i) => (feeds[`opt_${n}`] = { data: this.optStates[i]!, shape: [P], dtype: 'float32' }));
    const res = await this.compiled.run(feeds, { seed: opts.seed ?? 0, step: this.step });
    state.params.set(res.params_out!.data as Float32Array);
    this.spec.optimizer.stateNames.forEach((n, i) => this.optStates[i]!.set(res[`opt_${n}_out`]!.data as Float32Array));
    if (res.buffers_out) state.buffers.set(res.buffers_out.data as Float32Array);
    this.step++;
    const outputs: Record<string, HostTensor> = {};
    for (const n of this.outputNames) if (!['params_out', 'loss', 'grad_norm', 'buffers_out'].includes(n) && !n.startsWith('opt_')) outputs[n] = res[n]!;
    return { loss: res.loss!.data[0] as number, gradNorm: res.grad_norm!.data[0] as number, outputs };
  }

  snapshot(): OptimizerSnapshot {
    const states: Record<string, Float32Array> = {};
    this.spec.optimizer.stateNames.forEach((n, i) => (states[n] = this.optStates[i]!));
    return { step: this.step, states };
  }

  restore(s: OptimizerSnapshot): void {
    this.spec.optimizer.stateNames.forEach((n, i) => {
      const v = s.states[n];
      if (!v || v.length !== this.optStates[i]!.length) throw new AttnvisionError(`optimizer state "${n}" missing or wrong size in snapshot`);
      this.optStates[i]!.set(v);
    });
    this.step = s.step;
  }
}
