/**
 * A one-line progress display for long CLI work: label, bar, count, rate, ETA and a status text.
 * Redraws in place on a TTY (at most 10 times a second); otherwise prints a line about every 10%.
 */
export class ProgressLine {
  private lastDraw = 0;
  private lastPct = -1;
  private readonly start = Date.now();
  private active = false;
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(label: string, done: number, total: number, rate: number, unit: string, status = ''): void {
    const now = Date.now();
    const frac = total ? Math.min(1, done / total) : 0;
    const eta = rate > 0 && total ? (total - done) / (done / Math.max(1e-3, (now - this.start) / 1000)) : NaN;
    const etaText = Number.isFinite(eta) ? `ETA ${fmtTime(eta)}` : '';
    if (this.stream.isTTY) {
      if (now - this.lastDraw < 100 && done < total) return;
      this.lastDraw = now;
      const width = 24;
      const filled = Math.round(frac * width);
      const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${rate.toFixed(1)} ${unit} ${etaText} ${status}`;
      this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 120) - 1)}\x1b[K`);
      this.active = true;
    } else {
      const pct = Math.floor(frac * 10);
      if (pct === this.lastPct && done < total) return;
      this.lastPct = pct;
      this.stream.write(`${label} ${done}/${total} (${Math.round(frac * 100)}%) ${rate.toFixed(1)} ${unit} ${etaText} ${status}\n`);
    }
  }

  done(): void {
    if (this.active) this.stream.write('\n');
    this.active = false;
    this.lastPct = -1;
  }
}

export function fmtTime(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
