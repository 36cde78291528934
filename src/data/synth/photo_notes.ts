/**
 * Photo notes: which clean source photos have blurred regions of their own. A photo folder may
 * carry a `LICENSES.tsv` (tab-separated, a header row naming at least the columns `file` and
 * `notes`), as `shared/photos` does. Its notes name photos with an intentional shallow depth of
 * field (bokeh backgrounds) or intentional motion blur; their soft regions must never be labelled
 * sharp. The default sharpness test (sharpness.ts) does not see smooth bokeh, whose low-contrast
 * tiles it skips as untextured, so crops of these photos get a stricter test (render.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AttnvisionError } from '../../util/errors.js';
import type { SharpnessOptions } from './sharpness.js';

export class PhotoNotesError extends AttnvisionError {}

/** File name of the notes table inside a photo folder. */
export const PHOTO_NOTES_FILE = 'LICENSES.tsv';

/** Notes that mark a photo as partly blurred on purpose. */
const PARTLY_BLURRED = /shallow depth of field|motion blur|bokeh|defocused/i;

/**
 * The test a crop of a partly blurred photo must pass: three quarters of its 32 px tiles textured
 * (a smooth bokeh region fails this) and at most 5% of those soft (the default asks 30% and 15%).
 * On 12 random 256 px crops per photo of `shared/photos` at decode scale 0.5 (session 18), it
 * passes 5% of the crops of the photos noted as partly blurred (default test: 13%) and 43% of
 * the others' (default 57%).
 */
export const STRICT_SHARPNESS: Readonly<SharpnessOptions> = { minTextured: 0.75, maxSoft: 0.05 };

/** file -> notes of a photo folder's notes table; an empty map when the folder has none. */
export async function readPhotoNotes(dir: string): Promise<Map<string, string>> {
  const file = path.join(dir, PHOTO_NOTES_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new PhotoNotesError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const rows = text.split(/\r?\n/).map((l, i) => ({ line: i + 1, cells: l.split('\t') })).filter((r) => r.cells.some((c) => c.trim()));
  const header = rows.shift();
  const fileCol = header?.cells.indexOf('file') ?? -1;
  const notesCol = header?.cells.indexOf('notes') ?? -1;
  if (fileCol < 0 || notesCol < 0) throw new PhotoNotesError(`${file}:1: expected a header row with the columns "file" and "notes" but found "${header?.cells.join(', ') ?? ''}"`);
  const notes = new Map<string, string>();
  for (const { line, cells } of rows) {
    const name = cells[fileCol]?.trim();
    if (!name) throw new PhotoNotesError(`${file}:${line}: no file name in column ${fileCol + 1}`);
    notes.set(name, cells[notesCol]?.trim() ?? '');
  }
  return notes;
}

/** The photos (of `names`) whose notes say they are partly blurred on purpose, sorted. */
export function partlyBlurredPhotos(notes: ReadonlyMap<string, string>, names: readonly string[]): string[] {
  return names.filter((n) => PARTLY_BLURRED.test(notes.get(n) ?? '')).sort();
}
