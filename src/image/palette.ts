/**
 * Palette images (GIF, palette PNG) and the light low-pass the inspector gives them before tiling.
 *
 * A palette image holds at most 256 colours; encoders reach the colours between by error diffusion
 * (Floyd-Steinberg dither), a pixel-level texture laid over the smooth regions that show blur. The
 * inspector's network reads that texture as detail and misses blur under it (model card, session 34:
 * after a dithered 256-colour GIF round trip it found defocus on 28 and motion blur on 17 of 40
 * synthetic images, 40 and 32 before). A separable 3 x 3 low-pass `[a, 1 - 2a, a]` at native
 * resolution takes most of the dither out; with a = 0.1 (this code) it found 34 and 27 and kept as
 * many clean GIFs clean (36 of 40).
 * Pure TypeScript on interleaved 8-bit pixels, so the Node and browser inspectors share it.
 */

/** Largest low-pass weight: at 1/3 the kernel is a 3-tap box; above it the centre weighs less than its neighbours. */
export const PALETTE_LOWPASS_MAX = 1 / 3;

/** Whether `a` is a low-pass weight: a number in (0, 1/3]. */
export function isPaletteLowpassWeight(a: unknown): a is number {
  return typeof a === 'number' && a > 0 && a <= PALETTE_LOWPASS_MAX;
}

/**
 * Whether encoded image bytes are a palette image: a GIF (always indexed colour), or a PNG whose
 * IHDR colour type is 3 (indexed). Reads the header only; anything else (and too few bytes) is not.
 */
export function isPaletteImage(bytes: Uint8Array): boolean {
  // GIF87a / GIF89a
  const gif = bytes.length >= 6 && bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x38 && (bytes[4] === 0x37 || bytes[4] === 0x39) && bytes[5] === 0x61;
  if (gif) return true;
  // PNG: 8-byte signature, then the IHDR chunk (length 4, type 4, width 4, height 4, bit depth 1, colour type 1).
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 26 || !png.every((b, i) => bytes[i] === b)) return false;
  const ihdr = bytes[12] === 0x49 && bytes[13] === 0x48 && bytes[14] === 0x44 && bytes[15] === 0x52;
  return ihdr && bytes[25] === 3;
}

/**
 * The separable low-pass `[a, 1 - 2a, a]` along rows, then columns, of interleaved 8-bit pixels
 * ([H, W, channels]); every channel alike, edges replicated, rounded to 8 bits once at the end.
 * `a` in (0, 1/3]. Returns a new buffer of the same layout; besides it, only three rows of
 * working memory (a 100 MP image must not cost 12 bytes per pixel more).
 */
export function paletteLowpass(pixels: ArrayLike<number>, width: number, height: number, channels: number, a: number): Uint8ClampedArray {
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0 && Number.isInteger(channels) && channels > 0)) {
    throw new RangeError(`paletteLowpass: width, height and channels must be positive integers; got ${width} x ${height} x ${channels}`);
  }
  if (pixels.length !== width * height * channels) {
    throw new RangeError(`paletteLowpass: ${pixels.length} values for ${width} x ${height} x ${channels} pixels (${width * height * channels} expected)`);
  }
  if (!isPaletteLowpassWeight(a)) throw new RangeError(`paletteLowpass: the weight must be in (0, 1/3]; got ${a}`);
  const c = 1 - 2 * a;
  const rowStride = width * channels;
  // Rows after the horizontal pass, row y in slot y % 3: rows y - 1, y and y + 1 are all a column needs.
  const ring = [0, 1, 2].map(() => new Float32Array(rowStride));
  const horizontal = (y: number) => {
    const into = ring[y % 3]!;
    const row = y * rowStride;
    for (let x = 0; x < width; x++) {
      const left = row + Math.max(x - 1, 0) * channels;
      const here = row + x * channels;
      const right = row + Math.min(x + 1, width - 1) * channels;
      for (let k = 0; k < channels; k++) into[x * channels + k] = a * pixels[left + k]! + c * pixels[here + k]! + a * pixels[right + k]!;
    }
  };
  const out = new Uint8ClampedArray(pixels.length); // rounds and clamps on store
  horizontal(0);
  for (let y = 0; y < height; y++) {
    if (y + 1 < height) horizontal(y + 1);
    const up = ring[Math.max(y - 1, 0) % 3]!;
    const here = ring[y % 3]!;
    const down = ring[Math.min(y + 1, height - 1) % 3]!;
    const at = y * rowStride;
    for (let i = 0; i < rowStride; i++) out[at + i] = a * up[i]! + c * here[i]! + a * down[i]!;
  }
  return out;
}
