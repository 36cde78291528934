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
import { FLAT_INPUTS, FlatBinding } from '../nn/binding.js';
import type { ModelState } from '../nn/state.js';
import type { Optimizer } from '../optim/optimizer.js';
import { clipByGlobalNorm } from '../optim/clip.js';
import { flatWeightFeeds } from './infer.js';
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

/** The step graph's own inputs (besides FlatBinding's params and buffers) and outputs. */
const STEP_INPUTS = { lr: 'lr', step: 'step', decayMask: 'decay_mask' } as const;
const STEP_OUTPUTS = { params: 'params_out', loss: 'loss', gradNorm: 'grad_norm', buffers: 'buffers_out' } as const;
const optIn = (state: string) => `opt_${state}`;
const optOut = (state: string) => `opt_${state}_out`;

/** Every name the step graph uses for itself (`all`; the batch and the loss's extra outputs must not take one) and its own outputs. */
function ownNames(optimizer: Optimizer): { all: Set<string>; outputs: Set<string> } {
  const outputs = new Set<string>([...Object.values(STEP_OUTPUTS), ...optimizer.stateNames.map(optOut)]);
  return { all: new Set([...Object.values(FLAT_INPUTS), ...Object.values(STEP_INPUTS), ...optimizer.stateNames.map(optIn), ...outputs]), outputs };
}

export class TrainStep<M extends Module> {
  /** Number of completed optimizer steps. */
  step = 0;
  readonly optStates: Float32Array[];
  private readonly decayMask: Float32Array;

  private constructor(
    readonly spec: TrainStepSpec<M>,
    private readonly compiled: CompiledGraph,
    /** The loss's extra outputs, returned by run(). */
    private readonly extraOutputs: string[],
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
    const own = ownNames(optimizer);
    const ownList = [...own.all].join(', ');
    for (const i of spec.inputs) if (own.all.has(i.name)) invalidArg('TrainStep.build', 'input name', `a name other than the step's own (${ownList})`, i.name);
    model.train(true);
    const P = state.params.length;
    const graph = new Graph();
    const { outputs, names } = graph.run(() => {
      const binding = new FlatBinding(graph, state);
      const params = binding.params;
      const ins: Record<string, Tensor> = {};
      for (const i of spec.inputs) ins[i.name] = graph.input(i.name, i.shape, i.dtype);
      const lr = graph.input(STEP_INPUTS.lr, [], 'float32');
      const stepT = graph.input(STEP_INPUTS.step, [], 'float32');
      const decayMask = graph.input(STEP_INPUTS.decayMask, [P], 'float32');
      const states = optimizer.stateNames.map((n) => graph.input(optIn(n), [P], 'float32'));
      const res = withBinding(binding, () => spec.loss(model, ins));
      if (!(res?.loss instanceof Tensor)) throw new AttnvisionError(`TrainStep: the loss function must return { loss: Tensor, outputs? }; got ${res instanceof Tensor ? 'a bare Tensor' : typeof res}`);
      if (res.loss.rank !== 0) throw new AttnvisionError(`loss must be a scalar, got shape [${res.loss.shape}]`);
      if (res.loss.dtype !== 'float32') throw new AttnvisionError(`loss must be float32 (a ${res.loss.dtype} loss has no gradient)`);
      for (const k of Object.keys(res.outputs ?? {})) if (own.all.has(k)) throw new AttnvisionError(`TrainStep: extra output "${k}" takes a name of the step's own (${ownList})`);
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
      const names: string[] = [STEP_OUTPUTS.params, ...optimizer.stateNames.map(optOut), STEP_OUTPUTS.loss, STEP_OUTPUTS.gradNorm];
      if (state.buffers.length) {
        const bufs = state.bufferSlots.map((s) => {
          const u = binding.bufferUpdates.get(s.item);
          return reshape(u ?? binding.buffer(s.item, s.name), [s.size]);
        });
        outs.push(concat(bufs, 0));
        names.push(STEP_OUTPUTS.buffers);
      }
      for (const [k, t] of Object.entries(res.outputs ?? {})) {
        outs.push(t);
        names.push(k);
      }
      return { outputs: outs, names };
    });
    const compiled = await CompiledGraph.compile(graph, outputs, { ...spec.runtime, outputNames: names, keepInputs: true });
    return new TrainStep(spec, compiled, names.filter((n) => !own.outputs.has(n)));
  }

  /** Runs one optimisation step; updates params, buffers and optimizer state in place. */
  async run(batch: Record<string, HostTensor>, opts: { lr: number; seed?: number }): Promise<StepResult> {
    // A NaN learning rate would turn every weight into NaN while this step still reports its loss.
    if (typeof opts?.lr !== 'number' || !Number.isFinite(opts.lr) || opts.lr < 0) invalidArg('TrainStep.run', 'lr', 'a finite number >= 0', opts?.lr);
    const { state } = this.spec;
    const P = state.params.length;
    const feeds: Record<string, HostTensor> = {
      ...batch,
      ...flatWeightFeeds(this.compiled, state),
      [STEP_INPUTS.lr]: { data: Float32Array.of(opts.lr), shape: [], dtype: 'float32' },
      [STEP_INPUTS.step]: { data: Float32Array.of(this.step + 1), shape: [], dtype: 'float32' },
      [STEP_INPUTS.decayMask]: { data: this.decayMask, shape: [P], dtype: 'float32' },
    };
    this.spec.optimizer.stateNames.forEach((n, i) => (feeds[optIn(n)] = { data: this.optStates[i]!, shape: [P], dtype: 'float32' }));
    const res = await this.compiled.run(feeds, { seed: opts.seed ?? 0, step: this.step });
    state.params.set(res[STEP_OUTPUTS.params]!.data as Float32Array);
    this.spec.optimizer.stateNames.forEach((n, i) => this.optStates[i]!.set(res[optOut(n)]!.data as Float32Array));
    const buffersOut = res[STEP_OUTPUTS.buffers];
    if (buffersOut) state.buffers.set(buffersOut.data as Float32Array);
    this.step++;
    const outputs: Record<string, HostTensor> = {};
    for (const n of this.extraOutputs) outputs[n] = res[n]!;
    return { loss: res[STEP_OUTPUTS.loss]!.data[0] as number, gradNorm: res[STEP_OUTPUTS.gradNorm]!.data[0] as number, outputs };
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
