/**
 * JPEG compression artifacts: re-encode with libjpeg-turbo (through sharp) at low quality and
 * decode again, producing the 8x8 blocking, ringing and chroma bleeding of real low-bitrate JPEGs.
 * Severity -> quality 30 .. 5 (IJG quality scale); chroma subsampling 4:2:0 (80%) or 4:4:4.
 *
 * Visibility: the label means "more compression damage than an ordinary camera or web JPEG", so a
 * re-encode that stays close to that (a smooth or blurred image compresses well even at quality
 * 30) is not accepted. Artifact strength = the RMS luminance change of the re-encode in 8-bit
 * levels plus 4x the growth of the 8x8 block-edge step excess (`blockEdgeExcess`). The quality is
 * lowered in steps of `QUALITY_STEP` until the strength reaches `minRatio` times the strength of a
 * `REFERENCE_QUALITY` encode of the same image, or the quality reaches 5. The final quality is a
 * pure function of the image and the parameters, so a manifest line still reproduces the sample;
 * `quality` records the starting quality.
 *
 * Caveat: a single compression; double compression with misaligned grids is not modelled.
 */
import sharp from 'sharp';
import { encodeJpeg } from '../image/io.js';
import { fromInterleavedU8, type ImageF32 } from '../image/tensor.js';
import { defineAsync, withOverrides } from './define.js';
import { needParam, type DegradationDef } from './types.js';

export interface JpegParams {
  /** IJG quality 1-100 of the first encode (lowered while the artifacts are not visible). */
  quality: number;
  chromaSubsampling: '4:2:0' | '4:4:4';
  /** Artifact strength the result must reach, relative to a REFERENCE_QUALITY encode (see the module doc); 0 disables. */
  minRatio: number;
}

/** Quality decrement while the artifacts stay below the target; lowest quality tried. */
export const QUALITY_STEP = 5;
export const MIN_QUALITY = 5;
/** Quality of an ordinary camera or web JPEG, the reference the label must clearly exceed. */
export const REFERENCE_QUALITY = 75;

export const jpegDef: DegradationDef<JpegParams> = {
  name: 'jpeg',
  summary: 're-encode as JPEG at quality 30-5, lowered until artifacts are visible',
  sample(severity, rng, _img, overrides) {
    return withOverrides('jpeg', {
      quality: Math.max(1, Math.min(100, Math.round(30 - 25 * severity + rng.uniform(-1.5, 1.5)))),
      chromaSubsampling: rng.bool(0.8) ? '4:2:0' : '4:4:4',
      minRatio: 2.5,
    }, overrides);
  },
  check(p) {
    needParam(Number.isInteger(p.quality) && p.quality >= 1 && p.quality <= 100, 'jpeg', 'quality', 'an integer in [1, 100]', p.quality);
    needParam(p.chromaSubsampling === '4:2:0' || p.chromaSubsampling === '4:4:4', 'jpeg', 'chromaSubsampling', '"4:2:0" or "4:4:4"', p.chromaSubsampling);
    needParam(p.minRatio >= 0, 'jpeg', 'minRatio', 'a number >= 0 (0: no visibility check)', p.minRatio);
  },
  phases: [{ stage: 'compression', run: (img, p) => applyJpeg(img, p) }],
};

/**
 * One encode/decode round trip at `quality`, keeping the channel count: grey stays grey; JPEG has
 * no alpha, so an RGBA image's colour planes go through JPEG as they are and its alpha plane is
 * kept unchanged.
 */
export async function jpegRoundTrip(img: ImageF32, quality: number, chromaSubsampling: JpegParams['chromaSubsampling']): Promise<ImageF32> {
  const plane = img.height * img.width;
  const colour = img.channels === 4 ? { ...img, channels: 3, data: img.data.subarray(0, 3 * plane) } : img;
  const buf = await encodeJpeg(colour, { quality, chromaSubsampling });
  const decoder = img.channels === 1 ? sharp(buf).toColourspace('b-w') : sharp(buf);
  const { data, info } = await decoder.raw().toBuffer({ resolveWithObject: true });
  const out = fromInterleavedU8(data, info.channels, info.height, info.width);
  if (img.channels !== 4) return out;
  const rgba = new Float32Array(4 * plane);
  rgba.set(out.data.subarray(0, 3 * plane));
  rgba.set(img.data.subarray(3 * plane), 3 * plane);
  return { data: rgba, channels: 4, height: img.height, width: img.width };
}

export async function applyJpeg(img: ImageF32, p: Pick<JpegParams, 'quality' | 'chromaSubsampling'> & { minRatio?: number }): Promise<ImageF32> {
  let quality = p.quality;
  let out = await jpegRoundTrip(img, quality, p.chromaSubsampling);
  if (!p.minRatio || p.minRatio <= 0) return out;
  // The input's luma and block-edge excess are computed once for every re-encode compared with it.
  const before = lumaOf(img);
  const target = p.minRatio * strengthAgainst(before, await jpegRoundTrip(img, REFERENCE_QUALITY, p.chromaSubsampling));
  while (strengthAgainst(before, out) < target && quality > MIN_QUALITY) {
    quality = Math.max(MIN_QUALITY, quality - QUALITY_STEP);
    out = await jpegRoundTrip(img, quality, p.chromaSubsampling);
  }
  return out;
}

/** Rec. 601 luma in 8-bit levels, [H*W]. */
function luma255(img: ImageF32): Float32Array {
  const plane = img.height * img.width;
  const y = new Float32Array(plane);
  const g = img.channels >= 3;
  for (let i = 0; i < plane; i++) {
    y[i] = 255 * (g ? 0.299 * img.data[i]! + 0.587 * img.data[plane + i]! + 0.114 * img.data[2 * plane + i]! : img.data[i]!);
  }
  return y;
}

/** An image's luma [H*W] with its size and block-edge excess. */
interface Luma {
  y: Float32Array;
  height: number;
  width: number;
  excess: number;
}

function lumaOf(img: ImageF32): Luma {
  const y = luma255(img);
  return { y, height: img.height, width: img.width, excess: edgeExcessOfLuma(y, img.height, img.width) };
}

function edgeExcessOfLuma(y: Float32Array, H: number, W: number): number {
  let edge = 0, ne = 0, inner = 0, ni = 0;
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      const v = y[r * W + c]!;
      if (c + 1 < W) {
        const d = Math.abs(y[r * W + c + 1]! - v);
        if (c % 8 === 7) { edge += d; ne++; } else { inner += d; ni++; }
      }
      if (r + 1 < H) {
        const d = Math.abs(y[(r + 1) * W + c]! - v);
        if (r % 8 === 7) { edge += d; ne++; } else { inner += d; ni++; }
      }
    }
  }
  return ne && ni ? edge / ne - inner / ni : 0;
}

/**
 * Mean absolute luma step across 8x8 block boundaries minus the mean step inside blocks, over
 * horizontal and vertical neighbours, in 8-bit levels: ~0 for natural images, positive when
 * JPEG blocking shows.
 */
export function blockEdgeExcess(img: ImageF32): number {
  return edgeExcessOfLuma(luma255(img), img.height, img.width);
}

/** Artifact strength of `after` against the input's luma (see artifactStrength). */
function strengthAgainst(before: Luma, after: ImageF32): number {
  const a = lumaOf(after);
  let s = 0;
  for (let i = 0; i < a.y.length; i++) s += (before.y[i]! - a.y[i]!) ** 2;
  return Math.sqrt(s / a.y.length) + 4 * Math.max(0, a.excess - before.excess);
}

/** RMS luma change of a re-encode plus 4x the growth of its block-edge excess (8-bit levels). */
export function artifactStrength(before: ImageF32, after: ImageF32): number {
  return strengthAgainst(lumaOf(before), after);
}

/** JPEG artifacts (pure, seeded, async): `(img, severity, rng, params?) => Promise<{ image, params }>`. */
export const jpeg = defineAsync(jpegDef);
