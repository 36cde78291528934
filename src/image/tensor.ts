/**
 * The image tensor used by image I/O and the degradation library: planar CHW float32, sRGB-encoded
 * values in [0, 1] (not linear light), plus conversions to and from linear light (IEC 61966-2-1 sRGB
 * transfer function) and to interleaved 8-bit.
 */
import { checkInt, invalidArg } from '../util/errors.js';

/** Planar CHW image: `data[c * height * width + y * width + x]`, sRGB values in [0, 1]. */
export interface ImageF32 {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** A zero-filled image (or filled with `value`). */
export function createImage(channels: number, height: number, width: number, value = 0): ImageF32 {
  checkInt('createImage', 'channels', channels, 1);
  checkInt('createImage', 'height', height, 1);
  checkInt('createImage', 'width', width, 1);
  const data = new Float32Array(channels * height * width);
  if (value !== 0) data.fill(value);
  return { data, channels, height, width };
}

/**
 * Checks that `img` is a well-formed ImageF32 (positive integer sizes, a Float32Array of exactly
 * channels x height x width values, and with `finite`, no NaN or infinite value) before it is
 * encoded, resized or degraded: a short buffer or a NaN would otherwise give black pixels, NaN
 * images or a silently wrong file.
 */
export function checkImage(where: string, img: ImageF32, opts: { finite?: boolean } = {}): ImageF32 {
  if (typeof img !== 'object' || img === null) invalidArg(where, 'image', 'an ImageF32 {data, channels, height, width}', img);
  const { channels, height, width, data } = img;
  for (const [name, v] of [['channels', channels], ['height', height], ['width', width]] as const) checkInt(where, `image ${name}`, v, 1);
  if (!(data instanceof Float32Array)) invalidArg(where, 'image data', 'a Float32Array', data);
  const want = channels * height * width;
  if (data.length !== want) invalidArg(where, 'image data', `${channels} x ${height} x ${width} = ${want} values`, `${data.length} values`);
  if (opts.finite) {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) {
        const plane = height * width;
        const c = Math.floor(i / plane);
        const y = Math.floor((i % plane) / width);
        invalidArg(where, `image value at channel ${c}, row ${y}, column ${i % width}`, 'a finite number', data[i]);
      }
    }
  }
  return img;
}

export function cloneImage(img: ImageF32): ImageF32 {
  return { data: img.data.slice(), channels: img.channels, height: img.height, width: img.width };
}

/** Same shape, new data. */
export function withData(img: ImageF32, data: Float32Array): ImageF32 {
  return { data, channels: img.channels, height: img.height, width: img.width };
}

/** Exact sRGB decoding curve (IEC 61966-2-1). */
function srgbToLinearExact(v: number): number {
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}

/** Exact sRGB encoding curve for v >= 0. */
function linearToSrgbExact(v: number): number {
  return v <= 0.0031308 ? v * 12.92 : 1.055 * Math.pow(v, 1 / 2.4) - 0.055;
}

/**
 * The transfer curves are evaluated per pixel in every linear-light degradation, and Math.pow is
 * slow (~130 ns per call measured on the 2-core dev machine), so values in [0, 1] are read from
 * tables with linear interpolation: decoding on a uniform grid in v, encoding on a uniform grid in
 * sqrt(v) (the curve is steep near 0). Interpolation error < 3e-7 (tested against the exact
 * curves), below 1e-4 of an 8-bit level.
 */
const CURVE_STEPS = 16384;
const DECODE_TABLE = Float64Array.from({ length: CURVE_STEPS + 2 }, (_, i) => srgbToLinearExact(Math.min(i, CURVE_STEPS) / CURVE_STEPS));
const ENCODE_TABLE = Float64Array.from({ length: CURVE_STEPS + 2 }, (_, i) => linearToSrgbExact((Math.min(i, CURVE_STEPS) / CURVE_STEPS) ** 2));

/** sRGB-encoded value -> linear light (scalar). */
export function srgbToLinearValue(v: number): number {
  if (!(v >= 0 && v <= 1)) return srgbToLinearExact(v);
  const x = v * CURVE_STEPS;
  const i = x | 0;
  const f = x - i;
  return DECODE_TABLE[i]! + f * (DECODE_TABLE[i + 1]! - DECODE_TABLE[i]!);
}

/** Linear light -> sRGB-encoded value (scalar); negative input gives negative output (odd extension). */
export function linearToSrgbValue(v: number): number {
  if (v < 0) return -linearToSrgbValue(-v);
  if (!(v <= 1)) return linearToSrgbExact(v);
  if (v <= 0.0031308) return v * 12.92;
  const x = Math.sqrt(v) * CURVE_STEPS;
  const i = x | 0;
  const f = x - i;
  return ENCODE_TABLE[i]! + f * (ENCODE_TABLE[i + 1]! - ENCODE_TABLE[i]!);
}

/** The exact curves, for tests and references. */
export const srgbCurvesExact = { srgbToLinear: srgbToLinearExact, linearToSrgb: linearToSrgbExact };

/** New image in linear light. */
export function toLinear(img: ImageF32): ImageF32 {
  const out = new Float32Array(img.data.length);
  const d = img.data;
  for (let i = 0; i < d.length; i++) out[i] = srgbToLinearValue(d[i]!);
  return withData(img, out);
}

/** New sRGB-encoded image from linear light, clamped to [0, 1]. */
export function toSrgb(img: ImageF32): ImageF32 {
  const out = new Float32Array(img.data.length);
  const d = img.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    out[i] = v <= 0 ? 0 : v >= 1 ? 1 : linearToSrgbValue(v);
  }
  return withData(img, out);
}

/** Clamps in place to [0, 1]; returns the image. */
export function clamp01(img: ImageF32): ImageF32 {
  const d = img.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    d[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return img;
}

/** Interleaved HWC uint8 (rounded, clamped) -> planar CHW float in [0, 1]. */
export function fromInterleavedU8(src: Uint8Array, channels: number, height: number, width: number): ImageF32 {
  const img = createImage(channels, height, width);
  const plane = height * width;
  for (let c = 0; c < channels; c++) {
    const o = c * plane;
    for (let i = 0; i < plane; i++) img.data[o + i] = src[i * channels + c]! / 255;
  }
  return img;
}

/** Planar CHW float -> interleaved HWC uint8 (rounded, clamped). */
export function toInterleavedU8(img: ImageF32): Uint8Array {
  const { channels, height, width, data } = img;
  const plane = height * width;
  const out = new Uint8Array(plane * channels);
  for (let c = 0; c < channels; c++) {
    const o = c * plane;
    for (let i = 0; i < plane; i++) {
      const v = Math.round(data[o + i]! * 255);
      out[i * channels + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

/** Rounds values to the 8-bit grid (what writing a PNG and reading it back gives). */
export function quantize8(img: ImageF32): ImageF32 {
  const out = new Float32Array(img.data.length);
  const d = img.data;
  for (let i = 0; i < d.length; i++) {
    const v = Math.round(d[i]! * 255);
    out[i] = (v < 0 ? 0 : v > 255 ? 255 : v) / 255;
  }
  return withData(img, out);
}

/** Rec. 709 luma of an sRGB image as a 1-channel image (grey input is returned as a copy). */
export function luma(img: ImageF32): ImageF32 {
  const plane = img.height * img.width;
  if (img.channels < 3) return { data: img.data.slice(0, plane), channels: 1, height: img.height, width: img.width };
  const out = new Float32Array(plane);
  const d = img.data;
  for (let i = 0; i < plane; i++) out[i] = 0.2126 * d[i]! + 0.7152 * d[plane + i]! + 0.0722 * d[2 * plane + i]!;
  return { data: out, channels: 1, height: img.height, width: img.width };
}
