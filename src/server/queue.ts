/**
 * A bounded work queue: at most `concurrency` jobs run at once and at most `maxWaiting` wait; a job
 * beyond that is refused at once (QueueFullError) instead of piling up memory and latency. The
 * inspector's ONNX session already uses every core for one image, so the service runs one image at
 * a time by default and sheds load early.
 */
import { AttnvisionError } from '../util/errors.js';

export class QueueFullError extends AttnvisionError {
  constructor(readonly waiting: number) {
    super(`server busy: ${waiting} requests already waiting; retry later`);
  }
}

export class BoundedQueue {
  private active = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxWaiting: number,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new AttnvisionError(`BoundedQueue: expected an integer >= 1 for concurrency but received ${concurrency}`);
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0) throw new AttnvisionError(`BoundedQueue: expected an integer >= 0 for maxWaiting but received ${maxWaiting}`);
  }

  get stats(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiters.length };
  }

  /** Runs `job` when a slot is free; throws QueueFullError when the waiting line is full. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) {
      if (this.waiters.length >= this.maxWaiting) throw new QueueFullError(this.waiters.length);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    } else this.active++;
    try {
      return await job();
    } finally {
      // Hand the slot straight to the next waiter (active stays the same), or free it.
      const next = this.waiters.shift();
      if (next) next();
      else this.active--;
    }
  }

  /** Resolves when nothing runs or waits. */
  async drained(): Promise<void> {
    while (this.active > 0 || this.waiters.length > 0) await new Promise((r) => setTimeout(r, 10));
  }
}
