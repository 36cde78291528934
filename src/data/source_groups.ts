/**
 * Source-photo groups of a synthesizer manifest: every image file (resolved as manifestDataset
 * resolves it) -> the photo it was cropped from (`photo:<name>`), or the file itself for an image
 * without one (dead leaves). Crops of one photo share content and with it their errors, so
 * resampling (bootstrap.ts) and cross-validation folds (quality/objective_cv.ts) keep them together.
 */
import path from 'node:path';
import { readJsonl } from '../io/jsonl.js';

export async function sourcePhotoGroups(manifest: string): Promise<Map<string, string>> {
  const root = path.dirname(manifest);
  const lines = await readJsonl<{ file: string; source?: { photo?: string } }>(manifest);
  return new Map(lines.map((m) => {
    const file = path.isAbsolute(m.file) ? m.file : path.join(root, m.file);
    return [file, m.source?.photo ? `photo:${m.source.photo}` : file];
  }));
}
