/**
 * attnvision/image: image I/O (sharp + BMP decoder), the ImageF32 tensor type, sRGB/linear
 * conversion, crop/pad/resize and PNG/JPEG encoding. Node-only (uses sharp and node:fs).
 *
 * ```ts
 * import { readImage, resize, writeImage } from 'attnvision/image';
 * const img = await readImage('in.bmp');            // by content, EXIF-oriented, CHW sRGB in [0,1]
 * await writeImage('out.png', resize(img, 256, 256));
 * ```
 */
export * from './errors.js';
export * from './tensor.js';
export * from './bmp.js';
export * from './io.js';
export * from './transform.js';
export * from './panel.js';
export * from './palette.js';
