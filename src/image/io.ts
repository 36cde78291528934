/**
 * Image decoding and encoding through sharp (libvips), plus the in-house BMP decoder.
 *
 * `readImage(pathOrBuffer)` decodes JPEG, PNG, WebP, GIF (first frame), TIFF, AVIF/HEIF and BMP,
 * detected by content (magic bytes), never by extension; applies the EXIF orientation; converts to
 * sRGB; flattens alpha onto white; returns a planar float `ImageF32` in [0, 1].
 *
 * Robustness contract: bad input never crashes or hangs the process. Empty files, truncated or
 * corrupt data (libjpeg's warnings included), non-images, unsupported formats (SVG too), files that
 * are not regular files (pipes, devices) and images above `maxPixels` (checked from the header,
 * before the pixels are decoded) all throw `ImageDecodeError { file, reason }`. A libvips timeout bounds
 * the time spent on one image.
 *
 * ```ts
 * const img = await readImage('photo.jpg', { maxPixels: 50e6 });   // ImageF32, CHW sRGB [0,1]
 * await writeImage('out.png', img);
 * ```
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

type Sharp = ReturnType<typeof sharp>;
type Metadata = Awaited<ReturnType<Sharp['metadata']>>;
import { ImageDecodeError } from './errors.js';
import { decodeBmp, bmpDimensions, isBmp } from './bmp.js';
import { isPaletteImage } from './palette.js';
import { checkImage, fromInterleavedU8, toInterleavedU8, type ImageF32 } from './tensor.js';
import { writeFileAtomic } from '../util/fs.js';
import { invalidArg } from '../util/errors.js';

/** Formats recognised by content. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'heif' | 'bmp';

export interface ReadOptions {
  /** Refuse images with more pixels than this (checked from the header, before decoding). Default 100e6. */
  maxPixels?: number;
  /** Scale factor in (0, 1] applied while decoding (libvips shrink-on-load, Lanczos). Default 1. */
  scale?: number;
  /** Give up on one image after this many seconds. Default 60. */
  timeoutSeconds?: number;
}

export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Give up decoding one image after this long (a batch job or a service must not stall on one file). */
export const DECODE_TIMEOUT_SECONDS = 60;

/**
 * libjpeg warnings that real cameras' files trigger without damage to the pixels (trailing bytes
 * after the image data; some phone firmware's scan headers; lovell/sharp#1578, #3488). Decoding
 * treats other warnings ("Corrupt JPEG data: premature end of data segment": grey fill) as errors
 * and retries these with warnings allowed.
 */
export const BENIGN_DECODE_WARNING = /extraneous bytes before marker|Invalid SOS parameters for sequential JPEG/i;

/** Whether a decode failure is only a benign libjpeg warning (see BENIGN_DECODE_WARNING). */
export function isBenignDecodeWarning(e: unknown): boolean {
  return BENIGN_DECODE_WARNING.test(String((e as Error)?.message ?? e));
}

/**
 * Detects the format from the first bytes; returns null for unknown content and a string starting
 * with 'unsupported:' for recognised but unsupported formats.
 */
export function sniffFormat(buf: Uint8Array): ImageFormat | `unsupported:${string}` | null {
  const b = (i: number): number => buf[i] ?? -1;
  const ascii = (from: number, to: number): string => String.fromCharCode(...buf.subarray(from, to));
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  if (b(0) === 0x89 && ascii(1, 4) === 'PNG') return 'png';
  if (ascii(0, 4) === 'GIF8') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if ((b(0) === 0x49 && b(1) === 0x49 && b(2) === 0x2a && b(3) === 0) || (b(0) === 0x4d && b(1) === 0x4d && b(2) === 0 && b(3) === 0x2a)) return 'tiff';
  if (ascii(4, 8) === 'ftyp') {
    const brand = ascii(8, 12);
    if (['avif', 'avis', 'heic', 'heix', 'hevc', 'mif1', 'msf1'].includes(brand)) return 'heif';
    return `unsupported:ISO media (${brand.trim() || 'unknown brand'})`;
  }
  if (isBmp(buf)) return 'bmp';
  if (ascii(0, 4) === '%PDF') return 'unsupported:PDF';
  if (ascii(0, 4) === '8BPS') return 'unsupported:Photoshop PSD';
  if (b(0) === 0 && b(1) === 0 && b(2) === 1 && b(3) === 0) return 'unsupported:ICO';
  if (b(0) === 0xff && b(1) === 0x0a) return 'unsupported:JPEG XL';
  if (ascii(4, 8) === 'jP  ') return 'unsupported:JPEG 2000';
  const head = ascii(0, Math.min(buf.length, 256)).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'unsupported:SVG (vector graphics)';
  return null;
}

async function readInput(input: string | Uint8Array): Promise<{ buf: Uint8Array; file: string }> {
  if (input instanceof Uint8Array) return { buf: input, file: '<buffer>' };
  if (typeof input !== 'string' || !input) invalidArg('image', 'input', 'a file path or a Uint8Array/Buffer of image bytes', input);
  try {
    // A FIFO or device would block readFile (or never end): only regular files are read.
    const st = await fs.stat(input);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (!st.isFile()) throw new ImageDecodeError(input, 'not a regular file (a pipe, socket or device)');
    return { buf: await fs.readFile(input), file: input };
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImageDecodeError(input, code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : `cannot read file (${code ?? (e as Error).message})`);
  }
}

/**
 * Reads an image's bytes (a regular file, or a buffer as is) and identifies its format by content.
 * Throws ImageDecodeError for unreadable files, empty, unknown or unsupported content (SVG among
 * them: a vector file can reference other files, and is not a photo).
 */
export async function loadImageBytes(input: string | Uint8Array): Promise<{ buf: Uint8Array; file: string; format: ImageFormat }> {
  const { buf, file } = await readInput(input);
  return { buf, file, format: checkFormat(buf, file) };
}

function checkFormat(buf: Uint8Array, file: string): ImageFormat {
  if (buf.length === 0) throw new ImageDecodeError(file, 'empty file (0 bytes)');
  const fmt = sniffFormat(buf);
  if (fmt === null) throw new ImageDecodeError(file, `not an image (unrecognised content, ${buf.length} bytes)`);
  if (fmt.startsWith('unsupported:')) throw new ImageDecodeError(file, `unsupported format: ${fmt.slice('unsupported:'.length)}`);
  return fmt as ImageFormat;
}

/** A libvips/sharp decode failure -> a short reason for ImageDecodeError and the inspector's errors. */
export function decodeFailureReason(e: unknown): string {
  const msg = String((e as Error)?.message ?? e).split('\n')[0]!.trim();
  if (/premature end|truncated|unexpected end|end of (file|stream)|not enough data|Read error|short read|corrupt/i.test(msg)) return `truncated or corrupt data (${msg})`;
  if (/timeout/i.test(msg)) return `decoding timed out (${msg})`;
  if (/pixel limit/i.test(msg)) return `image is too large (${msg.replace(/^.*?:\s*/, '')})`;
  return `corrupt or unsupported data (${msg})`;
}

/** sharp's `limitInputPixels` for a pixel limit: a positive integer, or Infinity for none. */
function pixelLimit(where: string, maxPixels: number): number | false {
  if (maxPixels === Infinity) return false;
  if (!(Number.isInteger(maxPixels) && maxPixels > 0)) invalidArg(where, 'maxPixels', 'a positive integer (or Infinity)', maxPixels);
  return maxPixels;
}

export interface ImageInfo {
  format: ImageFormat;
  /** Dimensions after EXIF orientation. */
  width: number;
  height: number;
}

/** Reads the header only: format and oriented dimensions. Throws ImageDecodeError. */
export async function probeImage(input: string | Uint8Array): Promise<ImageInfo> {
  const { buf, file } = await readInput(input);
  const format = checkFormat(buf, file);
  if (format === 'bmp') return { format, ...bmpDimensions(buf, file) };
  let meta: Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false, failOn: 'error' }).metadata();
  } catch (e) {
    throw new ImageDecodeError(file, decodeFailureReason(e));
  }
  const w = meta.width ?? 0;
  const h = meta.pageHeight ?? meta.height ?? 0;
  if (!w || !h) throw new ImageDecodeError(file, 'image header has no dimensions');
  const swap = (meta.orientation ?? 1) >= 5;
  return { format, width: swap ? h : w, height: swap ? w : h };
}

/**
 * Decodes an image file or buffer to a 3-channel sRGB ImageF32 (see the module doc for the
 * contract). GIF and other multi-page inputs give their first frame.
 */
export async function readImage(input: string | Uint8Array, opts: ReadOptions = {}): Promise<ImageF32> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const scale = opts.scale ?? 1;
  if (!(scale > 0 && scale <= 1)) invalidArg('readImage', 'scale', 'number in (0, 1]', scale);
  const limit = pixelLimit('readImage', maxPixels);
  const timeout = opts.timeoutSeconds ?? DECODE_TIMEOUT_SECONDS;
  if (!(Number.isInteger(timeout) && timeout >= 0 && timeout <= 3600)) invalidArg('readImage', 'timeoutSeconds', 'an integer in [0, 3600] (0: no limit)', opts.timeoutSeconds);
  const { buf, file } = await readInput(input);
  const format = checkFormat(buf, file);
  const info = await probeHeader(buf, file);
  checkPixelCount(file, info.width, info.height, maxPixels);
  let pipeline: Sharp;
  if (format === 'bmp') {
    const raw = decodeBmp(buf, file, maxPixels);
    pipeline = sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } });
  } else {
    // failOn 'warning' (sharp's default): libjpeg's "corrupt data" warnings would otherwise give
    // a grey-filled image without an error; benign ones are retried below.
    pipeline = sharp(buf, { limitInputPixels: limit, failOn: 'warning', pages: 1 }).rotate();
  }
  const tolerant = format === 'bmp' ? null : sharp(buf, { limitInputPixels: limit, failOn: 'error', pages: 1 }).rotate();
  const finish = (p: Sharp) => {
    if (scale < 1) {
      const w = Math.max(1, Math.round(info.width * scale));
      const h = Math.max(1, Math.round(info.height * scale));
      p = p.resize(w, h, { fit: 'fill', kernel: 'lanczos3' });
    }
    return p.timeout({ seconds: timeout }).flatten({ background: '#ffffff' }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  };
  try {
    const { data, info: out } = await finish(pipeline).catch((e: unknown) => {
      if (tolerant && isBenignDecodeWarning(e)) return finish(tolerant);
      throw e;
    });
    let img = fromInterleavedU8(data, out.channels, out.height, out.width);
    if (out.channels !== 3) img = toRgb(img);
    return img;
  } catch (e) {
    throw new ImageDecodeError(file, decodeFailureReason(e));
  }
}

/**
 * Opens an image as a sharp pipeline, for callers that resize or crop before decoding the pixels
 * (the inspector, heatmaps, attention maps): identified by content (unknown, unsupported and SVG
 * input refused; only regular files read), EXIF-oriented, first frame of animations, libjpeg
 * warnings treated as corruption when the pixels are decoded (`failOn: 'error'` allows them: retry
 * with it when `isBenignDecodeWarning`); BMP through attnvision's decoder.
 * Returns the pipeline, the oriented size and whether the bytes are a palette image (palette.ts:
 * GIF or palette PNG; a BMP's colour table is not counted). Callers should `flatten` (transparency
 * on white) and set a `timeout`. Throws ImageDecodeError.
 */
export async function openImagePipeline(input: string | Uint8Array, opts: { maxPixels?: number; failOn?: 'warning' | 'error' } = {}): Promise<{ img: Sharp; width: number; height: number; palette: boolean }> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const limit = pixelLimit('openImagePipeline', maxPixels);
  const { buf, file, format } = await loadImageBytes(input);
  const { width, height } = await probeHeader(buf, file);
  checkPixelCount(file, width, height, maxPixels);
  const palette = isPaletteImage(buf);
  if (format !== 'bmp') return { img: sharp(buf, { limitInputPixels: limit, failOn: opts.failOn ?? 'warning', pages: 1 }).rotate(), width, height, palette };
  const decoded = await readImage(buf, { maxPixels }).catch((e: unknown) => {
    throw e instanceof ImageDecodeError ? new ImageDecodeError(file, e.reason) : e;
  });
  return { img: sharp(toInterleavedU8(decoded), { raw: { width: decoded.width, height: decoded.height, channels: decoded.channels as 1 | 3 | 4 } }), width, height, palette };
}

/** probeImage for bytes read from `file`: its errors name the file. */
async function probeHeader(buf: Uint8Array, file: string): Promise<ImageInfo> {
  return probeImage(buf).catch((e: unknown) => {
    throw e instanceof ImageDecodeError ? new ImageDecodeError(file, e.reason) : e;
  });
}

/** The pixel limit, checked from the header before any pixel is decoded; the error gives the size. */
function checkPixelCount(file: string, width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) throw new ImageDecodeError(file, `image is ${width}x${height} = ${width * height} pixels, above the limit of ${maxPixels}`);
}

/** Greyscale -> RGB by replication; drops channels beyond 3. */
function toRgb(img: ImageF32): ImageF32 {
  const plane = img.height * img.width;
  const data = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) data.set(img.data.subarray((img.channels === 1 ? 0 : c) * plane, ((img.channels === 1 ? 0 : c) + 1) * plane), c * plane);
  return { data, channels: 3, height: img.height, width: img.width };
}

function toSharp(img: ImageF32, where: string): Sharp {
  checkImage(where, img, { finite: true });
  if (img.channels !== 1 && img.channels !== 3 && img.channels !== 4) invalidArg(where, 'channels', '1, 3 or 4', img.channels);
  return sharp(toInterleavedU8(img), { raw: { width: img.width, height: img.height, channels: img.channels as 1 | 3 | 4 } });
}

/** toSharp with transparency composited onto white, as images are read: for formats without alpha, or whose alpha we drop. */
function toOpaqueSharp(img: ImageF32, where: string): Sharp {
  const base = toSharp(img, where);
  return img.channels === 4 ? base.flatten({ background: '#ffffff' }) : base;
}

export interface PngOptions {
  /** zlib level 0-9 (default 6). */
  compressionLevel?: number;
}

/** Encodes to an 8-bit PNG (values rounded to the 8-bit grid). */
export async function encodePng(img: ImageF32, opts: PngOptions = {}): Promise<Buffer> {
  return toSharp(img, 'encodePng').png({ compressionLevel: opts.compressionLevel ?? 6 }).toBuffer();
}

export interface JpegOptions {
  /** Quality 1-100 (default 90). */
  quality?: number;
  /** '4:2:0' (default) or '4:4:4'. */
  chromaSubsampling?: '4:2:0' | '4:4:4';
}

/** Encodes to baseline JPEG with libjpeg-turbo/mozjpeg defaults off (plain quantisation tables). */
export async function encodeJpeg(img: ImageF32, opts: JpegOptions = {}): Promise<Buffer> {
  const quality = opts.quality ?? 90;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) invalidArg('encodeJpeg', 'quality', 'integer in [1, 100]', quality);
  // JPEG has no alpha: transparency is composited onto white, as images are read.
  return toOpaqueSharp(img, 'encodeJpeg').jpeg({ quality, chromaSubsampling: opts.chromaSubsampling ?? '4:2:0', mozjpeg: false }).toBuffer();
}

/** Lossy still-image codecs of web and video pipelines: AVIF (AV1 intra coding) and WebP (VP8 intra). */
export type LossyCodec = 'avif' | 'webp';

/**
 * Encodes to AVIF (libaom, encoder effort 4, 4:2:0) or lossy WebP at `quality` 1-100 (the
 * encoders' own scales). Alpha is composited onto white, as for JPEG, so what comes back is opaque.
 */
export async function encodeLossy(img: ImageF32, codec: LossyCodec, quality: number): Promise<Buffer> {
  if (codec !== 'avif' && codec !== 'webp') invalidArg('encodeLossy', 'codec', '"avif" or "webp"', codec);
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) invalidArg('encodeLossy', 'quality', 'integer in [1, 100]', quality);
  const opaque = toOpaqueSharp(img, 'encodeLossy');
  return (codec === 'avif' ? opaque.avif({ quality, effort: 4, chromaSubsampling: '4:2:0' }) : opaque.webp({ quality })).toBuffer();
}

/**
 * Encodes to a GIF of at most `colours` palette entries (2-256), chosen by libimagequant (encoder
 * effort 4 of 1-10: the default 7 took 3.5x the time on a 512 px image for a round trip 15-20%
 * closer to the original, a difference web GIF encoders span anyway), with
 * Floyd-Steinberg error diffusion of strength `dither` (0 = none, 1 = full): the palette images
 * of the web. Alpha is composited onto white.
 */
export async function encodeGif(img: ImageF32, colours: number, dither: number): Promise<Buffer> {
  if (!Number.isInteger(colours) || colours < 2 || colours > 256) invalidArg('encodeGif', 'colours', 'integer in [2, 256]', colours);
  if (!(dither >= 0 && dither <= 1)) invalidArg('encodeGif', 'dither', 'a number in [0, 1]', dither);
  return toOpaqueSharp(img, 'encodeGif').gif({ colours, dither, effort: 4 }).toBuffer();
}

/** Writes an image atomically; the format follows the extension (.png, .jpg/.jpeg). */
export async function writeImage(file: string, img: ImageF32, opts: JpegOptions & PngOptions = {}): Promise<void> {
  const ext = path.extname(file).toLowerCase();
  let data: Buffer;
  if (ext === '.png') data = await encodePng(img, opts);
  else if (ext === '.jpg' || ext === '.jpeg') data = await encodeJpeg(img, opts);
  else return invalidArg('writeImage', 'file extension', '.png, .jpg or .jpeg', ext);
  await writeFileAtomic(file, data);
}
