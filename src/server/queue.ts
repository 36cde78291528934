/**
 * A bounded work queue: at most `concurrency` jobs run at once and at most `maxWaiting` wait; a job
 * beyond that is refused at once (QueueFullError) instead of piling up memory and latency. The
 * inspector's ONNX session already uses every core for one image, so the service runs one image at
 * a time by default and sheds load early.
 *
 * A request is admitted (`admit`) before its body is read, so at most concurrency + maxWaiting
 * uploads are held in memory at once, and an overloaded service answers 503 before the upload.
 */
import { AttnvisionError } from '../util/errors.js';

export class QueueFullError extends AttnvisionError {
  constructor(readonly stats: { active: number; waiting: number; receiving: number }, maxWaiting: number) {
    const busy = `${stats.active} being inspected, ${stats.waiting} waiting, ${stats.receiving} uploading`;
    super(maxWaiting ? `server busy (${busy}; at most ${maxWaiting} may wait); retry later` : `server busy (${busy}; no request may wait: --queue 0); retry later`);
  }
}

/** A place in the queue, held from admission (before the upload is read) until the job ends. */
export interface Admission {
  /** Runs `job` when a slot is free, then gives the place back. */
  run<T>(job: () => Promise<T>): Promise<T>;
  /** Gives the place back without running (the upload failed); a second call does nothing. */
  release(): void;
}

export class BoundedQueue {
  private active = 0;
  private admitted = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxWaiting: number,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new AttnvisionError(`BoundedQueue: expected an integer >= 1 for concurrency but received ${concurrency}`);
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0) throw new AttnvisionError(`BoundedQueue: expected an integer >= 0 for maxWaiting but received ${maxWaiting}`);
  }

  /** Jobs running, jobs waiting for a slot, and admitted requests still receiving their upload. */
  get stats(): { active: number; waiting: number; receiving: number } {
    return { active: this.active, waiting: this.waiters.length, receiving: this.admitted - this.active - this.waiters.length };
  }

  /** Takes a place (running, waiting or receiving); throws QueueFullError when there is none. */
  admit(): Admission {
    if (this.admitted >= this.concurrency + this.maxWaiting) throw new QueueFullError(this.stats, this.maxWaiting);
    this.admitted++;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      this.admitted--;
    };
    return {
      run: async <T>(job: () => Promise<T>) => {
        try {
          return await this.runSlot(job);
        } finally {
          release();
        }
      },
      release,
    };
  }

  /** Runs `job` when a slot is free; throws QueueFullError when the waiting line is full. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    return this.admit().run(job);
  }

  private async runSlot<T>(job: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) await new Promise<void>((resolve) => this.waiters.push(resolve));
    else this.active++;
    try {
      return await job();
    } finally {
      // Hand the slot straight to the next waiter (active stays the same), or free it.
      const next = this.waiters.shift();
      if (next) next();
      else this.active--;
    }
  }

  /** Resolves when nothing runs, waits or receives. */
  async drained(): Promise<void> {
    while (this.admitted > 0) await new Promise((r) => setTimeout(r, 10));
  }
}
