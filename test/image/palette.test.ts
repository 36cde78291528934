import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { isPaletteImage, paletteLowpass, PALETTE_LOWPASS_MAX, createImage, encodePng, encodeJpeg } from '../../src/image/index.js';
import { encodeGif } from '../../src/image/io.js';

/** A smooth gradient with texture, 3 channels, as an ImageF32. */
function scene(w: number, h: number) {
  const img = createImage(3, h, w);
  for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img.data[c * w * h + y * w + x] = (0.2 + 0.6 * x / w + 0.1 * Math.sin(x * 0.7 + y * 0.3 + c)) % 1;
  return img;
}

test('isPaletteImage: GIFs and indexed-colour PNGs are palette images; RGB PNG, JPEG and short or foreign bytes are not', async () => {
  const img = scene(40, 30);
  assert.equal(isPaletteImage(await encodeGif(img, 256, 1)), true, 'GIF');
  const rgbPng = await encodePng(img);
  assert.equal(isPaletteImage(rgbPng), false, 'RGB PNG');
  const indexedPng = await sharp(rgbPng).png({ palette: true, colours: 64 }).toBuffer();
  assert.equal((await sharp(indexedPng).metadata()).isPalette, true, 'libvips wrote an indexed PNG');
  assert.equal(isPaletteImage(indexedPng), true, 'palette PNG');
  assert.equal(isPaletteImage(await encodeJpeg(img)), false, 'JPEG');
  assert.equal(isPaletteImage(indexedPng.subarray(0, 20)), false, 'a PNG cut before its colour type');
  assert.equal(isPaletteImage(new Uint8Array(0)), false, 'no bytes');
  assert.equal(isPaletteImage(new TextEncoder().encode('GIF is a word, not an image')), false, 'text starting GIF');
  assert.equal(isPaletteImage(new TextEncoder().encode('GIF8 but not 87a or 89a')), false, 'GIF8 without a version');
});

test('paletteLowpass equals a direct 3 x 3 convolution with the outer-product kernel, edges replicated', () => {
  const C = 3;
  for (const [W, H, a] of [[23, 17, 0.1], [23, 17, 0.25], [23, 17, PALETTE_LOWPASS_MAX], [5, 1, 0.2], [1, 4, 0.2], [3, 2, 0.1]] as const) {
    const px = new Uint8Array(W * H * C);
    for (let i = 0; i < px.length; i++) px[i] = (i * 97 + (i >> 3) * 31) % 256;
    const got = paletteLowpass(px, W, H, C, a);
    const k = [a, 1 - 2 * a, a];
    const at = (x: number, y: number, c: number) => px[(Math.min(Math.max(y, 0), H - 1) * W + Math.min(Math.max(x, 0), W - 1)) * C + c]!;
    let worst = 0;
    let differ = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) sum += k[dy + 1]! * k[dx + 1]! * at(x + dx, y + dy, c);
      const d = Math.abs(got[(y * W + x) * C + c]! - Math.round(sum));
      worst = Math.max(worst, d);
      if (d) differ++;
    }
    // Float32 between the passes and round-half-to-even can move a value sitting on .5 by one level.
    assert.ok(worst <= 1 && differ <= Math.max(1, px.length / 100), `${W} x ${H}, a = ${a}: largest difference ${worst}, ${differ} of ${px.length} values differ`);
  }
  // A flat image stays flat; an impulse spreads as the kernel (200 x [0.1, 0.8, 0.1] x [0.1, 0.8, 0.1]).
  assert.ok(paletteLowpass(new Uint8Array(5 * 4 * 4).fill(77), 5, 4, 4, 0.1).every((v) => v === 77));
  const impulse = new Uint8Array(5 * 5);
  impulse[12] = 200;
  assert.deepEqual(Array.from(paletteLowpass(impulse, 5, 5, 1, 0.1)), [
    0, 0, 0, 0, 0,
    0, 2, 16, 2, 0,
    0, 16, 128, 16, 0,
    0, 2, 16, 2, 0,
    0, 0, 0, 0, 0,
  ]);
});

test('paletteLowpass: a weight outside (0, 1/3] or a buffer of the wrong size is refused, naming what was wrong', () => {
  const px = new Uint8Array(4 * 3 * 3);
  assert.throws(() => paletteLowpass(px, 4, 3, 3, 0), /the weight must be in \(0, 1\/3\]; got 0/);
  assert.throws(() => paletteLowpass(px, 4, 3, 3, 0.4), /the weight must be in \(0, 1\/3\]; got 0\.4/);
  assert.throws(() => paletteLowpass(px, 4, 3, 3, Number.NaN), /got NaN/);
  assert.throws(() => paletteLowpass(px, 5, 3, 3, 0.1), /36 values for 5 x 3 x 3 pixels \(45 expected\)/);
  assert.throws(() => paletteLowpass(px, 0, 3, 3, 0.1), /positive integers; got 0 x 3 x 3/);
});
