/**
 * Typed errors of image I/O. Every failure to read an image (empty, truncated, not an image,
 * unsupported format, too many pixels) becomes an `ImageDecodeError` naming the file and the reason,
 * so a batch job can report it per file and carry on.
 */
import { AttnvisionError } from '../util/errors.js';

export class ImageDecodeError extends AttnvisionError {
  /**
   * @param file   path of the image, or `<buffer>` when decoding from memory
   * @param reason short human-readable cause, e.g. "empty file (0 bytes)"
   */
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: cannot decode image: ${reason}`);
  }
}
