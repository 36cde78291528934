/**
 * Heatmap rendering: one panel per label showing the image with each tile tinted by that label's
 * probability, plus the original, in a grid PNG. Shows where each problem is. The image is opened
 * as the inspector opens it (inspector.ts `openImage`: by content, oriented, transparency on
 * white); the PNG is written atomically.
 */
import sharp, { type OverlayOptions } from 'sharp';
import type { InspectResult } from './labels.js';
import { labelTiles } from './core.js';
import { openImage } from './inspector.js';
import { writeFileAtomic } from '../util/fs.js';
import { DECODE_TIMEOUT_SECONDS } from '../image/io.js';
import { panelSize } from '../image/panel.js';

export { panelSize };

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export async function renderHeatmap(input: string | Buffer, r: InspectResult, out: string, panelWidth = 320, name = typeof input === 'string' ? input : '<buffer>'): Promise<void> {
  const { width, height } = r.tiles;
  const { pw, ph } = panelSize(width, height, panelWidth);
  const capH = 22;
  // The inspector has decoded this file already (and refused corrupt data): warnings allowed here.
  const { img } = await openImage(input, name, undefined, 'error');
  const base = await img.resize(pw, ph, { fit: 'fill' }).flatten({ background: '#ffffff' }).timeout({ seconds: DECODE_TIMEOUT_SECONDS }).png().toBuffer();
  const panels: { svg: string; caption: string }[] = [{ svg: '', caption: 'input' }];
  r.scores.forEach((s, k) => {
    const rects: string[] = [];
    // Each tile's cell (source pixels) scaled to the panel.
    const sx = pw / width;
    const sy = ph / height;
    // Each label is drawn from the tiles it was read from (large photos: detail labels from the
    // native-scale tiles, fine labels from the finer coverage, the others from the coverage tiles).
    const { cells, probabilities } = labelTiles(r, k);
    cells.forEach((c, t) => {
      const p = probabilities[t]!;
      rects.push(`<rect x="${(c.left * sx).toFixed(1)}" y="${(c.top * sy).toFixed(1)}" width="${(c.width * sx).toFixed(1)}" height="${(c.height * sy).toFixed(1)}" fill="rgb(255,${Math.round(200 * (1 - p))},0)" fill-opacity="${(0.65 * p).toFixed(3)}" stroke="#fff" stroke-opacity="0.4"/>`);
    });
    panels.push({ svg: rects.join(''), caption: `${s.label} p=${s.probability.toFixed(2)} sev=${s.severity.toFixed(2)}` });
  });
  const perRow = 4;
  const cellW = Math.max(pw, 160); // room for the caption under narrow panels
  const gridRows = Math.ceil(panels.length / perRow);
  const W = perRow * cellW;
  const H = gridRows * (ph + capH);
  const composites: OverlayOptions[] = [];
  panels.forEach((p, i) => {
    const left = (i % perRow) * cellW;
    const top = Math.floor(i / perRow) * (ph + capH);
    composites.push({ input: base, left, top: top + capH });
    const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${cellW}" height="${ph + capH}"><rect width="${cellW}" height="${capH}" fill="#222"/><text x="6" y="16" font-family="sans-serif" font-size="13" fill="#fff">${esc(p.caption)}</text><g transform="translate(0,${capH})">${p.svg}</g></svg>`;
    composites.push({ input: Buffer.from(overlay), left, top });
  });
  const png = await sharp({ create: { width: W, height: H, channels: 3, background: '#ffffff' } }).composite(composites).png().toBuffer();
  await writeFileAtomic(out, png);
}
