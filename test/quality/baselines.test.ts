import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { baselineScores, baselineLabels, DEFAULT_BASELINE_THRESHOLDS } from '../../src/quality/baselines.js';
import { Rng } from '../helpers/rng.js';
import { encodeBmp24 } from '../../src/image/bmp.js';

async function png(px: Uint8Array, w: number, h: number) {
  return sharp(Buffer.from(px), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

function texture(w: number, h: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const px = new Uint8Array(w * h * 3);
  // Random rectangles: sharp edges everywhere.
  for (let k = 0; k < 60; k++) {
    const x0 = rng.int(w), y0 = rng.int(h), x1 = x0 + 5 + rng.int(40), y1 = y0 + 5 + rng.int(40);
    const c = [rng.int(256), rng.int(256), rng.int(256)];
    for (let y = y0; y < Math.min(h, y1); y++) for (let x = x0; x < Math.min(w, x1); x++) for (let ch = 0; ch < 3; ch++) px[(y * w + x) * 3 + ch] = c[ch]!;
  }
  return px;
}

test('classic baselines measure what they claim', async () => {
  const w = 160;
  const h = 120;
  const sharpImg = await png(texture(w, h, 1), w, h);
  const blurred = await sharp(sharpImg).blur(3).png().toBuffer();
  const s0 = await baselineScores(sharpImg);
  const s1 = await baselineScores(blurred);
  assert.ok(s1.laplacianVariance < s0.laplacianVariance / 5, `blur lowers Laplacian variance: ${s0.laplacianVariance} -> ${s1.laplacianVariance}`);

  // Immerkaer's estimate on a flat grey image with Gaussian noise of sigma 10.
  const rng = new Rng(2);
  const noisy = new Uint8Array(w * h * 3);
  for (let i = 0; i < noisy.length; i++) noisy[i] = Math.max(0, Math.min(255, Math.round(128 + 10 * rng.normal())));
  const sn = await baselineScores(await png(noisy, w, h));
  assert.ok(Math.abs(sn.noiseSigma - 10) < 1.5, `noise sigma estimate ${sn.noiseSigma}`);

  const dark = await sharp(sharpImg).linear(0.1, 0).png().toBuffer();
  assert.ok((await baselineScores(dark)).meanLuminance < 0.1);
  assert.ok(baselineLabels(await baselineScores(dark)).includes('low_light'));

  // Haze: blend towards white airlight raises the dark channel.
  const hazy = await sharp(sharpImg).linear(0.4, 150).png().toBuffer();
  assert.ok((await baselineScores(hazy)).darkChannel > s0.darkChannel + 0.3);

  // A BMP (libvips cannot read it) gives the same scores as the PNG of the same pixels.
  const bmpPixels = new Uint8Array(await sharp(sharpImg).raw().toBuffer());
  assert.deepEqual(await baselineScores(Buffer.from(encodeBmp24(bmpPixels, w, h))), s0);
  await assert.rejects(baselineScores(Buffer.from('not an image')), /not an image \(unrecognised content/);

  const smooth = await sharp(sharpImg).blur(1.2).png().toBuffer();
  const q95 = await baselineScores(await sharp(smooth).jpeg({ quality: 95 }).toBuffer());
  const q5 = await baselineScores(await sharp(smooth).jpeg({ quality: 5 }).toBuffer());
  assert.ok(q5.blockiness > q95.blockiness, `blockiness rises as quality falls: ${q95.blockiness} -> ${q5.blockiness}`);
  assert.ok(DEFAULT_BASELINE_THRESHOLDS.blurBelow > 0);
});
