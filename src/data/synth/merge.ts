/**
 * Merging synthesizer manifests: one manifest whose lines are those of several, so that a split
 * larger than one synth run (say, the validation images of two 512 px runs) can be read by
 * `calibrate`, `package-inspector --calibrate` and `eval` as one. Every line is kept as is but
 * for its `file`, rewritten relative to the merged manifest's folder, and its `id`, renumbered.
 * Written atomically; a file named by two input lines is an error naming both.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../util/fs.js';

export class ManifestMergeError extends Error {}

/** Writes `out` with the lines of `inputs` in order; returns the number of lines. */
export async function mergeManifests(out: string, inputs: readonly string[]): Promise<number> {
  if (inputs.length < 2) throw new ManifestMergeError(`merge: expected at least two manifests but received ${inputs.length}`);
  const outDir = path.dirname(path.resolve(out));
  const lines: string[] = [];
  const seen = new Map<string, string>();
  for (const input of inputs) {
    const dir = path.dirname(path.resolve(input));
    let text: string;
    try {
      text = await fs.readFile(input, 'utf8');
    } catch (e) {
      throw new ManifestMergeError(`${input}: cannot read (${(e as Error).message})`);
    }
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      const where = `${input}:${i + 1}`;
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch (e) {
        throw new ManifestMergeError(`${where}: not JSON (${(e as Error).message})`);
      }
      if (typeof entry.file !== 'string' || !entry.file) throw new ManifestMergeError(`${where}: no "file" field`);
      const abs = path.resolve(dir, entry.file);
      const other = seen.get(abs);
      if (other) throw new ManifestMergeError(`${where}: ${abs} is also named by ${other}`);
      seen.set(abs, where);
      lines.push(JSON.stringify({ ...entry, id: lines.length, file: path.relative(outDir, abs).split(path.sep).join('/') }));
    });
  }
  await writeFileAtomic(out, lines.join('\n') + '\n');
  return lines.length;
}
