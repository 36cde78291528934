/**
 * An Inspector that runs in a worker thread (inspector_worker.ts), for the HTTP service: the
 * main thread keeps answering health checks, reading uploads and refusing overload while an image
 * is inspected (onnxruntime-node runs a session synchronously on its calling thread, 0.3-1 s per
 * photo here). Same `inspect`, `config`, `modelPath`, `thresholds`, `dispose` as Inspector; errors
 * come back as the same classes (InspectError for a bad image).
 *
 * A worker that dies (a crash in native code, out of memory) fails the requests it held with an
 * error saying so, and the next request starts a new worker: the service keeps serving.
 */
import { Worker } from 'node:worker_threads';
import { InspectError, type InspectOptions, type LoadOptions, type ImageInput } from '../quality/inspector.js';
import { labelThresholdsOf } from '../quality/core.js';
import type { InspectorConfig, InspectResult } from '../quality/labels.js';
import { AttnvisionError } from '../util/errors.js';
import type { FromWorker, ToWorker, WorkerError } from './inspector_worker.js';

function fromWorkerError(e: WorkerError): Error {
  if (e.kind === 'inspect') return new InspectError(e.file ?? 'upload', e.reason ?? e.message);
  return e.kind === 'attnvision' ? new AttnvisionError(e.message) : new Error(e.message);
}

interface Pending {
  resolve(r: InspectResult): void;
  reject(e: Error): void;
}

export class WorkerInspector {
  private worker: Worker | null = null;
  private starting: Promise<Worker> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private disposed = false;

  private constructor(
    private readonly loadOptions: LoadOptions,
    readonly config: InspectorConfig,
    readonly modelPath: string,
  ) {}

  /** Loads the inspector in a worker thread; load errors (missing model, bad config) are thrown here. */
  static async load(options: LoadOptions = {}): Promise<WorkerInspector> {
    const { worker, config, modelPath } = await WorkerInspector.spawn(options);
    const w = new WorkerInspector(options, config, modelPath);
    w.adopt(worker);
    return w;
  }

  private static spawn(options: LoadOptions): Promise<{ worker: Worker; config: InspectorConfig; modelPath: string }> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(new URL('./inspector_worker.js', import.meta.url), { workerData: options });
      const onMessage = (m: FromWorker) => {
        worker.off('error', onError).off('exit', onExit).off('message', onMessage);
        if (m.type === 'ready') resolve({ worker, config: m.config, modelPath: m.modelPath });
        else {
          void worker.terminate();
          reject(m.type === 'loadError' ? fromWorkerError(m.error) : new AttnvisionError('inspector worker: unexpected first message'));
        }
      };
      const onError = (e: Error) => (worker.off('exit', onExit), reject(new AttnvisionError(`inspector worker failed to start: ${e.message}`)));
      const onExit = (code: number) => reject(new AttnvisionError(`inspector worker exited with code ${code} while loading`));
      worker.on('message', onMessage).once('error', onError).once('exit', onExit);
    });
  }

  /** Takes a started worker: routes its answers, and fails what it held if it dies. */
  private adopt(worker: Worker): void {
    this.worker = worker;
    worker.on('message', (m: FromWorker) => {
      if (m.type !== 'result' && m.type !== 'error') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.type === 'result') p.resolve(m.result as InspectResult);
      else p.reject(fromWorkerError(m.error));
    });
    const died = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      for (const p of this.pending.values()) p.reject(new AttnvisionError(`inspector worker stopped (${why}); the next request starts a new one`));
      this.pending.clear();
    };
    worker.on('error', (e) => died(e.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
  }

  private async ensureWorker(): Promise<Worker> {
    if (this.disposed) throw new AttnvisionError('WorkerInspector: used after dispose()');
    if (this.worker) return this.worker;
    this.starting ??= WorkerInspector.spawn(this.loadOptions).then(
      ({ worker }) => {
        this.starting = null;
        if (this.disposed) {
          void worker.terminate();
          throw new AttnvisionError('WorkerInspector: used after dispose()');
        }
        this.adopt(worker);
        return worker;
      },
      (e: unknown) => {
        this.starting = null;
        throw e;
      },
    );
    return this.starting;
  }

  /** Inspects image bytes (a path is read by the worker) with the options of Inspector.inspect. */
  async inspect(input: ImageInput, options: InspectOptions = {}): Promise<InspectResult> {
    const bytes = typeof input === 'string' || input instanceof URL ? null : input instanceof ArrayBuffer ? new Uint8Array(input) : input;
    if (!bytes) throw new AttnvisionError('WorkerInspector.inspect: pass the image bytes (the service inspects uploads); use Inspector for paths');
    if (!(bytes instanceof Uint8Array)) throw new AttnvisionError(`WorkerInspector.inspect: expected image bytes (Buffer, Uint8Array or ArrayBuffer) but received ${typeof bytes}`);
    const worker = await this.ensureWorker();
    const id = this.nextId++;
    // A copy is transferred: the caller keeps its buffer.
    const copy = new Uint8Array(bytes);
    return new Promise<InspectResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ type: 'inspect', id, bytes: copy, options } satisfies ToWorker, [copy.buffer]);
    });
  }

  /** The threshold of each label: `override` for all, else the config's per-label or global one. */
  thresholds(override?: number): number[] {
    return labelThresholdsOf(this.config, this.modelPath, override);
  }

  /** Stops the worker (requests still in it fail); later calls do nothing. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const w = this.worker;
    this.worker = null;
    for (const p of this.pending.values()) p.reject(new AttnvisionError('WorkerInspector: disposed while inspecting'));
    this.pending.clear();
    if (w) await w.terminate();
  }
}
