/**
 * A BMP (Windows bitmap) decoder, because the libvips bundled with sharp cannot read BMP.
 *
 * Supported: BITMAPCOREHEADER (OS/2 1.x, 12 bytes) and BITMAPINFOHEADER / V4 / V5 headers; 1, 4 and
 * 8 bit palettes; 16 bit (5-5-5 or bit fields); 24 bit; 32 bit (BI_RGB or bit fields, alpha kept
 * when the alpha mask is present and not all zero); bottom-up and top-down rows. Not supported
 * (typed error): RLE4/RLE8 compression, embedded JPEG/PNG, 64 bit. The format reference is
 * Microsoft's "Bitmap Storage" documentation (BITMAPINFOHEADER, BITMAPV5HEADER).
 *
 * Detection is by content (`isBmp`: "BM" magic plus a plausible header), never by file extension.
 */
import { ImageDecodeError } from './errors.js';

export interface DecodedRaw {
  /** Interleaved HWC 8-bit pixels, top row first. */
  data: Uint8Array;
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA). */
  channels: 3 | 4;
}

/** True when the bytes start like a BMP file ("BM" and a known DIB header size). */
export function isBmp(buf: Uint8Array): boolean {
  if (buf.length < 18 || buf[0] !== 0x42 || buf[1] !== 0x4d) return false;
  const hs = buf[14]! | (buf[15]! << 8) | (buf[16]! << 16) | (buf[17]! << 24);
  return hs === 12 || hs === 16 || hs === 40 || hs === 52 || hs === 56 || hs === 64 || hs === 108 || hs === 124;
}

/** Width and height from the header, without decoding pixels (for the pixel-limit check). */
export function bmpDimensions(buf: Uint8Array, file = '<buffer>'): { width: number; height: number } {
  const h = readHeader(buf, file);
  return { width: h.width, height: h.height };
}

interface BmpHeader {
  dataOffset: number;
  headerSize: number;
  width: number;
  height: number;
  topDown: boolean;
  bpp: number;
  compression: number;
  colorsUsed: number;
  masks: [number, number, number, number] | null;
}

function readHeader(buf: Uint8Array, file: string): BmpHeader {
  if (!isBmp(buf)) throw new ImageDecodeError(file, 'not a BMP file');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dataOffset = dv.getUint32(10, true);
  const headerSize = dv.getUint32(14, true);
  if (buf.length < 14 + headerSize) throw new ImageDecodeError(file, `truncated BMP header (${buf.length} bytes)`);
  let width: number;
  let rawHeight: number;
  let bpp: number;
  let compression = 0;
  let colorsUsed = 0;
  if (headerSize === 12) {
    width = dv.getUint16(18, true);
    rawHeight = dv.getInt16(20, true);
    bpp = dv.getUint16(24, true);
  } else {
    width = dv.getInt32(18, true);
    rawHeight = dv.getInt32(22, true);
    bpp = dv.getUint16(28, true);
    compression = dv.getUint32(30, true);
    colorsUsed = headerSize >= 36 ? dv.getUint32(46, true) : 0;
  }
  if (width <= 0 || rawHeight === 0) throw new ImageDecodeError(file, `invalid BMP dimensions ${width}x${rawHeight}`);
  let masks: BmpHeader['masks'] = null;
  if (compression === 3 || compression === 6) {
    // Masks follow a 40-byte header (BI_BITFIELDS) or live inside V2+ headers.
    const at = 14 + 40;
    if (buf.length < at + 12) throw new ImageDecodeError(file, 'truncated BMP bit-field masks');
    const alpha = compression === 6 || headerSize >= 56 ? (buf.length >= at + 16 ? dv.getUint32(at + 12, true) : 0) : 0;
    masks = [dv.getUint32(at, true), dv.getUint32(at + 4, true), dv.getUint32(at + 8, true), alpha];
  } else if (compression === 1 || compression === 2) {
    throw new ImageDecodeError(file, `unsupported BMP compression (RLE${compression === 1 ? 8 : 4})`);
  } else if (compression === 4 || compression === 5) {
    throw new ImageDecodeError(file, `unsupported BMP compression (embedded ${compression === 4 ? 'JPEG' : 'PNG'})`);
  } else if (compression !== 0) {
    throw new ImageDecodeError(file, `unsupported BMP compression ${compression}`);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw new ImageDecodeError(file, `unsupported BMP bit depth ${bpp}`);
  return { dataOffset, headerSize, width, height: Math.abs(rawHeight), topDown: rawHeight < 0, bpp, compression, colorsUsed, masks };
}

/** Shift and scale that map a channel mask to 0..255. */
function maskInfo(mask: number): { shift: number; max: number } {
  if (mask === 0) return { shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  return { shift, max: mask >>> shift };
}

/** Decodes a BMP; throws ImageDecodeError (naming `file`) on anything malformed or unsupported. */
export function decodeBmp(buf: Uint8Array, file = '<buffer>', maxPixels = Infinity): DecodedRaw {
  const h = readHeader(buf, file);
  const { width, height, bpp } = h;
  if (width * height > maxPixels) throw new ImageDecodeError(file, `image is ${width}x${height} = ${width * height} pixels, above the limit of ${maxPixels}`);
  const stride = Math.ceil((width * bpp) / 32) * 4;
  const need = h.dataOffset + stride * (height - 1) + Math.ceil((width * bpp) / 8);
  if (buf.length < need) throw new ImageDecodeError(file, `truncated BMP: ${buf.length} bytes, pixel data needs ${need}`);

  // Palette (BGR0 quads, or BGR triples for the 12-byte core header).
  let palette: Uint8Array | null = null;
  if (bpp <= 8) {
    const entrySize = h.headerSize === 12 ? 3 : 4;
    const n = h.colorsUsed || 1 << bpp;
    const start = 14 + h.headerSize;
    if (start + n * entrySize > buf.length) throw new ImageDecodeError(file, 'truncated BMP palette');
    palette = new Uint8Array(256 * 3);
    for (let i = 0; i < n && i < 256; i++) {
      palette[i * 3] = buf[start + i * entrySize + 2]!;
      palette[i * 3 + 1] = buf[start + i * entrySize + 1]!;
      palette[i * 3 + 2] = buf[start + i * entrySize]!;
    }
  }
  let masks = h.masks;
  if (!masks && bpp === 16) masks = [0x7c00, 0x03e0, 0x001f, 0];
  if (!masks && bpp === 32) masks = [0x00ff0000, 0x0000ff00, 0x000000ff, 0];
  const mi = masks ? masks.map(maskInfo) : null;
  const hasAlphaMask = !!masks && masks[3] !== 0;

  const channels: 3 | 4 = hasAlphaMask ? 4 : 3;
  const out = new Uint8Array(width * height * channels);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let alphaSeen = false;
  for (let row = 0; row < height; row++) {
    const y = h.topDown ? row : height - 1 - row;
    const base = h.dataOffset + row * stride;
    let o = y * width * channels;
    for (let x = 0; x < width; x++, o += channels) {
      if (palette) {
        let idx: number;
        if (bpp === 8) idx = buf[base + x]!;
        else if (bpp === 4) idx = (buf[base + (x >> 1)]! >> (x & 1 ? 0 : 4)) & 0xf;
        else idx = (buf[base + (x >> 3)]! >> (7 - (x & 7))) & 1;
        out[o] = palette[idx * 3]!;
        out[o + 1] = palette[idx * 3 + 1]!;
        out[o + 2] = palette[idx * 3 + 2]!;
      } else if (bpp === 24) {
        const p = base + x * 3;
        out[o] = buf[p + 2]!;
        out[o + 1] = buf[p + 1]!;
        out[o + 2] = buf[p]!;
      } else {
        const v = bpp === 16 ? dv.getUint16(base + x * 2, true) : dv.getUint32(base + x * 4, true);
        for (let c = 0; c < channels; c++) {
          const { shift, max } = mi![c]!;
          out[o + c] = max ? Math.round((((v & masks![c]!) >>> shift) * 255) / max) : 0;
        }
        if (channels === 4 && out[o + 3] !== 0) alphaSeen = true;
      }
    }
  }
  if (channels === 4 && !alphaSeen) {
    // An alpha mask with all-zero alpha means "no alpha" in practice (common writer behaviour).
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0, j = 0; i < out.length; i += 4, j += 3) {
      rgb[j] = out[i]!;
      rgb[j + 1] = out[i + 1]!;
      rgb[j + 2] = out[i + 2]!;
    }
    return { data: rgb, width, height, channels: 3 };
  }
  return { data: out, width, height, channels };
}

/** Encodes interleaved RGB 8-bit pixels as a 24-bit bottom-up BMP (for tests and fixtures). */
export function encodeBmp24(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + stride * height;
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  buf[0] = 0x42;
  buf[1] = 0x4d;
  dv.setUint32(2, size, true);
  dv.setUint32(10, 54, true);
  dv.setUint32(14, 40, true);
  dv.setInt32(18, width, true);
  dv.setInt32(22, height, true);
  dv.setUint16(26, 1, true);
  dv.setUint16(28, 24, true);
  dv.setUint32(34, stride * height, true);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      buf[row + x * 3] = rgb[s + 2]!;
      buf[row + x * 3 + 1] = rgb[s + 1]!;
      buf[row + x * 3 + 2] = rgb[s]!;
    }
  }
  return buf;
}
