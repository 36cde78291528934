/**
 * A small reusable progress bar for long-running work, written to stderr.
 *
 * - On a TTY it redraws one line in place (at most 10 times a second): bar, count, rate, ETA.
 * - Otherwise (logs, CI) it prints one line about every 10% so logs stay short.
 * - `quiet: true` prints nothing.
 *
 * ```ts
 * const bar = new Progress({ total: 1000, label: 'synth', unit: 'img' });
 * for (...) bar.tick();
 * bar.finish();
 * ```
 */
export interface ProgressOptions {
  /** Number of work items expected. */
  total: number;
  /** Text before the bar (default ''). */
  label?: string;
  /** Unit of the rate, e.g. 'img' gives "12.3 img/s" (default 'it'). */
  unit?: string;
  /** Print nothing (default false). */
  quiet?: boolean;
  /** Output stream (default process.stderr). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Items already done before this run (resume); excluded from the rate (default 0). */
  initial?: number;
  /** Clock in ms, for tests (default Date.now). */
  now?: () => number;
}

export class Progress {
  private done: number;
  private readonly initial: number;
  private readonly start: number;
  private lastDraw = -Infinity;
  private lastDecile = -1;
  private lastPrinted = -1;
  private drewTty = false;
  private readonly now: () => number;
  private readonly stream: NonNullable<ProgressOptions['stream']>;

  constructor(private readonly opts: ProgressOptions) {
    this.now = opts.now ?? Date.now;
    this.start = this.now();
    this.initial = opts.initial ?? 0;
    this.done = this.initial;
    this.stream = opts.stream ?? process.stderr;
  }

  /** Items per second since construction (resumed items excluded). */
  get rate(): number {
    const s = (this.now() - this.start) / 1000;
    return s > 0 ? (this.done - this.initial) / s : 0;
  }

  /** Seconds left at the current rate (NaN before the first item). */
  get eta(): number {
    const r = this.rate;
    return r > 0 ? (this.opts.total - this.done) / r : NaN;
  }

  get count(): number {
    return this.done;
  }

  /** Marks `n` more items done and redraws if due. */
  tick(n = 1, status = ''): void {
    this.done += n;
    this.draw(status);
  }

  /** Draws the final state and ends the line. */
  finish(status = ''): void {
    this.draw(status, true);
    if (this.drewTty) this.stream.write('\n');
    this.drewTty = false;
  }

  /** The text of the current line (no control characters). */
  line(status = ''): string {
    const { total, label = '', unit = 'it' } = this.opts;
    const frac = total > 0 ? Math.min(1, this.done / total) : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const eta = this.eta;
    const parts = [
      label,
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`,
      `${this.done}/${total}`,
      `(${Math.round(frac * 100)}%)`,
      `${this.rate.toFixed(1)} ${unit}/s`,
      Number.isFinite(eta) ? `ETA ${formatSeconds(eta)}` : '',
      status,
    ];
    return parts.filter((p) => p !== '').join(' ');
  }

  private draw(status: string, force = false): void {
    if (this.opts.quiet) return;
    const t = this.now();
    if (this.stream.isTTY) {
      if (!force && t - this.lastDraw < 100) return;
      this.lastDraw = t;
      const cols = this.stream.columns ?? 120;
      this.stream.write(`\r${this.line(status).slice(0, cols - 1)}\x1b[K`);
      this.drewTty = true;
    } else {
      const total = this.opts.total;
      const decile = total > 0 ? Math.floor((10 * Math.min(this.done, total)) / total) : 10;
      if (!force && decile === this.lastDecile) return;
      if (force && this.done === this.lastPrinted) return;
      this.lastDecile = decile;
      this.lastPrinted = this.done;
      this.stream.write(`${this.line(status)}\n`);
    }
  }
}

/** 75 -> "1m15s", 4000 -> "1h06m". */
export function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
