/**
 * Merging synthesizer manifests: one manifest whose lines are those of several, so that a split
 * larger than one synth run (say, the validation images of two 512 px runs) can be read by
 * `calibrate`, `package-inspector --calibrate` and `eval` as one. Every line is kept as is but
 * for its `file`, rewritten relative to the merged manifest's folder, and its `id`, renumbered.
 * Written atomically; a file named by two input lines is an error naming both.
 *
 * With `splits` (a photo -> split map, photo_split.ts), a line is kept only when its source photo
 * has, in that map, the split the line is in (dead-leaves lines are always kept): this takes
 * samples made on one photo split down to another that moved photos out of training. A photo the
 * map does not name is an error. One input is enough then.
 */
import path from 'node:path';
import { AttnvisionError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/fs.js';
import { readJsonlLines } from '../../io/jsonl.js';

export class ManifestMergeError extends AttnvisionError {}

export interface MergeOptions {
  /** Keep only lines whose source photo is in their own split in this map. */
  splits?: ReadonlyMap<string, string>;
}

/** Writes `out` with the lines of `inputs` in order; returns the number of lines written and dropped. */
export async function mergeManifests(out: string, inputs: readonly string[], opts: MergeOptions = {}): Promise<{ kept: number; dropped: number }> {
  const least = opts.splits ? 1 : 2;
  if (inputs.length < least) throw new ManifestMergeError(`merge: expected at least ${least === 1 ? 'one manifest' : 'two manifests'} but received ${inputs.length}`);
  const outDir = path.dirname(path.resolve(out));
  const lines: string[] = [];
  let dropped = 0;
  const seen = new Map<string, string>();
  for (const input of inputs) {
    const dir = path.dirname(path.resolve(input));
    for (const { line, value: entry } of await readJsonlLines<Record<string, unknown>>(input, { error: ManifestMergeError })) {
      const where = `${input}:${line}`;
      if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw new ManifestMergeError(`${where}: expected a JSON object`);
      if (typeof entry.file !== 'string' || !entry.file) throw new ManifestMergeError(`${where}: no "file" field`);
      const abs = path.resolve(dir, entry.file);
      const other = seen.get(abs);
      if (other) throw new ManifestMergeError(`${where}: ${abs} is also named by ${other}`);
      seen.set(abs, where);
      if (opts.splits && !inSplit(entry, opts.splits, where)) {
        dropped++;
        continue;
      }
      lines.push(JSON.stringify({ ...entry, id: lines.length, file: path.relative(outDir, abs).split(path.sep).join('/') }));
    }
  }
  if (!lines.length) throw new ManifestMergeError(`merge: no line of ${inputs.join(', ')} is left to write to ${out}`);
  await writeFileAtomic(out, lines.join('\n') + '\n');
  return { kept: lines.length, dropped };
}

/** Whether a manifest line's source photo (if any) is in the line's split under `splits`. */
function inSplit(entry: Record<string, unknown>, splits: ReadonlyMap<string, string>, where: string): boolean {
  const photo = (entry.source as { photo?: unknown } | undefined)?.photo;
  if (typeof photo !== 'string') return true;
  const split = splits.get(photo);
  if (split === undefined) throw new ManifestMergeError(`${where}: photo ${photo} has no split in the photo split`);
  return split === entry.split;
}
