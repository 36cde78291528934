/**
 * Photo split files: an explicit photo -> split map (`synth --splits-from` reads one as well as a
 * synth.json), and `widenHeldOut`, which makes one from an existing split by moving some training
 * photos into val and test.
 *
 * Why: the seeded split (plan.ts assignSplits) draws 10% of the photos for val and 10% for test
 * at random, whatever their size. A 512 px split can only crop photos with a short side of at
 * least 512 px whose crops pass the sharpness test, so of the 13 val photos of `shared/photos`
 * only 4 served the 512 px val split (one of them a grainy scan that took half its false labels;
 * models/MODEL_CARD.md). Widening keeps every held-out photo held out (a model trained on the old
 * training split is still fair on the old val and test photos) and adds training photos that a
 * 512 px split can use: large enough, not partly blurred on purpose, spread over the kinds of
 * content the notes name (photoKind), so that no one kind decides a split.
 */
import { promises as fs } from 'node:fs';
import { Rng } from '../../degrade/rng.js';
import { AttnvisionError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/fs.js';
import { ownProblemPhotos, partlyBlurredPhotos } from './photo_notes.js';
import { SPLITS, type Split } from './plan.js';

export class PhotoSplitError extends AttnvisionError {}

/** `kind` of a photo split file. */
export const PHOTO_SPLIT_KIND = 'photo-split';

export interface PhotoSplitFile {
  version: 1;
  kind: typeof PHOTO_SPLIT_KIND;
  /** How it was made (free text: base split, options, seed). */
  made: string;
  /** Photo -> split, every photo of the folder. */
  splits: Record<string, Split>;
  /** The training photos moved to val and test, in the order they were drawn. */
  moved: { photo: string; split: Split; kind: PhotoKind }[];
}

/** Coarse content kinds from a photo's notes, to spread the moved photos over. */
export type PhotoKind = 'own-problem' | 'texture' | 'sky' | 'dark' | 'scene';

/** The kind of a photo: it has a problem of its own (photo_notes.ts), else texture, sky or low detail, dark grading, or an ordinary scene. */
export function photoKind(notes: string, ownProblem: boolean): PhotoKind {
  if (ownProblem) return 'own-problem';
  if (/\btexture/i.test(notes)) return 'texture';
  if (/\bsky\b|low detail/i.test(notes)) return 'sky';
  if (/\bdark\b|low-key/i.test(notes)) return 'dark';
  return 'scene';
}

export interface WidenOptions {
  /** Training photos to move to val and to test. */
  toVal: number;
  toTest: number;
  /** Candidates need a short side of at least this many px (a 512 px split crops ~560 px). */
  minSide: number;
  seed: number;
}

export interface PhotoInfo {
  name: string;
  width: number;
  height: number;
}

/**
 * The split `base` with `toVal + toTest` of its training photos moved: candidates are training
 * photos with a short side >= minSide that are not partly blurred on purpose. They are drawn
 * from their kinds in proportion to each kind's number of candidates (photos in a seeded order
 * within a kind) and dealt to val and test in turn, each pick going to the split that is further
 * from its quota. Val and test photos of
 * `base` stay where they are. Errors when there are too few candidates.
 */
export function widenHeldOut(base: ReadonlyMap<string, Split>, photos: readonly PhotoInfo[], notes: ReadonlyMap<string, string>, opts: WidenOptions): PhotoSplitFile {
  const where = 'photo split';
  for (const [k, v] of [['toVal', opts.toVal], ['toTest', opts.toTest], ['minSide', opts.minSide]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new PhotoSplitError(`${where}: expected ${k} to be a whole number >= 0 but received ${v}`);
  }
  const missing = photos.filter((p) => !base.has(p.name)).map((p) => p.name);
  if (missing.length) throw new PhotoSplitError(`${where}: the base split has no split for ${missing.length} photo(s) of the folder: ${missing.slice(0, 5).join(', ')}`);
  const names = photos.map((p) => p.name);
  const blurred = new Set(partlyBlurredPhotos(notes, names));
  const own = ownProblemPhotos(notes, names);
  const candidates = photos
    .filter((p) => base.get(p.name) === 'train' && Math.min(p.width, p.height) >= opts.minSide && !blurred.has(p.name))
    .map((p) => p.name)
    .sort();
  const want = opts.toVal + opts.toTest;
  if (candidates.length < want) throw new PhotoSplitError(`${where}: ${want} training photos to move but only ${candidates.length} have a short side >= ${opts.minSide} px and are not partly blurred`);
  const rng = new Rng(opts.seed).fork('widen');
  const byKind = new Map<PhotoKind, string[]>();
  for (const n of candidates) {
    const k = photoKind(notes.get(n) ?? '', own[n] !== undefined);
    byKind.set(k, [...(byKind.get(k) ?? []), n]);
  }
  const kinds = rng.shuffle([...byKind.keys()].sort());
  for (const k of kinds) byKind.set(k, rng.shuffle(byKind.get(k)!));
  const splits = Object.fromEntries(base) as Record<string, Split>;
  const moved: PhotoSplitFile['moved'] = [];
  const quota: Record<'val' | 'test', number> = { val: opts.toVal, test: opts.toTest };
  const filled: Record<'val' | 'test', number> = { val: 0, test: 0 };
  const drawn = new Map<PhotoKind, number>(kinds.map((k) => [k, 0]));
  const total = new Map<PhotoKind, number>(kinds.map((k) => [k, byKind.get(k)!.length]));
  while (moved.length < want) {
    // Kinds in proportion to their candidates (highest candidates / (drawn + 1) first; the
    // seeded kind order breaks ties), so ordinary scenes are not outnumbered by sky photos.
    const kind = kinds.filter((k) => byKind.get(k)!.length).reduce((a, b) => (total.get(b)! / (drawn.get(b)! + 1) > total.get(a)! / (drawn.get(a)! + 1) ? b : a));
    const photo = byKind.get(kind)!.shift()!;
    drawn.set(kind, drawn.get(kind)! + 1);
    // The split further from its quota (val on a tie); a split with quota 0 never gets one.
    const split = (['val', 'test'] as const).filter((s) => filled[s] < quota[s]).sort((a, b) => filled[a] / quota[a] - filled[b] / quota[b])[0]!;
    filled[split]++;
    splits[photo] = split;
    moved.push({ photo, split, kind });
  }
  return {
    version: 1,
    kind: PHOTO_SPLIT_KIND,
    made: `widenHeldOut: ${opts.toVal} to val, ${opts.toTest} to test, short side >= ${opts.minSide} px, seed ${opts.seed}`,
    splits: Object.fromEntries(Object.entries(splits).sort(([a], [b]) => (a < b ? -1 : 1))),
    moved,
  };
}

/** Whether parsed JSON is a photo split file (as opposed to a synth.json). */
export function isPhotoSplitFile(x: unknown): x is PhotoSplitFile {
  return !!x && typeof x === 'object' && (x as { kind?: unknown }).kind === PHOTO_SPLIT_KIND;
}

/** Photo -> split of a parsed photo split file; errors name the file and the bad entry. */
export function photoSplitMap(file: string, x: PhotoSplitFile): Map<string, Split> {
  if (x.version !== 1 || !x.splits || typeof x.splits !== 'object' || Array.isArray(x.splits)) throw new PhotoSplitError(`${file}: not a photo split file (expected version 1 with a "splits" object)`);
  const out = new Map<string, Split>();
  for (const [photo, split] of Object.entries(x.splits)) {
    if (!SPLITS.includes(split)) throw new PhotoSplitError(`${file}: photo ${photo}: expected one of ${SPLITS.join(', ')} but found "${String(split)}"`);
    out.set(photo, split);
  }
  if (!out.size) throw new PhotoSplitError(`${file}: the split file names no photos`);
  return out;
}

/** Reads a photo split file. */
export async function readPhotoSplitFile(file: string): Promise<Map<string, Split>> {
  let x: unknown;
  try {
    x = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    throw new PhotoSplitError(`${file}: cannot read the photo split file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!isPhotoSplitFile(x)) throw new PhotoSplitError(`${file}: not a photo split file (no "kind": "${PHOTO_SPLIT_KIND}")`);
  return photoSplitMap(file, x);
}

/** Writes a photo split file atomically. */
export async function writePhotoSplitFile(file: string, x: PhotoSplitFile): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(x, null, 2) + '\n');
}
