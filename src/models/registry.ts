/**
 * The model registry (timm style): every network registers under a name that spells its settings
 * (`swin_tiny_patch4_window7_224`), and is created by name with `createModel`.
 */
import type { Tensor } from '../graph/graph.js';
import type { Module } from '../nn/module.js';
import { ModelState, formatLoadReport, type LoadReport, type NamedArray } from '../nn/state.js';
import type { InputSpec } from '../train/step.js';
import { readCheckpoint } from '../io/checkpoint.js';
import { readOnnxWeights } from '../io/onnx_weights.js';
import { ArgumentError, checkInt, checkKeys, invalidArg, ShapeError } from '../util/errors.js';

export interface CreateOptions {
  /** Output classes (default: the model's default, usually 1000). */
  numClasses?: number;
  /** Input [C, H, W] (default: the model's default input). */
  inputSize?: readonly number[];
  /** Initialisation seed (default 0). */
  seed?: number;
  /**
   * safetensors file with pretrained weights (our names, or torchvision/timm names for families
   * that declare a key mapping). When `numClasses` differs from the file's classifier, the
   * classifier is re-initialised for fine-tuning.
   */
  weights?: string;
  /**
   * Initialise the weights (default true). false leaves every parameter and buffer at zero: enough
   * for shapes, parameter counts and FLOPs (listings, summaries), and seconds faster for large models.
   */
  init?: boolean;
  /** Model-specific options (documented by each model). */
  [key: string]: unknown;
}

export interface ModelInfo {
  name: string;
  /** One line: what it is and the paper. */
  description: string;
  family: string;
  /** Default [C, H, W]. */
  defaultInputSize: readonly number[];
  /** Smaller input used by the generic tests (default: defaultInputSize). */
  testInputSize?: readonly number[];
  defaultNumClasses: number;
  /** Module-path prefixes of the classifier (re-initialised when numClasses changes). */
  classifier: string[];
  /** Model-specific options `create` reads (beyond numClasses, inputSize, seed, weights, init); others are refused. */
  options?: readonly string[];
  /** Builds the module. */
  create(opts: { numClasses: number; inputSize: readonly number[] } & Record<string, unknown>): Module;
  /** Graph inputs for a batch (default: one float 'input' [B, C, H, W]). */
  inputs?(batch: number, inputSize: readonly number[], numClasses: number): InputSpec[];
  /** Forward returning named outputs, first = main output (default: {logits: model.call(input)}). */
  forward?(model: Module, inputs: Record<string, Tensor>): Record<string, Tensor>;
  /** Renames foreign (torchvision/timm) state-dict keys to ours; return null to drop a key. */
  mapKey?(key: string): string | null;
  /** Paper-reported parameter count and GFLOPs (multiply-adds) at the default input, when stated. */
  paper?: { params?: number; gflops?: number; source: string };
}

const registry = new Map<string, ModelInfo>();

export function registerModel(info: ModelInfo): void {
  if (registry.has(info.name)) throw new Error(`model "${info.name}" registered twice`);
  registry.set(info.name, info);
}

export function listModels(): string[] {
  return [...registry.keys()];
}

export function modelInfo(name: string): ModelInfo {
  const info = registry.get(name);
  if (!info) {
    const near = listModels().filter((n) => n.startsWith(name.split('_')[0]!));
    throw new ArgumentError(`unknown model "${name}"${near.length ? ` (did you mean ${near.slice(0, 5).join(', ')}?)` : ''}; see attnvision models`);
  }
  return info;
}

export function defaultInputs(info: ModelInfo, batch: number, inputSize: readonly number[], numClasses: number): InputSpec[] {
  return info.inputs ? info.inputs(batch, inputSize, numClasses) : [{ name: 'input', shape: [batch, ...inputSize], dtype: 'float32' }];
}

/**
 * The model's forward pass on graph inputs. A shape error while tracing (an input size the model's
 * patch, window or pooling grid cannot take) names the model and the input it was traced for.
 */
export function defaultForward(info: ModelInfo, model: Module, inputs: Record<string, Tensor>): Record<string, Tensor> {
  try {
    if (info.forward) return info.forward(model, inputs);
    return { logits: (model as unknown as { call(x: Tensor): Tensor }).call(inputs.input!) };
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    const shapes = Object.entries(inputs).map(([k, t]) => `${k} [${t.shape.join(', ')}]`).join(', ');
    throw new ShapeError(`${info.name} does not take ${shapes} (default input ${info.defaultInputSize.join('x')}): ${e.message}`);
  }
}

export interface ModelHandle {
  info: ModelInfo;
  model: Module;
  state: ModelState;
  numClasses: number;
  inputSize: readonly number[];
  /** Present when weights were loaded. */
  loadReport?: LoadReport;
}

/** Options every model takes (CreateOptions); each model adds its own (`ModelInfo.options`). */
const COMMON_OPTIONS = ['numClasses', 'inputSize', 'seed', 'weights', 'init'];

/** Creates a registered model with initialised (or loaded) weights; unknown options are refused by name. */
export async function createModel(name: string, opts: CreateOptions = {}): Promise<ModelHandle> {
  if (typeof name !== 'string') throw new ArgumentError(`createModel: expected a model name (see listModels()) but received ${String(name)}`);
  const info = modelInfo(name);
  // A misspelt option (numClass, windowsize) would otherwise be ignored without a word; options
  // given as undefined are as good as absent.
  checkKeys(name, Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)), [...COMMON_OPTIONS, ...(info.options ?? [])]);
  const numClasses = opts.numClasses ?? info.defaultNumClasses;
  const inputSize = opts.inputSize ?? info.defaultInputSize;
  checkInt(name, 'numClasses', numClasses, 1);
  if (opts.seed !== undefined) checkInt(name, 'seed', opts.seed);
  if (opts.init !== undefined && typeof opts.init !== 'boolean') invalidArg(name, 'init', 'true or false', opts.init);
  const dims = info.defaultInputSize.length;
  if (!Array.isArray(inputSize) || inputSize.length !== dims || !inputSize.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ArgumentError(`${name}: expected inputSize as ${dims} positive integers (like ${info.defaultInputSize.join('x')}) but received ${JSON.stringify(inputSize)}`);
  }
  const model = info.create({ ...opts, numClasses, inputSize });
  const state = opts.init === false ? new ModelState(model) : ModelState.init(model, opts.seed ?? 0);
  const handle: ModelHandle = { info, model, state, numClasses, inputSize };
  if (opts.weights !== undefined) {
    if (typeof opts.weights !== 'string' || !opts.weights) throw new ArgumentError(`${name}: expected a weights file path but received ${JSON.stringify(opts.weights)}`);
    handle.loadReport = await loadWeights(handle, opts.weights);
  }
  return handle;
}

/**
 * Loads weights (a safetensors checkpoint or an exported .onnx) into a handle: maps foreign names,
 * skips classifier entries whose shape differs (fine-tuning to a new numClasses) and throws
 * listing every other mismatch.
 */
export async function loadWeights(handle: ModelHandle, file: string): Promise<LoadReport> {
  const own = handle.state.stateDict();
  // A safetensors checkpoint, or an ONNX model exported by attnvision (its weight initializers).
  const entries = file.toLowerCase().endsWith('.onnx') ? await readOnnxWeights(file, own.keys()) : (await readCheckpoint(file)).entries;
  const mapped = new Map<string, NamedArray>();
  for (const [k, v] of entries) {
    const key = own.has(k) ? k : handle.info.mapKey ? handle.info.mapKey(k) : k;
    if (key !== null) mapped.set(key, v);
  }
  const isClassifier = (k: string) => handle.info.classifier.some((c) => k === c || k.startsWith(`${c}.`));
  for (const [k, v] of [...mapped]) {
    const mine = own.get(k);
    if (mine && isClassifier(k) && (mine.shape.length !== v.shape.length || mine.shape.some((d, i) => d !== v.shape[i]))) mapped.delete(k);
  }
  const report = handle.state.loadStateDict(mapped, { strict: false, source: file });
  const missingNonHead = report.missing.filter((k) => !isClassifier(k));
  if (missingNonHead.length || report.unexpected.length || report.shapeMismatch.length) {
    throw new ArgumentError(formatLoadReport({ ...report, missing: missingNonHead }, file));
  }
  return report;
}
