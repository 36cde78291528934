/**
 * The training loop for any registered model on an image-folder or manifest dataset:
 * seeded shuffling and augmentation in worker threads, one ORT run per step (forward, backward,
 * clipping, SGD/AdamW), cosine schedule with warm-up, per-epoch validation, JSONL/CSV logs,
 * atomic checkpoints (`last` every epoch, `best` on improvement) and exact resume.
 *
 * Heads: single-label (softmax cross-entropy with label smoothing) or multi-label (sigmoid BCE),
 * optionally with a severity head: the model then has 2K outputs, the second K regressed with
 * sigmoid + squared error on the labels that are present.
 * Multi-label runs can weight the BCE terms of the labels present on images with two or more
 * labels (`pairWeight`), so a problem hidden by its partner costs more when missed, and the BCE
 * terms of the labels absent from images that have another problem (`negativeWeight`), so a label
 * raised by a different problem costs more when falsely called.
 * With `ema`, an exponential moving average of the weights (optim/ema.ts) is validated and saved
 * as `best`; the raw weights are validated too (`valMetricRaw`) and carried on in `last`.
 */
import { promises as fs } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { createModel, defaultForward, type ModelHandle } from '../models/index.js';
import { AdamW, SGD, type Optimizer } from '../optim/optimizer.js';
import { cosineWithWarmup } from '../optim/schedule.js';
import { WeightEma, checkEmaDecay, withSwapped } from '../optim/ema.js';
import { TrainStep } from './step.js';
import { Predictor } from './infer.js';
import { DataLoader, replaceFailedSamples, type Batch } from '../data/loader/loader.js';
import type { Dataset } from '../data/dataset.js';
import type { TransformSpec } from '../data/loader/transform.js';
import { saveCheckpoint, readCheckpoint } from '../io/checkpoint.js';
import { readSafetensorsMetadata } from '../io/safetensors.js';
import { makeDirs, removeStaleTemps, writeFileAtomic } from '../util/fs.js';
import { multiLabelMetrics, singleLabelMetrics, sigmoid, type MultiLabelMetrics, type SingleLabelMetrics } from './metrics.js';
import { ArgumentError, AttnvisionError, checkInt, checkNumber, invalidArg } from '../util/errors.js';

export interface TrainConfig {
  /** Registered model name. */
  model: string;
  /** Extra model options (createModel). */
  modelOptions?: Record<string, unknown>;
  /** Initial weights (fine-tuning). */
  weights?: string;
  epochs: number;
  batchSize: number;
  /** Training crop side. */
  imageSize: number;
  optimizer: 'sgd' | 'adamw';
  lr: number;
  weightDecay: number;
  /** SGD momentum (default 0.9). */
  momentum?: number;
  warmupEpochs: number;
  /** Label smoothing for single-label training (default 0). */
  labelSmoothing?: number;
  /** Global-norm gradient clipping (default none). */
  clipNorm?: number;
  seed: number;
  /** Multi-label heads: predict a severity per label too. */
  severityHead?: boolean;
  /** Crop mode for training ('crop' keeps the native scale; 'resized-crop' Inception-style). */
  cropMode?: TransformSpec['mode'];
  /** Loader worker threads. */
  workers?: number;
  /**
   * Every epoch trains on epoch 0's batches (same crops and order), decoded once and then replayed
   * from memory (default false). For measuring what the loader costs against training on cached
   * tensors, and for tiny datasets; not for real runs. Resuming stays exact: a resumed run decodes
   * epoch 0's batches again.
   */
  cacheBatches?: boolean;
  /**
   * Multi-label only: weight of the BCE term of each present label on images with two or more
   * labels (default 1: plain BCE). Every other term keeps weight 1.
   */
  pairWeight?: number;
  /** With `pairWeight`: only these labels' terms are weighted (default every label). */
  pairWeightLabels?: string[];
  /**
   * Multi-label only: weight of the BCE term of each absent label on images with at least one
   * present label (hard negatives: a label that another problem raises). Default 1.
   */
  negativeWeight?: number;
  /** With `negativeWeight`: only these labels' terms are weighted (default every label). */
  negativeWeightLabels?: string[];
  /**
   * With `negativeWeight`: only images on which one of these labels is present count (default: any
   * label). E.g. the blur labels for both: the other blur is a hard negative on a blurred image,
   * and the blur terms of images with other problems keep weight 1.
   */
  negativeWeightPartners?: string[];
  /**
   * Decay of an exponential moving average of the weights (e.g. 0.999; default none). The average
   * is what validation scores and `best.safetensors` holds.
   */
  ema?: number;
}

export interface EpochLog {
  epoch: number;
  step: number;
  lr: number;
  trainLoss: number;
  trainAcc?: number;
  valLoss?: number;
  /** Main validation metric (top-1 for single-label, macro-F1 for multi-label); of the EMA weights with `ema`. */
  valMetric?: number;
  /** With `ema`: the main validation metric of the raw (not averaged) weights. */
  valMetricRaw?: number;
  valTop1?: number;
  valMacroF1?: number;
  valMAP?: number;
  imagesPerSec: number;
  seconds: number;
}

export interface TrainerEvents {
  /** Before an epoch's first batch is loaded (epoch is 0-based; progress bars start their clock here). */
  onEpochStart?(info: { epoch: number; batches: number }): void;
  /** After every step (for progress bars). */
  onStep?(info: { epoch: number; batch: number; batches: number; loss: number; acc?: number; imagesPerSec: number; lr: number }): void;
  onEpoch?(log: EpochLog): void;
  /** An image that failed to load: in training ('train': a loaded image of the same batch takes its place in that step) or validation ('val': not scored). */
  onLoadError?(file: string, message: string, phase: 'train' | 'val'): void;
  /** Something the user should know that is not an error (e.g. --resume found no checkpoint). */
  onNotice?(message: string): void;
}

export interface TrainResult {
  logs: EpochLog[];
  best: EpochLog | undefined;
  handle: ModelHandle;
}

function toMeta(obj: unknown): string {
  return JSON.stringify(obj);
}

export class Trainer {
  constructor(
    readonly config: TrainConfig,
    readonly train: Dataset,
    readonly val: Dataset | undefined,
    readonly outDir: string,
    readonly events: TrainerEvents = {},
  ) {
    checkTrainConfig(config);
    if (val && val.classes.join() !== train.classes.join()) throw new ArgumentError(`validation classes [${val.classes}] differ from training classes [${train.classes}]`);
    if (config.severityHead && !train.multiLabel) throw new ArgumentError('a severity head needs a multi-label (manifest) dataset');
    if (config.pairWeight !== undefined && !train.multiLabel) throw new ArgumentError('a pair weight needs a multi-label (manifest) dataset');
    if (config.negativeWeight !== undefined && !train.multiLabel) throw new ArgumentError('a negative weight needs a multi-label (manifest) dataset');
    checkClassesCovered(train);
    this.pairWeighted = labelMask(train.classes, config.pairWeightLabels, 'pair-weighted labels');
    this.negativeWeighted = labelMask(train.classes, config.negativeWeightLabels, 'negative-weighted labels');
    this.negativePartners = labelMask(train.classes, config.negativeWeightPartners, 'negative-weight partners');
  }

  /** Per class, whether its pair terms are weighted (`pairWeightLabels`; undefined: every class). */
  private readonly pairWeighted?: boolean[];
  /** Per class, whether its hard-negative terms are weighted (`negativeWeightLabels`; undefined: every class). */
  private readonly negativeWeighted?: boolean[];
  /** Per class, whether its presence makes an image's absent labels hard negatives (`negativeWeightPartners`; undefined: every class). */
  private readonly negativePartners?: boolean[];

  /** Whether the BCE terms carry per-term weights (fed as `lossWeights`). */
  private get weightedLoss(): boolean {
    return this.config.pairWeight !== undefined || this.config.negativeWeight !== undefined;
  }

  get numOutputs(): number {
    const K = this.train.classes.length;
    return this.config.severityHead ? 2 * K : K;
  }

  private lossFn(handle: ModelHandle) {
    const K = this.train.classes.length;
    const multi = this.train.multiLabel;
    const sev = this.config.severityHead;
    return (m: ModelHandle['model'], ins: Record<string, Tensor>) => {
      const out = Object.values(defaultForward(handle.info, m, { input: ins.input! }))[0]!;
      if (!multi) {
        return { loss: F.crossEntropy(out, ins.y!, this.config.labelSmoothing ?? 0), outputs: { logits: out } };
      }
      const B = out.shape[0]!;
      const presence = sev ? F.slice(out, [0], [K], [1]) : out; // [B, K]
      let loss = F.bceWithLogits(presence, ins.targets!, ins.lossWeights); // lossWeights [B, K] with a pair or negative weight
      if (sev) {
        const sevPred = F.sigmoid(F.slice(out, [K], [2 * K], [1])); // [B, K]
        const err = F.mul(F.square(F.sub(sevPred, ins.severities!)), ins.targets!);
        loss = F.add(loss, F.div(F.reduceSum(err), F.add(F.reduceSum(ins.targets!), 1)));
      }
      void B;
      return { loss, outputs: { logits: presence } };
    };
  }

  private feeds(b: Batch, S: number, K: number) {
    const B = b.size;
    const f: Record<string, { data: Float32Array | BigInt64Array; shape: number[]; dtype: 'float32' | 'int64' }> = {
      input: { data: b.x, shape: [B, 3, S, S], dtype: 'float32' },
    };
    if (this.train.multiLabel) {
      f.targets = { data: b.targets!, shape: [B, K], dtype: 'float32' };
      if (this.config.severityHead) f.severities = { data: b.severities!, shape: [B, K], dtype: 'float32' };
      if (this.weightedLoss) {
        const weights = bceTermWeights(b.targets!, K, {
          pairWeight: this.config.pairWeight ?? 1, pairOnly: this.pairWeighted,
          negativeWeight: this.config.negativeWeight ?? 1, negativeOnly: this.negativeWeighted, negativePartners: this.negativePartners,
        });
        f.lossWeights = { data: weights, shape: [B, K], dtype: 'float32' };
      }
    } else f.y = { data: b.y, shape: [B], dtype: 'int64' };
    return f;
  }

  /** Restores a run from `lastFile` (a missing file starts a new run; a damaged or mismatched one is an error). */
  private async resume(lastFile: string, data: DataFingerprint, r: { handle: ModelHandle; step: TrainStep<ModelHandle['model']>; ema?: WeightEma; logs: EpochLog[] }): Promise<{ startEpoch: number; best: EpochLog | undefined }> {
    // Temporary files of a run killed mid-write (SIGKILL, power loss) go before anything is written.
    await removeStaleTemps(this.outDir);
    const exists = await fs.stat(lastFile).then(() => true, () => false);
    // A damaged checkpoint is an error, never silently overwritten.
    const ck = exists ? await readCheckpoint(lastFile) : null;
    if (!ck) {
      this.events.onNotice?.(`${lastFile} not found: starting a new run`);
      return { startEpoch: 0, best: undefined };
    }
    r.handle.state.loadStateDict(ck.entries, { source: lastFile });
    const meta = JSON.parse(ck.metadata.trainer ?? '{}') as { epoch: number; step: number; logs: EpochLog[]; config: TrainConfig; data?: DataFingerprint };
    const changed = configDifferences(meta.config, this.config);
    if (changed.length) throw new ArgumentError(`${lastFile}: checkpoint was trained with a different configuration (${changed.join('; ')}); resume with the same flags or start a new run folder`);
    // Another data set would change the batches and the schedule: the resumed run would not be the one it continues.
    if (meta.data && (meta.data.hash !== data.hash || meta.data.train !== data.train || meta.data.val !== data.val)) {
      throw new ArgumentError(`${lastFile}: the data changed since this checkpoint (training images ${meta.data.train} -> ${data.train}, validation ${meta.data.val} -> ${data.val}${meta.data.hash !== data.hash ? ', file list or labels differ' : ''}); resume with the same data or start a new run folder`);
    }
    r.step.restore({ step: meta.step, states: ck.optimizer });
    r.ema?.restore(ck.optimizer.ema_params, ck.optimizer.ema_buffers, lastFile);
    r.logs.push(...meta.logs);
    const best = r.logs.reduce<EpochLog | undefined>((b, l) => (l.valMetric !== undefined && (!b || l.valMetric > b.valMetric!) ? l : b), undefined);
    // The logs as the checkpoint has them: a run stopped between the checkpoint and the log files
    // would otherwise keep logs an epoch short (for good, if that was the last epoch).
    await writeLogs(this.outDir, r.logs);
    const next = meta.epoch + 1;
    // --epochs may change on resume (to train longer), but the cosine schedule spans the run: say so.
    if (meta.config.epochs !== this.config.epochs) {
      this.events.onNotice?.(`epochs changed ${meta.config.epochs} -> ${this.config.epochs}: the learning-rate schedule now spans ${this.config.epochs} epochs from here on, so the run differs from an uninterrupted ${this.config.epochs}-epoch run`);
    }
    this.events.onNotice?.(next >= this.config.epochs ? `${lastFile}: the run is already complete (${this.config.epochs} epochs)` : `resuming at epoch ${next + 1} of ${this.config.epochs} from ${lastFile}`);
    return { startEpoch: next, best };
  }

  /** Runs (or resumes) training. */
  async run(opts: { resume?: boolean } = {}): Promise<TrainResult> {
    const c = this.config;
    const S = c.imageSize;
    const K = this.train.classes.length;
    await makeDirs(this.outDir);
    const handle = await createModel(c.model, { ...c.modelOptions, numClasses: this.numOutputs, inputSize: [3, S, S], seed: c.seed, weights: c.weights });
    const optimizer: Optimizer = c.optimizer === 'sgd' ? new SGD({ momentum: c.momentum ?? 0.9, weightDecay: c.weightDecay, nesterov: true }) : new AdamW({ weightDecay: c.weightDecay });
    const B = c.batchSize;
    const inputs = [{ name: 'input', shape: [B, 3, S, S], dtype: 'float32' as const }];
    if (this.train.multiLabel) {
      inputs.push({ name: 'targets', shape: [B, K], dtype: 'float32' });
      if (c.severityHead) inputs.push({ name: 'severities', shape: [B, K], dtype: 'float32' });
      if (this.weightedLoss) inputs.push({ name: 'lossWeights', shape: [B, K], dtype: 'float32' });
    } else inputs.push({ name: 'y', shape: [B], dtype: 'int64' as never });
    // clipNorm 0 (or none): no clipping.
    const step = await TrainStep.build({ model: handle.model, state: handle.state, inputs, optimizer, clipNorm: c.clipNorm ? c.clipNorm : undefined, loss: this.lossFn(handle) });
    const loader = new DataLoader(this.train, { batchSize: B, shuffle: true, seed: c.seed, transform: { size: S, mode: c.cropMode ?? 'crop', flip: true }, workers: c.workers });
    const stepsPerEpoch = loader.batchesPerEpoch;
    if (stepsPerEpoch < 1) throw new ArgumentError(`training set has ${this.train.samples.length} images, fewer than one batch of ${B} (--batch)`);
    const schedule = cosineWithWarmup({ baseLr: c.lr, totalSteps: c.epochs * stepsPerEpoch, warmupSteps: Math.round(c.warmupEpochs * stepsPerEpoch), minLr: c.lr * 1e-3 });
    const logs: EpochLog[] = [];
    const cached: Batch[] = [];
    let best: EpochLog | undefined;
    let startEpoch = 0;
    const state = handle.state;
    const ema = c.ema !== undefined ? new WeightEma(c.ema, state.params, state.buffers) : undefined;
    // Runs fn with the averaged weights in the model state (the raw weights without EMA).
    const withEvalWeights = <T>(fn: () => Promise<T>) => (ema ? withSwapped([[state.params, ema.params], [state.buffers, ema.buffers]], fn) : fn());
    const lastFile = path.join(this.outDir, 'last.safetensors');
    const data = dataFingerprint(this.train, this.val);
    if (opts.resume) {
      try {
        ({ startEpoch, best } = await this.resume(lastFile, data, { handle, step, ema, logs }));
      } catch (e) {
        await loader.close(); // its workers are already running
        throw e;
      }
    }
    const valPredictor = this.val
      ? await Predictor.build({ model: handle.model, state: handle.state, inputs: [{ name: 'input', shape: [B, 3, S, S], dtype: 'float32' }], forward: (m, ins) => defaultForward(handle.info, m, ins), weights: 'fed' })
      : undefined;
    const valLoader = this.val ? new DataLoader(this.val, { batchSize: B, shuffle: false, seed: c.seed, transform: { size: S, mode: 'center', flip: false }, workers: c.workers }) : undefined;
    try {
      for (let epoch = startEpoch; epoch < c.epochs; epoch++) {
        this.events.onEpochStart?.({ epoch, batches: stepsPerEpoch });
        const t0 = performance.now();
        let lossSum = 0;
        let correct = 0;
        let seen = 0;
        let batchIndex = 0;
        const replay = c.cacheBatches && cached.length === stepsPerEpoch;
        for await (const b of replay ? cached : loader.epoch(c.cacheBatches ? 0 : epoch)) {
          if (c.cacheBatches && !replay) cached.push(b);
          for (const e of b.errors) this.events.onLoadError?.(e.file, e.message, 'train');
          const usable = replaceFailedSamples(b);
          if (!usable) throw new AttnvisionError(`epoch ${epoch + 1}, batch ${batchIndex + 1}: none of its ${b.size} images could be loaded (first: ${b.errors[0]!.file}: ${b.errors[0]!.message})`);
          const lr = schedule(step.step);
          const r = await step.run(this.feeds(usable, S, K), { lr, seed: c.seed });
          if (!Number.isFinite(r.loss)) throw new AttnvisionError(`loss became ${r.loss} at epoch ${epoch + 1}, step ${step.step}: lower the learning rate (--lr) or clip gradients harder (--clip)`);
          ema?.update(state.params, state.buffers, step.step - 1);
          lossSum += r.loss * b.size;
          seen += b.size;
          if (!this.train.multiLabel) correct += countCorrect(r.outputs.logits!.data as Float32Array, usable.y, K);
          batchIndex++;
          const secs = (performance.now() - t0) / 1000;
          this.events.onStep?.({ epoch, batch: batchIndex, batches: stepsPerEpoch, loss: lossSum / seen, acc: this.train.multiLabel ? undefined : correct / seen, imagesPerSec: seen / secs, lr });
        }
        const seconds = (performance.now() - t0) / 1000;
        const log: EpochLog = { epoch: epoch + 1, step: step.step, lr: schedule(Math.max(0, step.step - 1)), trainLoss: lossSum / seen, imagesPerSec: seen / seconds, seconds };
        if (!this.train.multiLabel) log.trainAcc = correct / seen;
        if (valPredictor && valLoader) {
          // Load failures are reported once per epoch (the EMA run's second pass stays quiet).
          const evaluate = (report: boolean) =>
            evaluateLoader(valPredictor, valLoader, this.val!, { severityHead: !!c.severityHead, onLoadError: report ? (f, m) => this.events.onLoadError?.(f, m, 'val') : undefined });
          if (ema) {
            const raw = await evaluate(true);
            log.valMetricRaw = raw.metrics.kind === 'single' ? raw.metrics.top1 : raw.metrics.macroF1;
          }
          const ev = await withEvalWeights(() => evaluate(!ema));
          log.valLoss = ev.loss;
          if (ev.metrics.kind === 'single') {
            log.valTop1 = ev.metrics.top1;
            log.valMacroF1 = ev.metrics.macroF1;
            log.valMetric = ev.metrics.top1;
          } else {
            log.valMAP = ev.metrics.mAP;
            log.valMacroF1 = ev.metrics.macroF1;
            log.valMetric = ev.metrics.macroF1;
          }
        }
        logs.push(log);
        const trainerMeta = { epoch, step: step.step, logs, config: c, data };
        const metadata = { trainer: toMeta(trainerMeta), model: c.model, classes: toMeta(this.train.classes), numOutputs: String(this.numOutputs), imageSize: String(S), head: this.train.multiLabel ? 'multi-label' : 'single-label' };
        const emaStates: Record<string, Float32Array> = ema ? { ema_params: ema.params, ema_buffers: ema.buffers } : {};
        // best before last: last.safetensors is the commit point of the epoch. A run stopped in
        // between repeats the epoch on resume (bit-identically) and rewrites best; the other order
        // could leave best.safetensors an epoch behind the logs for good.
        if (log.valMetric !== undefined && (!best || log.valMetric > best.valMetric!)) {
          best = log;
          await withEvalWeights(() => saveCheckpoint(path.join(this.outDir, 'best.safetensors'), state, { metadata }));
        }
        await saveCheckpoint(lastFile, state, { optimizer: { ...step.snapshot().states, ...emaStates }, metadata });
        await writeLogs(this.outDir, logs);
        this.events.onEpoch?.(log);
      }
    } finally {
      await loader.close();
      await valLoader?.close();
    }
    return { logs, best, handle };
  }
}

/**
 * For a checkpoint of a training run that has not reached its last epoch (judged by the run's
 * last.safetensors beside it: best.safetensors of a finished run is often from an earlier epoch):
 * a note saying so; undefined for a finished run or when there is no trainer metadata to tell.
 */
export async function unfinishedRunNote(file: string): Promise<string | undefined> {
  const last = path.join(path.dirname(file), 'last.safetensors');
  let meta: { epoch?: unknown; config?: { epochs?: unknown } };
  try {
    meta = JSON.parse((await readSafetensorsMetadata(last)).trainer ?? '{}') as typeof meta;
  } catch {
    return undefined;
  }
  const epoch = meta.epoch;
  const epochs = meta.config?.epochs;
  if (typeof epoch !== 'number' || typeof epochs !== 'number' || epoch + 1 >= epochs) return undefined;
  return `${file}: a checkpoint of an unfinished run (${last} is at epoch ${epoch + 1} of ${epochs}); continue it with train --resume`;
}

/** What a checkpoint records of its data: image counts and a hash of the files and their labels. */
export interface DataFingerprint {
  train: number;
  val: number;
  hash: string;
}

/** The data's fingerprint: files relative to each set's root (so a moved folder still matches), with labels. */
export function dataFingerprint(train: Dataset, val: Dataset | undefined): DataFingerprint {
  const h = createHash('sha1');
  for (const ds of [train, val]) {
    h.update(`|${ds?.classes.join(',') ?? ''}|`);
    for (const s of ds?.samples ?? []) h.update(`${path.relative(ds!.root, s.file)}\t${s.labels ? Array.from(s.labels).join('') : s.label}\n`);
  }
  return { train: train.samples.length, val: val?.samples.length ?? 0, hash: h.digest('hex').slice(0, 16) };
}

/** The numeric and named settings of a training run, checked before anything runs (the CLI checks its flags too). */
export function checkTrainConfig(c: TrainConfig): void {
  const w = 'TrainConfig';
  if (c.optimizer !== 'sgd' && c.optimizer !== 'adamw') invalidArg(w, 'optimizer', '"sgd" or "adamw"', c.optimizer);
  checkInt(w, 'epochs', c.epochs, 1);
  checkInt(w, 'batchSize', c.batchSize, 1);
  checkInt(w, 'imageSize', c.imageSize, 1);
  checkInt(w, 'seed', c.seed);
  checkNumber(w, 'lr', c.lr, 0);
  checkNumber(w, 'weightDecay', c.weightDecay, 0);
  checkNumber(w, 'warmupEpochs', c.warmupEpochs, 0);
  if (c.momentum !== undefined) checkNumber(w, 'momentum', c.momentum, 0, 1);
  if (c.labelSmoothing !== undefined) checkNumber(w, 'labelSmoothing', c.labelSmoothing, 0, 1);
  if (c.clipNorm !== undefined) checkNumber(w, 'clipNorm (0: none)', c.clipNorm, 0);
  if (c.cropMode !== undefined && !['resized-crop', 'crop', 'center'].includes(c.cropMode)) invalidArg(w, 'cropMode', '"resized-crop", "crop" or "center"', c.cropMode);
  if (c.workers !== undefined) checkInt(w, 'workers', c.workers, 1);
  if (c.pairWeight !== undefined && !(c.pairWeight > 0)) throw new ArgumentError(`pair weight (--pair-weight) must be > 0, received ${c.pairWeight}`);
  if (c.pairWeightLabels !== undefined && c.pairWeight === undefined) throw new ArgumentError('pair-weighted labels (--pair-weight-labels) need a pair weight (--pair-weight)');
  if (c.negativeWeight !== undefined && !(c.negativeWeight > 0)) throw new ArgumentError(`negative weight (--negative-weight) must be > 0, received ${c.negativeWeight}`);
  if (c.negativeWeightLabels !== undefined && c.negativeWeight === undefined) throw new ArgumentError('negative-weighted labels (--negative-weight-labels) need a negative weight (--negative-weight)');
  if (c.negativeWeightPartners !== undefined && c.negativeWeight === undefined) throw new ArgumentError('negative-weight partners (--negative-weight-partners) need a negative weight (--negative-weight)');
  if (c.ema !== undefined) checkEmaDecay(c.ema);
  // AdamW multiplies each weight by (1 - lr * wd) every step (the schedule's peak is lr): at 1 or
  // more every decayed weight is zeroed or flips sign each step.
  if (c.optimizer === 'adamw' && c.lr * c.weightDecay >= 1) throw new ArgumentError(`weight decay (--wd ${c.weightDecay}) times the learning rate (--lr ${c.lr}) is ${c.lr * c.weightDecay}: AdamW scales every weight by 1 - lr * wd per step, so it must stay below 1`);
}

/**
 * Every class must be learnable: single-label sets need two classes or more and images of each;
 * multi-label sets need each label on at least one image (a label given by mistake, such as a typo
 * in --labels, would otherwise train an all-zero target).
 */
export function checkClassesCovered(ds: Dataset): void {
  const K = ds.classes.length;
  const count = new Array<number>(K).fill(0);
  for (const s of ds.samples) {
    if (ds.multiLabel) s.labels!.forEach((v, c) => (count[c]! += v > 0.5 ? 1 : 0));
    else if (s.label >= 0) count[s.label]!++;
  }
  if (!ds.multiLabel && K < 2) throw new ArgumentError(`${ds.root}: single-label training needs at least 2 classes, found ${K} (${ds.classes.join(', ')})`);
  const empty = ds.classes.filter((_, c) => count[c] === 0);
  if (empty.length) throw new ArgumentError(`${ds.root}: ${ds.multiLabel ? (empty.length > 1 ? 'labels' : 'label') : empty.length > 1 ? 'classes' : 'class'} ${empty.map((e) => `"${e}"`).join(', ')} ${ds.multiLabel ? 'on no training image' : 'with no training images'} (classes: ${ds.classes.join(', ')})`);
}

/** The settings two runs differ in, as "name: old -> new" (loader threads excluded: they do not change results). */
export function configDifferences(before: TrainConfig, after: TrainConfig): string[] {
  const ignore = new Set(['epochs', 'workers']);
  const was = before as unknown as Record<string, unknown>;
  const now = after as unknown as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(was), ...Object.keys(now)])].filter((k) => !ignore.has(k));
  return keys.filter((k) => JSON.stringify(was[k]) !== JSON.stringify(now[k])).map((k) => `${k}: ${JSON.stringify(was[k])} -> ${JSON.stringify(now[k])}`);
}

/** Which classes a label list selects (undefined: every class); `what` names the option in errors. */
function labelMask(classes: readonly string[], labels: readonly string[] | undefined, what: string): boolean[] | undefined {
  if (labels === undefined) return undefined;
  const unknown = labels.filter((l) => !classes.includes(l));
  if (unknown.length || !labels.length) throw new ArgumentError(`${what} must be labels of the dataset (${classes.join(', ')}); got ${JSON.stringify(labels)}`);
  return classes.map((c) => labels.includes(c));
}

export interface BceTermWeighting {
  /** On the present labels of rows with two or more present labels. */
  pairWeight: number;
  /** Classes `pairWeight` applies to (undefined: every class). */
  pairOnly?: readonly boolean[];
  /** On the absent labels of rows with at least one present label (hard negatives). */
  negativeWeight: number;
  /** Classes `negativeWeight` applies to (undefined: every class). */
  negativeOnly?: readonly boolean[];
  /** Rows count for `negativeWeight` only when one of these classes is present (undefined: any class). */
  negativePartners?: readonly boolean[];
}

/**
 * Per-term BCE weights for a batch of multi-label targets [B, K] (row-major 0/1): `pairWeight` on
 * the present labels of rows with two or more present labels, `negativeWeight` on the absent labels
 * of rows with one or more present labels (each only on the classes its mask marks, when given;
 * with `negativePartners`, only rows where one of those classes is present), 1 everywhere else
 * (every term of a clean row).
 */
export function bceTermWeights(targets: Float32Array, K: number, w: BceTermWeighting): Float32Array {
  const out = new Float32Array(targets.length).fill(1);
  for (let r = 0; r * K < targets.length; r++) {
    const row = targets.subarray(r * K, (r + 1) * K);
    let present = 0;
    let partner = false;
    row.forEach((t, c) => {
      if (t > 0.5) {
        present++;
        if (!w.negativePartners || w.negativePartners[c]) partner = true;
      }
    });
    if (present === 0) continue;
    row.forEach((t, c) => {
      if (t > 0.5) {
        if (present >= 2 && (!w.pairOnly || w.pairOnly[c])) out[r * K + c] = w.pairWeight;
      } else if (partner && (!w.negativeOnly || w.negativeOnly[c])) out[r * K + c] = w.negativeWeight;
    });
  }
  return out;
}

function countCorrect(logits: Float32Array, y: BigInt64Array, K: number): number {
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let c = 1; c < K; c++) if (logits[i * K + c]! > logits[i * K + best]!) best = c;
    if (BigInt(best) === y[i]) n++;
  }
  return n;
}

export async function writeLogs(dir: string, logs: EpochLog[]): Promise<void> {
  await writeFileAtomic(path.join(dir, 'log.jsonl'), logs.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const cols = ['epoch', 'step', 'lr', 'trainLoss', 'trainAcc', 'valLoss', 'valMetric', 'valMetricRaw', 'valTop1', 'valMacroF1', 'valMAP', 'imagesPerSec', 'seconds'] as const;
  const csv = [cols.join(','), ...logs.map((l) => cols.map((k) => (l[k] === undefined ? '' : String(l[k]))).join(','))].join('\n') + '\n';
  await writeFileAtomic(path.join(dir, 'log.csv'), csv);
}

export interface EvalOutput {
  loss: number;
  /** Metrics over the images that loaded (`failed` ones left out). */
  metrics: SingleLabelMetrics | MultiLabelMetrics;
  /** Raw model outputs [N, outputs] in dataset order (rows of `failed` images are meaningless). */
  outputs: Float32Array;
  /** Images that could not be loaded, by dataset index; not scored. */
  failed: { index: number; file: string; message: string }[];
}

/**
 * Runs a predictor over a (non-shuffled) loader and computes metrics. Pads the last batch. Images
 * that fail to load are reported (`onLoadError`, `failed`) and left out of the metrics; all of
 * them failing is an error.
 */
export async function evaluateLoader(
  pred: Predictor<ModelHandle['model']>, loader: DataLoader, ds: Dataset,
  opts: { severityHead?: boolean; threshold?: number; onLoadError?: (file: string, message: string) => void; onBatch?: (images: number) => void } = {},
): Promise<EvalOutput> {
  const B = loader.opts.batchSize;
  const S = loader.opts.transform.size;
  const NA = ds.samples.length;
  let outDim = 0;
  let raw = new Float32Array(0);
  const failed: EvalOutput['failed'] = [];
  for await (const b of loader.epoch(0)) {
    for (const e of b.errors) {
      failed.push(e);
      opts.onLoadError?.(e.file, e.message);
    }
    opts.onBatch?.(b.size);
    const x = new Float32Array(B * 3 * S * S);
    x.set(b.x);
    const res = Object.values(await pred.run({ input: { data: x, shape: [B, 3, S, S], dtype: 'float32' } }))[0]!;
    const data = res.data as Float32Array;
    if (!outDim) {
      outDim = data.length / B;
      raw = new Float32Array(NA * outDim);
    }
    b.indices.forEach((idx, j) => raw.set(data.subarray(j * outDim, (j + 1) * outDim), idx * outDim));
  }
  // Score the images that loaded only.
  const bad = new Set(failed.map((f) => f.index));
  const keep = ds.samples.map((_, i) => i).filter((i) => !bad.has(i));
  if (!keep.length) throw new AttnvisionError(`${ds.root}: none of the ${NA} images could be loaded (first: ${failed[0]?.file}: ${failed[0]?.message})`);
  const samples = keep.map((i) => ds.samples[i]!);
  const all = new Float32Array(keep.length * outDim);
  keep.forEach((i, r) => all.set(raw.subarray(i * outDim, (i + 1) * outDim), r * outDim));
  const N = samples.length;
  const K = ds.classes.length;
  if (!ds.multiLabel) {
    const labels = samples.map((s) => s.label);
    const metrics = singleLabelMetrics(all, labels, ds.classes);
    let loss = 0;
    for (let i = 0; i < N; i++) {
      const row = all.subarray(i * K, (i + 1) * K);
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      loss += lse - row[labels[i]!]!;
    }
    return { loss: loss / N, metrics, outputs: raw, failed };
  }
  const probs = new Float32Array(N * K);
  const targets = new Float32Array(N * K);
  let loss = 0;
  for (let i = 0; i < N; i++) {
    for (let c = 0; c < K; c++) {
      const z = all[i * outDim + c]!;
      probs[i * K + c] = sigmoid(z);
      const t = samples[i]!.labels![c]!;
      targets[i * K + c] = t;
      loss += Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z)));
    }
  }
  return { loss: loss / (N * K), metrics: multiLabelMetrics(probs, targets, ds.classes, opts.threshold ?? 0.5), outputs: raw, failed };
}
