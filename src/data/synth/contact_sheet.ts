/**
 * Contact sheet for eyeballing a synthetic dataset (`attnvision synth --preview`): one row per
 * class (clean, then each degradation in physical order), severities increasing left to right,
 * every cell made from the same clean crop so only the degradation changes. Labels are drawn with
 * an SVG overlay (sharp/librsvg).
 */
import sharp from 'sharp';
import { encodePng } from '../../image/io.js';
import { createImage, type ImageF32 } from '../../image/tensor.js';
import { applyDegradations, PHYSICAL_ORDER } from '../../degrade/index.js';
import { Rng } from '../../degrade/rng.js';
import { writeFileAtomic } from '../../util/fs.js';

export const SHEET_SEVERITIES = [0, 0.25, 0.5, 0.75, 1];

/** Renders the sheet for a clean image; returns PNG bytes. */
export async function contactSheet(clean: ImageF32, seed: number, severities = SHEET_SEVERITIES): Promise<Buffer> {
  const S = clean.height;
  const labelW = 130;
  const rows = ['clean', ...PHYSICAL_ORDER];
  const gap = 4;
  const W = labelW + severities.length * (S + gap);
  const H = rows.length * (S + gap) + 24;
  const sheet = createImage(3, H, W, 1);
  const paste = (img: ImageF32, top: number, left: number): void => {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < S; y++) {
        sheet.data.set(img.data.subarray(c * S * S + y * S, c * S * S + (y + 1) * S), c * H * W + (top + y) * W + left);
      }
    }
  };
  for (let r = 0; r < rows.length; r++) {
    for (let k = 0; k < severities.length; k++) {
      const name = rows[r]!;
      const img = name === 'clean' ? clean : (await applyDegradations(clean, [{ name: name as (typeof PHYSICAL_ORDER)[number], severity: severities[k]! }], new Rng(seed + r * 101 + k))).image;
      paste(img, 24 + r * (S + gap), labelW + k * (S + gap));
    }
  }
  const text = rows.map((name, r) => `<text x="8" y="${24 + r * (S + gap) + S / 2}" font-family="sans-serif" font-size="16">${name}</text>`).join('')
    + severities.map((s, k) => `<text x="${labelW + k * (S + gap) + S / 2 - 30}" y="17" font-family="sans-serif" font-size="15">severity ${s}</text>`).join('');
  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${text}</svg>`);
  return sharp(await encodePng(sheet)).composite([{ input: svg, top: 0, left: 0 }]).png().toBuffer();
}

export async function writeContactSheet(file: string, clean: ImageF32, seed: number): Promise<void> {
  await writeFileAtomic(file, await contactSheet(clean, seed));
}
