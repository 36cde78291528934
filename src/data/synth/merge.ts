/**
 * Merging synthesizer manifests: one manifest whose lines are those of several, so that a split
 * larger than one synth run (say, the validation images of two 512 px runs) can be read by
 * `calibrate`, `package-inspector --calibrate` and `eval` as one. Every line is kept as is but
 * for its `file`, rewritten relative to the merged manifest's folder, and its `id`, renumbered.
 * Written atomically; a file named by two input lines is an error naming both.
 */
import path from 'node:path';
import { AttnvisionError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/fs.js';
import { readJsonlLines } from '../../io/jsonl.js';

export class ManifestMergeError extends AttnvisionError {}

/** Writes `out` with the lines of `inputs` in order; returns the number of lines. */
export async function mergeManifests(out: string, inputs: readonly string[]): Promise<number> {
  if (inputs.length < 2) throw new ManifestMergeError(`merge: expected at least two manifests but received ${inputs.length}`);
  const outDir = path.dirname(path.resolve(out));
  const lines: string[] = [];
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
      lines.push(JSON.stringify({ ...entry, id: lines.length, file: path.relative(outDir, abs).split(path.sep).join('/') }));
    }
  }
  await writeFileAtomic(out, lines.join('\n') + '\n');
  return lines.length;
}
