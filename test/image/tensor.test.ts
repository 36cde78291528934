import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage, toLinear, toSrgb, crop, pad, resize, srgbToLinearValue, linearToSrgbValue, luma } from '../../src/image/index.js';
import { srgbCurvesExact } from '../../src/image/tensor.js';
import { ArgumentError } from '../../src/util/errors.js';

test('sRGB <-> linear: known values and round trip', () => {
  assert.ok(Math.abs(srgbToLinearValue(0.5) - 0.214041) < 1e-6);
  assert.ok(Math.abs(linearToSrgbValue(0.214041) - 0.5) < 1e-6);
  const img = createImage(3, 4, 4);
  img.data.forEach((_, i) => (img.data[i] = i / img.data.length));
  const back = toSrgb(toLinear(img));
  for (let i = 0; i < img.data.length; i++) assert.ok(Math.abs(back.data[i]! - img.data[i]!) < 1e-6);
  assert.equal(luma(createImage(3, 2, 2, 1)).data[0]!.toFixed(6), '1.000000');
});

test('crop, pad (constant / edge / reflect) and their errors', () => {
  const img = createImage(1, 3, 4);
  img.data.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.deepEqual([...crop(img, { left: 1, top: 1, width: 2, height: 2 }).data], [5, 6, 9, 10]);
  assert.throws(() => crop(img, { left: 3, top: 0, width: 2, height: 1 }), ArgumentError);
  const row = createImage(1, 1, 3);
  row.data.set([1, 2, 3]);
  assert.deepEqual([...pad(row, { left: 2, right: 2 }, 'reflect').data], [3, 2, 1, 2, 3, 2, 1]);
  assert.deepEqual([...pad(row, { left: 2, right: 1 }, 'edge').data], [1, 1, 1, 2, 3, 3]);
  assert.deepEqual([...pad(row, { left: 1 }, 'constant', 9).data], [9, 1, 2, 3]);
  assert.throws(() => pad(row, { left: -1 }), ArgumentError);
});

test('resize: constant stays constant, 2x box-downscale averages, shapes', () => {
  const flat = createImage(3, 10, 10, 0.25);
  const r = resize(flat, 7, 3);
  assert.deepEqual([r.channels, r.height, r.width], [3, 3, 7]);
  for (const v of r.data) assert.ok(Math.abs(v - 0.25) < 1e-6);
  // Alternating columns 0/1 downscaled 2x -> 0.5 everywhere (antialiasing).
  const stripes = createImage(1, 4, 8);
  stripes.data.forEach((_, i) => (stripes.data[i] = i % 2));
  for (const v of resize(stripes, 4, 4).data) assert.ok(Math.abs(v - 0.5) < 0.13, String(v));
  const up = resize(createImage(1, 2, 2, 0.5), 5, 5);
  for (const v of up.data) assert.ok(Math.abs(v - 0.5) < 1e-6);
});

test('sRGB transfer tables: within 3e-7 of the exact curves on [0, 1], exact outside and below the knee', () => {
  let maxDecode = 0;
  let maxEncode = 0;
  for (let i = 0; i <= 200_000; i++) {
    const v = i / 200_000;
    maxDecode = Math.max(maxDecode, Math.abs(srgbToLinearValue(v) - srgbCurvesExact.srgbToLinear(v)));
    maxEncode = Math.max(maxEncode, Math.abs(linearToSrgbValue(v) - srgbCurvesExact.linearToSrgb(v)));
  }
  assert.ok(maxDecode < 3e-8, `decode error ${maxDecode}`);
  assert.ok(maxEncode < 3e-7, `encode error ${maxEncode}`);
  assert.equal(srgbToLinearValue(1.2), srgbCurvesExact.srgbToLinear(1.2));
  assert.equal(linearToSrgbValue(1.5), srgbCurvesExact.linearToSrgb(1.5));
  assert.equal(linearToSrgbValue(-0.25), -srgbCurvesExact.linearToSrgb(0.25));
  assert.equal(linearToSrgbValue(0.002), 0.002 * 12.92);
  assert.equal(srgbToLinearValue(0), 0);
  assert.ok(Math.abs(srgbToLinearValue(1) - 1) < 1e-12 && Math.abs(linearToSrgbValue(1) - 1) < 1e-12);
});
