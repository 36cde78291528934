/**
 * Worker-thread entry of `WorkerInspector` (worker_inspector.ts): loads an Inspector and answers
 * inspect requests posted by the main thread. onnxruntime-node runs a session synchronously on the
 * thread that calls it, so an inspector on the service's main thread stops it answering anything
 * (health checks, uploads, 503s) for the whole inference; here it stops only this thread.
 *
 * Messages in:  {type: 'inspect', id, bytes: Uint8Array, options: InspectOptions}
 * Messages out: {type: 'ready', config, modelPath} | {type: 'loadError', error}
 *               | {type: 'result', id, result} | {type: 'error', id, error}
 * Errors travel as {kind, message, file?, reason?} and are rebuilt on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Inspector, InspectError, type InspectOptions, type LoadOptions } from '../quality/inspector.js';
import { AttnvisionError } from '../util/errors.js';

export interface WorkerError {
  kind: 'inspect' | 'attnvision' | 'other';
  message: string;
  file?: string;
  reason?: string;
}

export type ToWorker = { type: 'inspect'; id: number; bytes: Uint8Array; options: InspectOptions };
export type FromWorker =
  | { type: 'ready'; config: Inspector['config']; modelPath: string }
  | { type: 'loadError'; error: WorkerError }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: WorkerError };

export function toWorkerError(e: unknown): WorkerError {
  if (e instanceof InspectError) return { kind: 'inspect', message: e.message, file: e.file, reason: e.reason };
  if (e instanceof AttnvisionError) return { kind: 'attnvision', message: e.message };
  return { kind: 'other', message: (e as Error)?.message ?? String(e) };
}

if (parentPort) {
  const port = parentPort;
  const post = (m: FromWorker) => port.postMessage(m);
  Inspector.load(workerData as LoadOptions).then(
    (inspector) => {
      port.on('message', (m: ToWorker) => {
        inspector.inspect(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength), m.options).then(
          (result) => post({ type: 'result', id: m.id, result }),
          (e: unknown) => post({ type: 'error', id: m.id, error: toWorkerError(e) }),
        );
      });
      post({ type: 'ready', config: inspector.config, modelPath: inspector.modelPath });
    },
    (e: unknown) => post({ type: 'loadError', error: toWorkerError(e) }),
  );
}
