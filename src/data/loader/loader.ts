/**
 * DataLoader: seeded shuffling, batching, and decoding/augmentation in worker threads with a
 * prefetch queue, so the ORT step does not wait on image decoding.
 *
 * Determinism: the order of epoch e is a permutation seeded by (seed, e), and each sample's
 * augmentation is seeded by (seed, e, index), whichever worker handles it. Resuming at
 * (epoch, batch) therefore reproduces the same batches.
 */
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import type { Dataset } from '../dataset.js';
import type { TransformSpec } from './transform.js';
import type { WorkerRequest, WorkerResponse } from './worker.js';
import { AttnvisionError } from '../../util/errors.js';

export interface Batch {
  /** [B, 3, S, S] normalised images. */
  x: Float32Array;
  /** [B] int64 labels. */
  y: BigInt64Array;
  /** [B, K] multi-label targets and severities (multi-label datasets). */
  targets?: Float32Array;
  severities?: Float32Array;
  /** Dataset indices of the batch samples. */
  indices: number[];
  size: number;
  /** Files that failed to load (zeros in `x`; reported, not fatal); `index` is the dataset index. */
  errors: { index: number; file: string; message: string }[];
}

export interface LoaderOptions {
  batchSize: number;
  transform: TransformSpec;
  shuffle: boolean;
  seed: number;
  /** Drop the last incomplete batch (training). Default: shuffle. */
  dropLast?: boolean;
  /** Worker threads (default: cores - 1, at least 1). */
  workers?: number;
  /** Batches prepared ahead (default 3). */
  prefetch?: number;
}

/**
 * The batch with each image that failed to load replaced by a copy of a loaded one of the same
 * batch (image, label, targets and severities), taken in turn, so a training step never learns
 * a blank image under the failed file's label; `errors` is kept for reporting. Null when no image
 * of the batch loaded. The input batch is not changed.
 */
export function replaceFailedSamples(b: Batch): Batch | null {
  if (!b.errors.length) return b;
  // In batch order (the worker reports failures in the order they happen), so reruns agree.
  const failed = new Set(b.errors.map((e) => b.indices.indexOf(e.index)).sort((x, y) => x - y));
  const loaded = [...Array(b.size).keys()].filter((p) => !failed.has(p));
  if (!loaded.length) return null;
  const x = b.x.slice();
  const y = b.y.slice();
  const targets = b.targets?.slice();
  const severities = b.severities?.slice();
  const per = b.x.length / b.size; // 3 * S * S values per image
  const K = b.targets ? b.targets.length / b.size : 0;
  let next = 0;
  for (const p of failed) {
    const from = loaded[next++ % loaded.length]!;
    x.copyWithin(p * per, from * per, (from + 1) * per);
    y[p] = y[from]!;
    targets?.copyWithin(p * K, from * K, (from + 1) * K);
    severities?.copyWithin(p * K, from * K, (from + 1) * K);
  }
  return { ...b, x, y, ...(targets ? { targets } : {}), ...(severities ? { severities } : {}) };
}

function mix(a: number, b: number, c = 0): number {
  let h = (a ^ Math.imul(b + 0x9e3779b9, 0x85ebca6b) ^ Math.imul(c + 0x7f4a7c15, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Seeded Fisher-Yates permutation of 0..n-1. */
export function permutation(n: number, seed: number): number[] {
  const p = [...Array(n).keys()];
  let s = seed >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    s = mix(s, i);
    const j = s % (i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

export class DataLoader {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, (r: WorkerResponse) => void>();
  /** Requests in flight per worker: a busy worker keeps the process alive, an idle one does not. */
  private readonly inFlight = new Map<Worker, number>();
  private nextId = 0;
  private rr = 0;

  constructor(
    readonly dataset: Dataset,
    readonly opts: LoaderOptions,
  ) {
    const n = opts.workers ?? Math.max(1, (os.availableParallelism?.() ?? os.cpus().length) - 1);
    this.workers = Array.from({ length: n }, () => {
      const w = new Worker(new URL('./worker.js', import.meta.url));
      w.on('message', (r: WorkerResponse) => {
        const left = (this.inFlight.get(w) ?? 1) - 1;
        this.inFlight.set(w, left);
        if (left === 0) w.unref();
        const cb = this.pending.get(r.id);
        this.pending.delete(r.id);
        cb?.(r);
      });
      w.on('error', (e) => {
        for (const cb of this.pending.values()) cb({ id: -1, data: new Float32Array(0), errors: [{ index: -1, file: '(worker)', message: e.message }] });
        this.pending.clear();
      });
      w.unref();
      return w;
    });
  }

  /** Number of batches per epoch. */
  get batchesPerEpoch(): number {
    const n = this.dataset.samples.length;
    const b = this.opts.batchSize;
    return (this.opts.dropLast ?? this.opts.shuffle) ? Math.floor(n / b) : Math.ceil(n / b);
  }

  private order(epoch: number): number[] {
    const n = this.dataset.samples.length;
    return this.opts.shuffle ? permutation(n, mix(this.opts.seed, epoch, 1)) : [...Array(n).keys()];
  }

  private request(indices: number[], epoch: number): Promise<Batch> {
    const ds = this.dataset;
    const id = this.nextId++;
    const req: WorkerRequest = {
      id,
      files: indices.map((i) => ds.samples[i]!.file),
      seeds: indices.map((i) => mix(this.opts.seed, epoch, i + 2)),
      spec: this.opts.transform,
    };
    const worker = this.workers[this.rr++ % this.workers.length]!;
    return new Promise<WorkerResponse>((resolve) => {
      this.pending.set(id, resolve);
      this.inFlight.set(worker, (this.inFlight.get(worker) ?? 0) + 1);
      worker.ref();
      worker.postMessage(req);
    }).then((r) => {
      if (r.id === -1) throw new AttnvisionError(`loader worker failed: ${r.errors[0]?.message}`);
      const B = indices.length;
      const K = ds.classes.length;
      const y = BigInt64Array.from(indices.map((i) => BigInt(Math.max(0, ds.samples[i]!.label))));
      const batch: Batch = { x: r.data, y, indices, size: B, errors: r.errors.map(({ index, file, message }) => ({ index: indices[index] ?? -1, file, message })) };
      if (ds.multiLabel) {
        batch.targets = new Float32Array(B * K);
        batch.severities = new Float32Array(B * K);
        indices.forEach((i, b) => {
          batch.targets!.set(ds.samples[i]!.labels!, b * K);
          batch.severities!.set(ds.samples[i]!.severities!, b * K);
        });
      }
      return batch;
    });
  }

  /** Batches of `epoch`, starting at batch `startBatch` (for resume), with prefetching. */
  async *epoch(epoch: number, startBatch = 0): AsyncGenerator<Batch> {
    const order = this.order(epoch);
    const B = this.opts.batchSize;
    const total = this.batchesPerEpoch;
    const depth = Math.max(1, this.opts.prefetch ?? 3);
    const queue: Promise<Batch>[] = [];
    let next = startBatch;
    const fill = () => {
      while (queue.length < depth && next < total) {
        const idx = order.slice(next * B, Math.min(order.length, (next + 1) * B));
        const p = this.request(idx, epoch);
        p.catch(() => undefined); // surfaced when awaited
        queue.push(p);
        next++;
      }
    };
    fill();
    while (queue.length) {
      const b = await queue.shift()!;
      fill();
      yield b;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
