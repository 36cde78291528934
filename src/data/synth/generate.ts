/**
 * The dataset generator behind `attnvision synth`: plans samples (plan.ts), renders them on a pool
 * of worker threads (worker.ts -> render.ts), streams PNGs to disk and appends one manifest line
 * per finished sample, with bounded memory (at most two chunks of jobs in flight per worker, and
 * workers send back only manifest lines).
 *
 * Output folder:
 *   synth.json                         the config (seed, sizes, photo list); a resume must match it
 *   manifest.jsonl                     one ManifestEntry per line, sorted by id; written only when
 *                                      every sample of the plan is rendered, so its presence means
 *                                      the dataset is complete
 *   manifest.partial.jsonl             while a run is unfinished: the lines so far (appended as
 *                                      samples finish); readers refuse a folder that has only this
 *   <split>/<label|mixed>/<id>.png     images; 'mixed' holds the multi-label samples
 *   preview.png                        contact sheet with --preview
 *
 * Resume: every sample is a pure function of (config, id). On restart, stale temp files are
 * deleted, manifest lines whose image exists are kept (a torn last line is dropped), and only the
 * missing ids are rendered, so nothing is duplicated or lost. An interrupted run leaves only
 * manifest.partial.jsonl, so train, eval and calibrate cannot take it for the whole dataset.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ImageDecodeError } from '../../image/errors.js';
import { probeImage } from '../../image/io.js';
import { parseJsonl } from '../../io/jsonl.js';
import { ArgumentError, AttnvisionError, checkInt, checkNumber } from '../../util/errors.js';
import { makeDirs, removeStaleTemps, trackTempDir, writeFileAtomic } from '../../util/fs.js';
import { Progress } from '../../util/progress.js';
import { IMAGE_EXTENSIONS, PARTIAL_MANIFEST } from '../dataset.js';
import { ownProblemPhotos, partlyBlurredPhotos, PHOTO_NOTES_FILE, readPhotoNotes } from './photo_notes.js';
import { checkFinishShares, type FinishShares } from './finish.js';
import { isPhotoSplitFile, photoSplitMap } from './photo_split.js';
import { NOISE_FLOOR_RANGE, photoSplits, planJobs, SPLITS, type Job, type Split, type SynthConfig } from './plan.js';
import { PhotoCache, renderJob, type ManifestEntry } from './render.js';

/** What to synthesize; the opt-in finish shares are FinishShares (finish.ts). */
export interface SynthOptions extends FinishShares {
  /** Output folder. */
  out: string;
  /** Samples per class (clean + 7 degradations). */
  perClass: number;
  /** Image side in px (default 256). */
  size?: number;
  /** Run seed (default 0). */
  seed?: number;
  /** Folder of clean photos; procedural dead leaves only when absent. */
  photos?: string;
  /** Share of each degradation class's samples with a second label (default 0.2). */
  mix?: number;
  /** Worker threads (default: available cores; 0 renders in the calling thread). */
  workers?: number;
  /** No progress output (default false). */
  quiet?: boolean;
  /** Stop after this many new samples (testing interrupted runs; default: all). */
  limit?: number;
  /**
   * synth.json of another dataset whose photo -> split assignment this one keeps (photos the
   * other dataset did not use are left out), e.g. for larger val/test images of the same photos;
   * or a photo split file (photo_split.ts).
   */
  splitsFrom?: string;
  /** Keep only the samples of these splits (default: all three). */
  onlySplits?: Split[];
  /** Photo decode scales to draw from, each in (0, 1] (default: render.ts PHOTO_SCALES). */
  photoScales?: number[];
  /**
   * Crops of photos whose notes (LICENSES.tsv in the photo folder, photo_notes.ts) name a shallow
   * depth of field or intentional motion blur must pass the strict sharpness test, for every label
   * (default false: the default test, skipped for 30% of the samples without a blur label).
   */
  strictPartlyBlurred?: boolean;
  /**
   * Photos whose notes name a problem of their own (grain, fog, visible JPEG artefacts, overall
   * softness; photo_notes.ts) serve only samples labelled with it (default false).
   */
  ownProblems?: boolean;
  /** Std at mid grey (8-bit levels) of the weakest noise label, in [4, 50] (default: 4, the noise model's bottom; plan.ts NOISE_FLOOR_VISIBLE). */
  noiseFloor?: number;
}

export interface SynthSummary {
  total: number;
  /** Rendered in this run. */
  generated: number;
  /** Already present from an earlier run. */
  resumed: number;
  seconds: number;
  imagesPerSecond: number;
  workers: number;
  /** Samples of the whole dataset (resumed ones included) moved off their planned photo (no sharp crop, or a problem of its own the labels deny): another photo or dead leaves used instead. */
  rejectedPhotos: number;
  /** Files of the photo folder left out: too small (a short side below the sample size) or unreadable. */
  skippedPhotos: SkippedPhoto[];
  /** manifest.jsonl, or manifest.partial.jsonl when the run stopped early (`limit`). */
  manifest: string;
  /** Whether every sample of the plan is rendered (manifest.jsonl written). */
  complete: boolean;
}

export class SynthError extends AttnvisionError {}

const CHUNK = 8;

/** A photo `listPhotos` left out, and why. */
export interface SkippedPhoto {
  name: string;
  kind: 'too-small' | 'unreadable';
  reason: string;
}

/** Usable photos of a folder: decodable headers, short side >= size. Sorted by name. */
export async function listPhotos(dir: string, size: number): Promise<{ photos: SynthConfig['photos']; skipped: SkippedPhoto[] }> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((f) => IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase())).sort();
  } catch (e) {
    throw new SynthError(`${dir}: cannot read photo folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const photos: SynthConfig['photos'] = [];
  const skipped: SkippedPhoto[] = [];
  for (const name of names) {
    try {
      const info = await probeImage(path.join(dir, name));
      if (Math.min(info.width, info.height) < size) skipped.push({ name, kind: 'too-small', reason: `smaller than ${size} px` });
      else photos.push({ name, width: info.width, height: info.height });
    } catch (e) {
      skipped.push({ name, kind: 'unreadable', reason: e instanceof ImageDecodeError ? e.reason : (e as Error).message });
    }
  }
  return { photos, skipped };
}

async function readManifest(file: string, outDir: string): Promise<ManifestEntry[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return [];
  }
  const entries: ManifestEntry[] = [];
  // A torn last line of an interrupted run is left out; its image is rendered again.
  for (const { value: e } of parseJsonl<ManifestEntry>(text, file, { skipBadLines: true })) {
    try {
      await fs.access(path.join(outDir, e.file));
      entries.push(e);
    } catch {
      // image missing: re-render
    }
  }
  return entries;
}

/** Photo -> split of the dataset described by another synth.json, or of a photo split file (photo_split.ts). */
async function readSplitsFrom(file: string): Promise<Map<string, Split>> {
  let other: SynthConfig;
  try {
    other = JSON.parse(await fs.readFile(file, 'utf8')) as SynthConfig;
  } catch (e) {
    throw new SynthError(`${file}: cannot read the synth.json to take splits from (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (isPhotoSplitFile(other)) return photoSplitMap(file, other);
  if (other?.version !== 1 || !Array.isArray(other.photos) || typeof other.seed !== 'number') throw new SynthError(`${file}: not a synth.json (expected version 1 with seed and photos)`);
  if (!other.photos.length) throw new SynthError(`${file}: that dataset used no photos, so it has no photo splits to keep`);
  return photoSplits(other);
}

function manifestText(entries: ManifestEntry[]): string {
  return entries.map((e) => JSON.stringify(e) + '\n').join('');
}

export async function synthesize(opts: SynthOptions): Promise<SynthSummary> {
  const where = 'synth';
  const size = checkInt(where, 'size', opts.size ?? 256, 32, 4096);
  const perClass = checkInt(where, 'perClass', opts.perClass, 1);
  const seed = checkInt(where, 'seed', opts.seed ?? 0, 0, 2 ** 32 - 1);
  const mix = checkNumber(where, 'mix', opts.mix ?? 0.2, 0, 1);
  const out = path.resolve(opts.out);
  const photosDir = opts.photos ? path.resolve(opts.photos) : null;
  const listed = photosDir ? await listPhotos(photosDir, size) : { photos: [], skipped: [] };
  let photos = listed.photos;
  if (photosDir && !photos.length) throw new SynthError(`${photosDir}: no usable photos (need decodable images with a short side >= ${size} px)`);
  let splits: Record<string, Split> | undefined;
  if (opts.splitsFrom) {
    if (!photosDir) throw new ArgumentError(`${where}: splitsFrom (${opts.splitsFrom}) needs a photo folder: procedural samples have no photo splits to keep`);
    const from = await readSplitsFrom(opts.splitsFrom);
    photos = photos.filter((p) => from.has(p.name));
    if (!photos.length) throw new SynthError(`${opts.splitsFrom}: none of its photos is usable here (${photosDir}, short side >= ${size} px)`);
    splits = Object.fromEntries(photos.map((p) => [p.name, from.get(p.name)!]));
  }
  let onlySplits: Split[] | undefined;
  if (opts.onlySplits) {
    const bad = opts.onlySplits.find((x) => !SPLITS.includes(x));
    if (bad !== undefined || !opts.onlySplits.length) throw new ArgumentError(`${where}: expected some of ${SPLITS.join(', ')} for onlySplits but received "${opts.onlySplits.join(',')}"`);
    onlySplits = SPLITS.filter((x) => opts.onlySplits!.includes(x));
  }
  if (opts.photoScales) {
    const bad = opts.photoScales.find((x) => !(Number.isFinite(x) && x > 0 && x <= 1));
    if (bad !== undefined || !opts.photoScales.length) throw new ArgumentError(`${where}: expected photoScales in (0, 1] but received "${opts.photoScales.join(',')}"`);
    if (!photosDir) throw new ArgumentError(`${where}: photoScales (${opts.photoScales.join(',')}) needs a photo folder`);
  }
  const finishShares = checkFinishShares(where, opts);
  if (opts.noiseFloor !== undefined) checkNumber(where, 'noiseFloor', opts.noiseFloor, ...NOISE_FLOOR_RANGE);
  // The photo folder's notes, read once for the options that need them (photo_notes.ts).
  let notesRead: Promise<Map<string, string>> | undefined;
  const photoNotes = async (option: string, purpose: string): Promise<Map<string, string>> => {
    if (!photosDir) throw new ArgumentError(`${where}: ${option} needs a photo folder`);
    const notes = await (notesRead ??= readPhotoNotes(photosDir));
    if (!notes.size) throw new SynthError(`${path.join(photosDir, PHOTO_NOTES_FILE)}: no photo notes to tell ${purpose} by (${option} needs a notes table with the columns file and notes)`);
    return notes;
  };
  const names = photos.map((p) => p.name);
  const partlyBlurred = opts.strictPartlyBlurred ? partlyBlurredPhotos(await photoNotes('strictPartlyBlurred', 'partly blurred photos'), names) : undefined;
  const ownProblems = opts.ownProblems ? ownProblemPhotos(await photoNotes('ownProblems', "the photos' own problems"), names) : undefined;
  const cfg: SynthConfig = {
    version: 1, seed, perClass, size, mix, photosDir, photos,
    ...(splits ? { splits } : {}),
    ...(onlySplits ? { onlySplits } : {}),
    ...(opts.photoScales ? { photoScales: [...opts.photoScales] } : {}),
    ...finishShares,
    ...(partlyBlurred ? { partlyBlurred } : {}),
    ...(ownProblems ? { ownProblems } : {}),
    ...(opts.noiseFloor !== undefined ? { noiseFloor: opts.noiseFloor } : {}),
  };

  // Nothing is written for a plan without samples (e.g. --only-splits val,test with a --per-class
  // so small that every sample lands in train).
  const jobs = planJobs(cfg);
  if (!jobs.length) throw new ArgumentError(`${where}: the plan has no samples (with --per-class ${cfg.perClass}${cfg.onlySplits ? ` and --only-splits ${cfg.onlySplits.join(',')}` : ''}, every sample falls in a split not kept); give a larger --per-class`);
  await makeDirs(out);
  const cfgFile = path.join(out, 'synth.json');
  const cfgText = JSON.stringify(cfg, null, 1);
  try {
    const old = await fs.readFile(cfgFile, 'utf8');
    if (old !== cfgText) throw new ArgumentError(`${where}: ${out} holds a dataset made with a different configuration (${cfgFile}); use a new --out folder or the same options`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await writeFileAtomic(cfgFile, cfgText);
  }
  await removeStaleTemps(out);
  const manifest = path.join(out, 'manifest.jsonl');
  const partial = path.join(out, PARTIAL_MANIFEST);
  // Lines of a finished run, of an unfinished one, or (older versions) of an unfinished run that
  // wrote manifest.jsonl as it went: all go to the partial manifest until the run completes.
  const doneById = new Map([...(await readManifest(manifest, out)), ...(await readManifest(partial, out))].map((e) => [e.id, e]));
  const doneEntries = [...doneById.values()].sort((a, b) => a.id - b.id);
  await writeFileAtomic(partial, manifestText(doneEntries));
  await fs.rm(manifest, { force: true });
  const done = new Set(doneEntries.map((e) => e.id));

  let todo = jobs.filter((j) => !done.has(j.id));
  // Consecutive jobs of one photo go to the same worker so its decoded photo is reused.
  todo.sort((a, b) => (a.photo ?? '').localeCompare(b.photo ?? '') || a.id - b.id);
  if (opts.limit !== undefined) todo = todo.slice(0, opts.limit);
  const chunks: Job[][] = [];
  for (let i = 0; i < todo.length; i += CHUNK) chunks.push(todo.slice(i, i + CHUNK));

  const nWorkers = Math.min(opts.workers ?? os.availableParallelism(), chunks.length);
  const progress = new Progress({ total: jobs.length, initial: done.size, label: 'synth', unit: 'img', quiet: opts.quiet ?? false });
  const t0 = Date.now();
  const fh = await fs.open(partial, 'a');
  let writeChain: Promise<unknown> = Promise.resolve();
  const onEntry = (e: ManifestEntry): void => {
    writeChain = writeChain.then(() => fh.write(JSON.stringify(e) + '\n'));
    progress.tick();
  };
  // The workers' temporary files are removed on Ctrl-C as the main thread's are.
  const untrackTemps = trackTempDir(out);
  try {
    if (nWorkers <= 0) {
      const cache = new PhotoCache(3);
      for (const chunk of chunks) for (const job of chunk) onEntry(await renderJob(job, cfg, out, cache));
    } else {
      await runPool(nWorkers, chunks, cfg, out, onEntry);
    }
  } finally {
    untrackTemps();
    await writeChain.catch(() => undefined);
    await fh.close();
  }
  progress.finish();
  // Final manifest sorted by id: identical whatever the worker count or interruptions. Written as
  // manifest.jsonl (and the partial one removed) only when every planned sample is there.
  const all = await readManifest(partial, out);
  const byId = new Map(all.map((e) => [e.id, e]));
  const complete = jobs.every((j) => byId.has(j.id));
  const sorted = manifestText([...byId.values()].sort((a, b) => a.id - b.id));
  await writeFileAtomic(complete ? manifest : partial, sorted);
  if (complete) await fs.rm(partial, { force: true });
  const seconds = (Date.now() - t0) / 1000;
  return {
    total: jobs.length,
    generated: todo.length,
    resumed: done.size,
    seconds,
    imagesPerSecond: seconds > 0 ? todo.length / seconds : 0,
    workers: nWorkers,
    rejectedPhotos: [...byId.values()].filter((e) => e.source.rejectedPhoto).length,
    skippedPhotos: listed.skipped,
    manifest: complete ? manifest : partial,
    complete,
  };
}

function runPool(n: number, chunks: Job[][], cfg: SynthConfig, outDir: string, onEntry: (e: ManifestEntry) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const url = new URL('./worker.js', import.meta.url);
    const workers: Worker[] = [];
    let next = 0;
    let pending = 0;
    let failed = false;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      for (const w of workers) void w.terminate();
      reject(err);
    };
    const feed = (w: Worker): void => {
      if (failed) return;
      if (next < chunks.length) {
        pending++;
        w.postMessage({ type: 'chunk', jobs: chunks[next++] });
      }
    };
    for (let i = 0; i < n; i++) {
      const w = new Worker(url, { workerData: { cfg, outDir } });
      workers.push(w);
      w.on('message', (msg: { type: 'entry'; entry: ManifestEntry } | { type: 'chunkDone' } | { type: 'error'; id: number; message: string }) => {
        if (msg.type === 'entry') onEntry(msg.entry);
        else if (msg.type === 'error') fail(new SynthError(`synth: sample ${msg.id} failed: ${msg.message}`));
        else {
          pending--;
          feed(w);
          if (pending === 0 && next >= chunks.length && !failed) {
            failed = true; // finished: stop further handling
            void Promise.all(workers.map((x) => x.terminate())).then(() => resolve());
          }
        }
      });
      w.on('error', (e) => fail(e));
      // Two chunks in flight per worker: the next one is ready when the current one ends.
      feed(w);
      feed(w);
    }
  });
}
