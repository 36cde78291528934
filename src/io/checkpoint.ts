/**
 * Model checkpoints as safetensors: parameters and buffers under their state-dict names, optional
 * optimizer state under `optimizer.<state>` (flat), and JSON metadata (model config, step...).
 * Loading checks names and shapes and reports every mismatch.
 */
import type { ModelState, LoadReport, NamedArray } from '../nn/state.js';
import { encodeSafetensors, fromFloat32, readSafetensors, toFloat32, type SafeTensor } from './safetensors.js';
import { writeFileAtomic } from '../util/fs.js';

export interface CheckpointExtras {
  /** Flat optimizer states by name, saved as `optimizer.<name>`. */
  optimizer?: Record<string, Float32Array>;
  /** String metadata (JSON-encode structured values). */
  metadata?: Record<string, string>;
}

export async function saveCheckpoint(file: string, state: ModelState, extras: CheckpointExtras = {}): Promise<void> {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, v] of state.stateDict()) tensors.set(name, fromFloat32(v.data, v.shape));
  for (const [name, v] of Object.entries(extras.optimizer ?? {})) tensors.set(`optimizer.${name}`, fromFloat32(v, [v.length]));
  await writeFileAtomic(file, encodeSafetensors(tensors, { format: 'pt', producer: 'attnvision', ...extras.metadata }));
}

export interface LoadedCheckpoint {
  entries: Map<string, NamedArray>;
  optimizer: Record<string, Float32Array>;
  metadata: Record<string, string>;
  /**
   * Integer tensors left out of `entries` (attnvision's model state is all floating point), e.g.
   * PyTorch BatchNorm's num_batches_tracked, listed so that nothing is dropped silently.
   */
  ignored: { name: string; dtype: string; shape: number[] }[];
}

/** Reads a safetensors file into float32 arrays (model entries and optimizer entries apart). */
export async function readCheckpoint(file: string): Promise<LoadedCheckpoint> {
  const { tensors, metadata } = await readSafetensors(file);
  const entries = new Map<string, NamedArray>();
  const optimizer: Record<string, Float32Array> = {};
  const ignored: LoadedCheckpoint['ignored'] = [];
  for (const [name, t] of tensors) {
    if (name.startsWith('optimizer.')) optimizer[name.slice(10)] = toFloat32(t, `${file}: ${name}`);
    else if (t.dtype === 'I64' || t.dtype === 'I32') ignored.push({ name, dtype: t.dtype, shape: t.shape });
    else entries.set(name, { data: toFloat32(t, `${file}: ${name}`), shape: t.shape });
  }
  return { entries, optimizer, metadata, ignored };
}

/** Loads a checkpoint into `state` (strict by default: throws listing every mismatch). */
export async function loadCheckpoint(file: string, state: ModelState, opts: { strict?: boolean } = {}): Promise<LoadedCheckpoint & { report: LoadReport }> {
  const ck = await readCheckpoint(file);
  const report = state.loadStateDict(ck.entries, { strict: opts.strict, source: file });
  return { ...ck, report };
}
