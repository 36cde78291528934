/**
 * Loader worker thread: receives {id, files, seeds, spec}, decodes and transforms each file into a
 * batch buffer, and transfers it back. A bad file becomes an error entry (named) instead of a crash.
 */
import { parentPort } from 'node:worker_threads';
import { ImageDecodeError } from '../../image/errors.js';
import { loadSample, type TransformSpec } from './transform.js';

export interface WorkerRequest {
  id: number;
  files: string[];
  seeds: number[];
  spec: TransformSpec;
}

export interface WorkerResponse {
  id: number;
  data: Float32Array;
  errors: { index: number; file: string; message: string }[];
}

parentPort!.on('message', async (req: WorkerRequest) => {
  const S = req.spec.size;
  const per = 3 * S * S;
  const data = new Float32Array(req.files.length * per);
  const errors: WorkerResponse['errors'] = [];
  await Promise.all(
    req.files.map(async (f, i) => {
      try {
        await loadSample(f, req.spec, req.seeds[i]!, data, i * per);
      } catch (e) {
        // The file is named by the caller; the message says why.
        errors.push({ index: i, file: f, message: e instanceof ImageDecodeError ? `cannot decode image: ${e.reason}` : (e as Error).message });
      }
    }),
  );
  const res: WorkerResponse = { id: req.id, data, errors };
  parentPort!.postMessage(res, [data.buffer]);
});
