/**
 * Evaluation report as one self-contained HTML file (inline SVG, no scripts): training curves
 * (loss and accuracy per epoch, train and validation), a confusion-matrix heatmap and per-class
 * precision / recall / F1, plus the same numbers as JSON.
 */
import type { EpochLog } from './trainer.js';
import type { MultiLabelMetrics, SingleLabelMetrics } from './metrics.js';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function lineChart(title: string, series: { name: string; color: string; points: [number, number][] }[], yLabel: string): string {
  const W = 460;
  const H = 260;
  const m = { l: 50, r: 110, t: 28, b: 36 };
  const all = series.flatMap((s) => s.points);
  if (!all.length) return '';
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs, x0 + 1);
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => y0 + f * (y1 - y0));
  const parts = [`<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">`];
  parts.push(`<text x="${W / 2 - 40}" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`);
  for (const t of ticks) parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${sy(t)}" y2="${sy(t)}" stroke="#ddd"/><text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${t.toPrecision(3)}</text>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 6}" text-anchor="middle">epoch</text><text x="12" y="${H / 2}" transform="rotate(-90 12 ${H / 2})" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    if (!s.points.length) return;
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of s.points) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    parts.push(`<rect x="${W - m.r + 10}" y="${m.t + i * 18}" width="12" height="3" fill="${s.color}"/><text x="${W - m.r + 26}" y="${m.t + i * 18 + 5}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

function heatmap(title: string, labels: string[], m: number[][]): string {
  const n = labels.length;
  const cell = Math.max(26, Math.min(48, Math.floor(420 / n)));
  const left = 110;
  const top = 110;
  const W = left + n * cell + 20;
  const H = top + n * cell + 30;
  const parts = [`<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">`];
  parts.push(`<text x="4" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`);
  m.forEach((row, i) => {
    const total = row.reduce((s, v) => s + v, 0) || 1;
    row.forEach((v, j) => {
      const f = v / total;
      const shade = Math.round(255 - 200 * f);
      parts.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#fff"/>`);
      if (v) parts.push(`<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle" fill="${f > 0.5 ? '#fff' : '#000'}">${v}</text>`);
    });
    parts.push(`<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${esc(labels[i]!)}</text>`);
  });
  labels.forEach((l, j) => parts.push(`<text transform="translate(${left + j * cell + cell / 2 + 4},${top - 6}) rotate(-60)">${esc(l)}</text>`));
  parts.push(`<text x="${left + (n * cell) / 2}" y="${H - 8}" text-anchor="middle">predicted</text><text x="${left - 100}" y="${top - 20}">true ↓</text>`);
  parts.push('</svg>');
  return parts.join('');
}

export interface ReportInput {
  title: string;
  logs?: EpochLog[];
  metrics: SingleLabelMetrics | MultiLabelMetrics;
  extra?: Record<string, unknown>;
}

export function renderReport(r: ReportInput): string {
  const { metrics } = r;
  const logs = r.logs ?? [];
  const pts = (f: (l: EpochLog) => number | undefined): [number, number][] => logs.filter((l) => f(l) !== undefined).map((l) => [l.epoch, f(l)!]);
  const lossChart = lineChart('Loss', [
    { name: 'train', color: '#1f77b4', points: pts((l) => l.trainLoss) },
    { name: 'validation', color: '#d62728', points: pts((l) => l.valLoss) },
  ], 'loss');
  const accChart = lineChart(metrics.kind === 'single' ? 'Accuracy' : 'Macro-F1 / mAP', [
    { name: 'train acc', color: '#1f77b4', points: pts((l) => l.trainAcc) },
    { name: metrics.kind === 'single' ? 'val top-1' : 'val macro-F1', color: '#d62728', points: pts((l) => (metrics.kind === 'single' ? l.valTop1 : l.valMacroF1)) },
    { name: 'val mAP', color: '#2ca02c', points: pts((l) => l.valMAP) },
    { name: metrics.kind === 'single' ? 'val top-1, raw weights' : 'val macro-F1, raw weights', color: '#ff7f0e', points: pts((l) => l.valMetricRaw) },
  ], metrics.kind === 'single' ? 'accuracy' : 'score');
  const headline =
    metrics.kind === 'single'
      ? `top-1 ${(100 * metrics.top1).toFixed(2)}% · top-5 ${(100 * metrics.top5).toFixed(2)}% · macro-F1 ${metrics.macroF1.toFixed(4)} · ECE ${metrics.ece.toFixed(4)} · n=${metrics.n}`
      : `mAP ${metrics.mAP.toFixed(4)} · macro-F1 ${metrics.macroF1.toFixed(4)} · exact match ${(100 * metrics.exactMatch).toFixed(2)}% · ECE ${metrics.ece.toFixed(4)} · ${typeof metrics.threshold === 'number' ? `threshold ${metrics.threshold}` : `per-label thresholds ${metrics.threshold.join('/')}`} · n=${metrics.n}`;
  const rows = metrics.perClass
    .map((p) => `<tr><td>${esc(p.label)}</td><td>${p.precision.toFixed(4)}</td><td>${p.recall.toFixed(4)}</td><td>${p.f1.toFixed(4)}</td>${'ap' in p ? `<td>${Number.isNaN(p.ap) ? '-' : p.ap.toFixed(4)}</td>` : ''}<td>${p.support}</td></tr>`)
    .join('');
  const confLabels = metrics.kind === 'single' ? metrics.classes : metrics.confusionLabels;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:16px}pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:300px}</style>
</head><body>
<h1>${esc(r.title)}</h1>
<p><b>${headline}</b></p>
${logs.length ? `<div class="charts">${lossChart}${accChart}</div>` : ''}
<h2>Confusion matrix${metrics.kind === 'multi' ? ' (primary label; "clean" = nothing above threshold)' : ''}</h2>
${heatmap('rows: true, columns: predicted', confLabels, metrics.confusion)}
<h2>Per class</h2>
<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>${metrics.kind === 'multi' ? '<th>AP</th>' : ''}<th>support</th></tr>${rows}</table>
<h2>Numbers (JSON)</h2>
<pre>${esc(JSON.stringify({ metrics, extra: r.extra, logs }, null, 1))}</pre>
</body></html>
`;
}
