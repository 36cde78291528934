/**
 * Heatmap rendering: one panel per label showing the image with each tile tinted by that label's
 * probability, plus the original, in a grid PNG. Shows where each problem is.
 */
import sharp, { type OverlayOptions } from 'sharp';
import type { InspectResult } from './labels.js';
import { labelTiles } from './core.js';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export async function renderHeatmap(input: string | Buffer, r: InspectResult, out: string, panelWidth = 320): Promise<void> {
  const { width, height } = r.tiles;
  const pw = panelWidth;
  const ph = Math.max(1, Math.round((height / width) * pw));
  const capH = 22;
  const base = await sharp(input).rotate().resize(pw, ph, { fit: 'fill' }).removeAlpha().png().toBuffer();
  const panels: { svg: string; caption: string }[] = [{ svg: '', caption: 'input' }];
  r.scores.forEach((s, k) => {
    const rects: string[] = [];
    // Each tile's cell (source pixels) scaled to the panel.
    const sx = pw / width;
    const sy = ph / height;
    // A detail label (large photo) is drawn from its native-scale tiles, the others from the coverage tiles.
    const { cells, probabilities } = labelTiles(r, k);
    cells.forEach((c, t) => {
      const p = probabilities[t]!;
      rects.push(`<rect x="${(c.left * sx).toFixed(1)}" y="${(c.top * sy).toFixed(1)}" width="${(c.width * sx).toFixed(1)}" height="${(c.height * sy).toFixed(1)}" fill="rgb(255,${Math.round(200 * (1 - p))},0)" fill-opacity="${(0.65 * p).toFixed(3)}" stroke="#fff" stroke-opacity="0.4"/>`);
    });
    panels.push({ svg: rects.join(''), caption: `${s.label} p=${s.probability.toFixed(2)} sev=${s.severity.toFixed(2)}` });
  });
  const perRow = 4;
  const gridRows = Math.ceil(panels.length / perRow);
  const W = perRow * pw;
  const H = gridRows * (ph + capH);
  const composites: OverlayOptions[] = [];
  panels.forEach((p, i) => {
    const left = (i % perRow) * pw;
    const top = Math.floor(i / perRow) * (ph + capH);
    composites.push({ input: base, left, top: top + capH });
    const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${pw}" height="${ph + capH}"><rect width="${pw}" height="${capH}" fill="#222"/><text x="6" y="16" font-family="sans-serif" font-size="13" fill="#fff">${esc(p.caption)}</text><g transform="translate(0,${capH})">${p.svg}</g></svg>`;
    composites.push({ input: Buffer.from(overlay), left, top });
  });
  await sharp({ create: { width: W, height: H, channels: 3, background: '#ffffff' } }).composite(composites).png().toFile(out);
}
