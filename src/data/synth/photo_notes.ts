/**
 * Photo notes: which clean source photos have problems of their own. A photo folder may carry a
 * `LICENSES.tsv` (tab-separated, a header row naming at least the columns `file` and `notes`), as
 * `shared/photos` does.
 * - Partly blurred: notes naming an intentional shallow depth of field (bokeh backgrounds) or
 *   intentional motion blur; their soft regions must never be labelled sharp. The default
 *   sharpness test (sharpness.ts) does not see smooth bokeh, whose low-contrast tiles it skips as
 *   untextured, so crops of these photos get a stricter test (render.ts).
 * - Own problems: notes naming film grain, fog, visible JPEG artefacts or overall softness, which
 *   are what the labels noise, haze, jpeg and defocus_blur say. A crop of such a photo labelled
 *   without them would teach that the problem is clean, so these photos serve only samples
 *   labelled with every problem they have (render.ts).
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

/**
 * The problems a photo's notes name, as the labels that say them. Only unambiguous wording counts:
 * wood grain is texture, a dark low-key grading is a style (not an under-exposure), and intentional
 * bokeh is handled as partly blurred.
 */
const OWN_PROBLEMS: readonly { label: string; pattern: RegExp }[] = [
  { label: 'noise', pattern: /(?<!wood )\bgrain\b|\bnoisy\b/i },
  { label: 'haze', pattern: /\bfog(gy)?\b|\bhaz(e|y)\b|\bmist(y)?\b/i },
  { label: 'jpeg', pattern: /\bjpeg artefacts\b|\blow-bitrate source jpeg\b|\bcompressed\b/i },
  { label: 'defocus_blur', pattern: /\bsoft\b/i },
];

/** Photo -> the labels of the problems its notes name (OWN_PROBLEMS), for the photos of `names` that have any; keys sorted. */
export function ownProblemPhotos(notes: ReadonlyMap<string, string>, names: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const n of [...names].sort()) {
    const labels = OWN_PROBLEMS.filter((p) => p.pattern.test(notes.get(n) ?? '')).map((p) => p.label);
    if (labels.length) out[n] = labels;
  }
  return out;
}

/** Whether a sample labelled `labels` may take a crop of a photo with problems `own` (all of them among its labels). */
export function servesLabels(own: readonly string[] | undefined, labels: readonly string[]): boolean {
  return !own || own.every((l) => labels.includes(l));
}

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
