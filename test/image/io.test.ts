import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { spawnSync } from 'node:child_process';
import {
  readImage, probeImage, isBenignDecodeWarning, decodeFailureReason, encodePng, encodeJpeg, writeImage, ImageDecodeError, encodeBmp24, decodeBmp, sniffFormat,
  toInterleavedU8, createImage, type ImageF32,
} from '../../src/image/index.js';
import { encodeGif } from '../../src/image/io.js';
import { distinctColours } from '../helpers/toy_images.js';

/** A 3-channel test pattern with distinct values per channel and position. */
function pattern(w: number, h: number): ImageF32 {
  const img = createImage(3, h, w);
  for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img.data[c * w * h + y * w + x] = Math.round(((x * 7 + y * 13 + c * 50) % 256)) / 255;
  return img;
}

async function tmpDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'attnvision-image-'));
}

async function expectDecodeError(input: string | Uint8Array, reason: RegExp, opts = {}): Promise<void> {
  await assert.rejects(readImage(input, opts), (e: unknown) => {
    assert.ok(e instanceof ImageDecodeError, `expected ImageDecodeError, got ${String(e)}`);
    assert.match(e.reason, reason);
    if (typeof input === 'string') {
      assert.equal(e.file, input);
      assert.ok(e.message.includes(input));
    }
    return true;
  });
}

test('PNG round trip is exact on the 8-bit grid', async () => {
  const img = pattern(37, 23);
  const back = await readImage(await encodePng(img));
  assert.deepEqual([back.channels, back.height, back.width], [3, 23, 37]);
  assert.deepEqual(toInterleavedU8(back), toInterleavedU8(img));
});

test('decodes JPEG, WebP, GIF (first frame), TIFF and AVIF by content', async () => {
  const img = pattern(32, 24);
  const raw = sharp(toInterleavedU8(img), { raw: { width: 32, height: 24, channels: 3 } });
  const encoded: Record<string, Buffer> = {
    jpeg: await raw.clone().jpeg({ quality: 95 }).toBuffer(),
    webp: await raw.clone().webp({ lossless: true }).toBuffer(),
    gif: await raw.clone().gif().toBuffer(),
    tiff: await raw.clone().tiff({ compression: 'lzw' }).toBuffer(),
    heif: await raw.clone().avif({ quality: 90 }).toBuffer(),
  };
  for (const [fmt, buf] of Object.entries(encoded)) {
    assert.equal(sniffFormat(buf), fmt);
    const back = await readImage(buf);
    assert.deepEqual([back.channels, back.height, back.width], [3, 24, 32], fmt);
    let err = 0;
    for (let i = 0; i < img.data.length; i++) err += Math.abs(back.data[i]! - img.data[i]!);
    // Lossless formats exact; lossy/paletted within a loose mean error.
    assert.ok(err / img.data.length < (fmt === 'webp' || fmt === 'tiff' ? 1e-6 : 0.12), `${fmt}: mean abs error ${err / img.data.length}`);
  }
});

test('animated GIF gives its first frame', async () => {
  const w = 8;
  const h = 8;
  const white = await sharp({ create: { width: w, height: h, channels: 3, background: '#ffffff' } }).png().toBuffer();
  const black = await sharp({ create: { width: w, height: h, channels: 3, background: '#000000' } }).png().toBuffer();
  const gif = await sharp([white, black], { join: { animated: true } }).gif().toBuffer();
  assert.equal((await sharp(gif).metadata()).pages, 2);
  const img = await readImage(gif);
  assert.equal(img.height, h);
  assert.ok(img.data.every((v) => v > 0.99));
});

test('GIF encode: a palette of at most the colours asked, dither changes the pattern not the mean, checked arguments', async () => {
  // A smooth two-colour gradient with 4,096 distinct colours.
  const img = createImage(3, 64, 64);
  for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) {
    img.data[y * 64 + x] = x / 63;
    img.data[4096 + y * 64 + x] = y / 63;
    img.data[8192 + y * 64 + x] = 0.5;
  }
  assert.equal(distinctColours(img), 4096);
  const mean = (im: ImageF32) => im.data.reduce((a, b) => a + b, 0) / im.data.length;
  const plain = await readImage(await encodeGif(img, 16, 0));
  const dithered = await readImage(await encodeGif(img, 16, 1));
  assert.equal(plain.channels, 3);
  assert.ok(distinctColours(plain) <= 16 && distinctColours(dithered) <= 16, `${distinctColours(plain)} / ${distinctColours(dithered)} colours`);
  // Without dither the gradient falls into flat bands: more pixels equal their right neighbour.
  const flat = (im: ImageF32) => { let n = 0; for (let i = 0; i < 4095; i++) if (im.data[i] === im.data[i + 1]) n++; return n; };
  assert.ok(flat(plain) > 1.2 * flat(dithered), `${flat(plain)} vs ${flat(dithered)} flat steps`);
  for (const im of [plain, dithered]) assert.ok(Math.abs(mean(im) - mean(img)) < 0.02, `mean ${mean(im)} vs ${mean(img)}`);
  assert.ok((await readImage(await encodeGif(img, 256, 1))).data.some((v, i) => v !== plain.data[i]));
  await assert.rejects(encodeGif(img, 300, 1), /encodeGif: .*colours/);
  await assert.rejects(encodeGif(img, 256, 2), /encodeGif: .*dither/);
});

test('applies EXIF orientation', async () => {
  const img = pattern(40, 20);
  const jpg = await sharp(toInterleavedU8(img), { raw: { width: 40, height: 20, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
  const info = await probeImage(jpg);
  assert.deepEqual([info.width, info.height], [20, 40]);
  const back = await readImage(jpg);
  assert.deepEqual([back.width, back.height], [20, 40]);
});

test('BMP: decoder by content, bottom-up and top-down, misleading extension, JPEG writer', async () => {
  const img = pattern(13, 7); // odd width exercises row padding
  const rgb = toInterleavedU8({ ...img });
  const bmp = encodeBmp24(rgb, 13, 7);
  const dir = await tmpDir();
  const file = path.join(dir, 'really_a_bmp.png');
  await fs.writeFile(file, bmp);
  const back = await readImage(file);
  assert.deepEqual(toInterleavedU8(back), rgb);
  // Top-down variant: negative height, rows stored first-to-last.
  const td = new Uint8Array(bmp);
  new DataView(td.buffer).setInt32(22, -7, true);
  const stride = 40;
  for (let y = 0; y < 7; y++) td.set(bmp.subarray(54 + (6 - y) * stride, 54 + (7 - y) * stride), 54 + y * stride);
  assert.deepEqual(decodeBmp(td).data, rgb);
  // 8-bit palette BMP: 2x1, palette [red, blue].
  const pal = new Uint8Array(54 + 8 + 4);
  const dv = new DataView(pal.buffer);
  pal.set([0x42, 0x4d]);
  dv.setUint32(10, 62, true);
  dv.setUint32(14, 40, true);
  dv.setInt32(18, 2, true);
  dv.setInt32(22, 1, true);
  dv.setUint16(26, 1, true);
  dv.setUint16(28, 8, true);
  dv.setUint32(46, 2, true);
  pal.set([0, 0, 255, 0, 255, 0, 0, 0], 54);
  pal.set([0, 1, 0, 0], 62);
  assert.deepEqual([...decodeBmp(pal).data], [255, 0, 0, 0, 0, 255]);
  await writeImage(path.join(dir, 'x.jpg'), img, { quality: 90 });
  assert.equal(sniffFormat(await fs.readFile(path.join(dir, 'x.jpg'))), 'jpeg');
});

test('bad input: typed errors naming the file and the reason', async () => {
  const dir = await tmpDir();
  const write = async (name: string, data: Uint8Array | string): Promise<string> => {
    const f = path.join(dir, name);
    await fs.writeFile(f, data);
    return f;
  };
  const png = await encodePng(pattern(64, 64));
  const jpg = await encodeJpeg(pattern(64, 64));
  await expectDecodeError(await write('empty.jpg', new Uint8Array(0)), /empty file/);
  await expectDecodeError(await write('trunc.png', png.subarray(0, png.length >> 1)), /truncated|corrupt/);
  await expectDecodeError(await write('trunc.jpg', jpg.subarray(0, jpg.length >> 1)), /truncated|corrupt/);
  await expectDecodeError(await write('notes.png', 'hello, this is text, not an image'), /not an image/);
  await expectDecodeError(await write('doc.jpg', '%PDF-1.4 ...'), /unsupported format: PDF/);
  await expectDecodeError(await write('vector.png', '<svg xmlns="http://www.w3.org/2000/svg"></svg>'), /unsupported format: SVG/);
  await expectDecodeError(path.join(dir, 'missing.png'), /file not found/);
  await expectDecodeError(await write('big.png', png), /above the limit of 1000/, { maxPixels: 1000 });
  // A BMP header claiming 100000 x 100000 pixels is refused from the header alone.
  const huge = encodeBmp24(new Uint8Array(3), 1, 1);
  new DataView(huge.buffer).setInt32(18, 100000, true);
  new DataView(huge.buffer).setInt32(22, 100000, true);
  await expectDecodeError(await write('huge.bmp', huge), /above the limit/);
  const bmp = encodeBmp24(new Uint8Array(64 * 64 * 3), 64, 64);
  await expectDecodeError(await write('trunc.bmp', bmp.subarray(0, 500)), /truncated BMP/);
  await expectDecodeError(new Uint8Array(0), /empty file/);
  // Corrupt entropy-coded data mid-file: libjpeg only warns and fills the rest with grey; that is
  // an error here, not a silently wrong image.
  const big = await encodeJpeg(pattern(320, 240), { quality: 95 });
  const corrupt = Uint8Array.from(big);
  corrupt.fill(0xff, corrupt.length >> 2, (corrupt.length >> 2) + 400);
  await expectDecodeError(await write('corrupt_mid.jpg', corrupt), /corrupt/i);
  // Benign libjpeg warnings (trailing bytes, some phones' scan headers) are told apart from corruption.
  assert.ok(isBenignDecodeWarning(new Error('VipsJpeg: Corrupt JPEG data: 3 extraneous bytes before marker 0xd9')));
  assert.ok(isBenignDecodeWarning(new Error('VipsJpeg: Invalid SOS parameters for sequential JPEG')));
  assert.ok(!isBenignDecodeWarning(new Error('VipsJpeg: Corrupt JPEG data: premature end of data segment')));
  // A pipe would block a read forever: refused without reading.
  const fifo = path.join(dir, 'pipe.jpg');
  if (spawnSync('mkfifo', [fifo]).status === 0) await expectDecodeError(fifo, /not a regular file/);
});

test('decodes the shared clean photos that are present', async () => {
  const dir = '../shared/photos';
  let names: string[] = [];
  try {
    names = (await fs.readdir(dir)).filter((n) => n.endsWith('.jpg')).sort().slice(0, 3);
  } catch {
    names = [];
  }
  for (const n of names) {
    const img = await readImage(path.join(dir, n), { scale: 0.25 });
    assert.equal(img.channels, 3);
    assert.ok(img.width >= 16 && img.height >= 16);
    assert.ok(img.data.every((v) => v >= 0 && v <= 1));
  }
});

test('decodeFailureReason: one wording for libvips failures (truncated, timeout, pixel limit, other)', () => {
  assert.match(decodeFailureReason(new Error('VipsJpeg: Premature end of input file\nmore')), /^truncated or corrupt data \(VipsJpeg: Premature end of input file\)$/);
  assert.match(decodeFailureReason(new Error('timeout: 60s')), /^decoding timed out/);
  assert.equal(decodeFailureReason(new Error('Input image exceeds pixel limit')), 'image is too large (Input image exceeds pixel limit)');
  assert.match(decodeFailureReason('something else'), /^corrupt or unsupported data \(something else\)$/);
});
