/**
 * Worker-thread entry of `attnvision synth`: receives chunks of jobs, renders them (render.ts) and
 * posts one manifest entry per finished sample. Loaded by generate.ts through
 * `new URL('./worker.js', import.meta.url)`.
 *
 * Messages in:  { type: 'chunk', jobs: Job[] } | { type: 'stop' }
 * Messages out: { type: 'entry', entry } | { type: 'chunkDone' } | { type: 'error', id, message }
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Job, SynthConfig } from './plan.js';
import { PhotoCache, renderJob } from './render.js';

const { cfg, outDir } = workerData as { cfg: SynthConfig; outDir: string };
const cache = new PhotoCache(3);
/** Chunks run one after another (the pool keeps a second one queued here). */
let queue: Promise<void> = Promise.resolve();

parentPort!.on('message', (msg: { type: 'chunk'; jobs: Job[] } | { type: 'stop' }) => {
  if (msg.type === 'stop') {
    parentPort!.close();
    return;
  }
  queue = queue.then(async () => {
    for (const job of msg.jobs) {
      try {
        const entry = await renderJob(job, cfg, outDir, cache);
        parentPort!.postMessage({ type: 'entry', entry });
      } catch (e) {
        parentPort!.postMessage({ type: 'error', id: job.id, message: `${(e as Error).name}: ${(e as Error).message}` });
        return;
      }
    }
    parentPort!.postMessage({ type: 'chunkDone' });
  });
});
