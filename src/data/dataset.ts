/**
 * Datasets as lists of sample descriptors (file + target), read lazily by the loader:
 * - image folders: one sub-folder per class (single-label);
 * - manifest sets: `manifest.jsonl` lines {file, labels, severities, split, ...} as written by
 *   `attnvision synth` (multi-label with per-label severity).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AttnvisionError } from '../util/errors.js';
import { readJsonlLines } from '../io/jsonl.js';
import { isRegularFile } from '../util/fs.js';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.bmp'];

export interface Sample {
  file: string;
  /** Single-label class index. */
  label: number;
  /** Multi-label targets (0/1 per class) when the dataset is multi-label. */
  labels?: Float32Array;
  /** Per-class severity in [0, 1] (0 where absent). */
  severities?: Float32Array;
  /** Manifest sets: the image's source kind (`source.kind` of a synthesizer line: photo, dead-leaves), when given. */
  source?: string;
}

export interface Dataset {
  readonly classes: readonly string[];
  readonly samples: readonly Sample[];
  readonly multiLabel: boolean;
  readonly root: string;
}

export class DatasetError extends AttnvisionError {}

function checkDistinct(classes: readonly string[], where: string): void {
  const dup = classes.filter((c, i) => classes.indexOf(c) !== i);
  if (dup.length) throw new DatasetError(`${where}: label "${dup[0]}" is given twice (labels: ${classes.join(', ')})`);
  if (classes.some((c) => !c.trim())) throw new DatasetError(`${where}: empty label name in [${classes.join(', ')}]`);
}

/** Reads `root/<class>/*.{jpg,png,...}`; classes sorted by name (or in the order given). */
export async function imageFolder(root: string, classes?: readonly string[]): Promise<Dataset> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(root, { withFileTypes: true });
  } catch (e) {
    throw new DatasetError(`${root}: cannot read image folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const found = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  const cls = classes ? [...classes] : found;
  checkDistinct(cls, root);
  if (!cls.length) throw new DatasetError(`${root}: no class sub-folders found (expected root/<class>/<image files>)`);
  const samples: Sample[] = [];
  for (let c = 0; c < cls.length; c++) {
    const dir = path.join(root, cls[c]!);
    let files: string[] = [];
    try {
      files = (await fs.readdir(dir)).filter((f) => IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase())).sort();
    } catch {
      if (classes) continue; // a requested class may be absent from this split
    }
    for (const f of files) samples.push({ file: path.join(dir, f), label: c });
  }
  if (!samples.length) throw new DatasetError(`${root}: no images found in ${cls.length} class folders`);
  return { classes: cls, samples, multiLabel: false, root };
}

export interface ManifestLine {
  file: string;
  labels: string[];
  severities?: Record<string, number> | number[];
  split?: string;
  /** The synthesizer's record of what the image was made from; `kind` is e.g. photo or dead-leaves. */
  source?: { kind?: unknown };
}

/** The manifest of an unfinished synth run (data/synth/generate.ts). */
export const PARTIAL_MANIFEST = 'manifest.partial.jsonl';

/**
 * A synthesizer output folder whose run has not finished holds only manifest.partial.jsonl: an
 * error saying so (and how to finish it), never a dataset of the samples rendered so far.
 */
export async function refuseUnfinishedSynth(dir: string): Promise<void> {
  const partial = path.join(dir, PARTIAL_MANIFEST);
  if (!(await isRegularFile(partial))) return;
  const lines = (await fs.readFile(partial, 'utf8')).split('\n').filter((l) => l.trim()).length;
  throw new DatasetError(`${dir}: an unfinished synth run (${lines} samples so far, no manifest.jsonl yet): run the same synth command again to finish it`);
}

/** A manifest given as its file or as the folder holding it (a synthesizer output folder). */
export async function resolveManifest(spec: string): Promise<string> {
  const st = await fs.stat(spec).catch(() => null);
  if (!st?.isDirectory()) return spec;
  const inside = path.join(spec, 'manifest.jsonl');
  if (await isRegularFile(inside)) return inside;
  await refuseUnfinishedSynth(spec);
  throw new DatasetError(`${spec}: a folder without manifest.jsonl (give the manifest file or the synthesizer's output folder)`);
}

/**
 * Reads a manifest.jsonl (paths relative to its folder, or absolute). `classes` fixes the label order
 * (labels absent from `classes`, such as "clean", mean "no positive label").
 * With `strictLabels`, a manifest label that is neither one of `classes` nor "clean" is an error
 * naming the line (an inspector scored on such a row would count it as clean). Without it such
 * labels are dropped, so a model can be trained on a subset of a manifest's labels.
 */
export async function manifestDataset(file: string, classes: readonly string[], split?: string, opts: { strictLabels?: boolean } = {}): Promise<Dataset> {
  const root = path.dirname(file);
  checkDistinct(classes, file);
  const samples: Sample[] = [];
  for (const { line, value: m } of await readJsonlLines<ManifestLine>(file, { error: DatasetError })) {
    if (!m || typeof m !== 'object' || typeof m.file !== 'string' || !Array.isArray(m.labels)) throw new DatasetError(`${file}:${line}: expected {file, labels[]}`);
    if (split && m.split !== split) continue;
    const labels = new Float32Array(classes.length);
    const severities = new Float32Array(classes.length);
    m.labels.forEach((l, j) => {
      const c = classes.indexOf(l);
      if (c < 0 && opts.strictLabels && l !== 'clean') throw new DatasetError(`${file}:${line}: label "${l}" is not one of ${classes.join(', ')} (or clean)`);
      if (c < 0) return;
      labels[c] = 1;
      const sev = Array.isArray(m.severities) ? m.severities[j] : m.severities?.[l];
      severities[c] = typeof sev === 'number' ? sev : 1;
    });
    const first = labels.findIndex((v) => v === 1);
    const source = typeof m.source?.kind === 'string' ? m.source.kind : undefined;
    samples.push({ file: path.isAbsolute(m.file) ? m.file : path.join(root, m.file), label: first, labels, severities, ...(source !== undefined ? { source } : {}) });
  }
  if (!samples.length) throw new DatasetError(`${file}: no samples${split ? ` in split "${split}"` : ''}`);
  return { classes: [...classes], samples, multiLabel: true, root };
}
