/**
 * JPEG compression artifacts: re-encode with libjpeg-turbo (through sharp) at low quality and
 * decode again, producing the 8x8 blocking, ringing and chroma bleeding of real low-bitrate JPEGs.
 * Severity -> quality 30 .. 5 (IJG quality scale); chroma subsampling 4:2:0 (80%) or 4:4:4.
 *
 * Caveat: a single compression; double compression with misaligned grids is not modelled.
 */
import sharp from 'sharp';
import { encodeJpeg } from '../image/io.js';
import { fromInterleavedU8, type ImageF32 } from '../image/tensor.js';
import { defineAsync, withOverrides } from './define.js';
import type { DegradationDef } from './types.js';

export interface JpegParams {
  /** IJG quality 1-100. */
  quality: number;
  chromaSubsampling: '4:2:0' | '4:4:4';
}

export const jpegDef: DegradationDef<JpegParams> = {
  name: 'jpeg',
  summary: 're-encode as JPEG at quality 30-5',
  sample(severity, rng, _img, overrides) {
    return withOverrides('jpeg', {
      quality: Math.max(1, Math.min(100, Math.round(30 - 25 * severity + rng.uniform(-1.5, 1.5)))),
      chromaSubsampling: rng.bool(0.8) ? '4:2:0' : '4:4:4',
    }, overrides);
  },
  phases: [{ stage: 'compression', run: (img, p) => applyJpeg(img, p) }],
};

export async function applyJpeg(img: ImageF32, p: JpegParams): Promise<ImageF32> {
  const buf = await encodeJpeg(img, { quality: p.quality, chromaSubsampling: p.chromaSubsampling });
  const { data, info } = await sharp(buf).raw().toBuffer({ resolveWithObject: true });
  return fromInterleavedU8(data, info.channels, info.height, info.width);
}

/** JPEG artifacts (pure, seeded, async): `(img, severity, rng, params?) => Promise<{ image, params }>`. */
export const jpeg = defineAsync(jpegDef);
