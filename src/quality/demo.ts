/**
 * The built-in default for `attnvision inspect --demo`: a procedural dead-leaves scene, clean and
 * with each degradation applied (seeded), written to a temp folder so the shipped model can be
 * tried without any photo at hand.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deadLeaves } from '../data/synth/dead_leaves.js';
import { applyDegradations, Rng } from '../degrade/index.js';
import { writeImage } from '../image/io.js';
import { QUALITY_LABELS } from './labels.js';

/** Writes the demo images and returns their paths (clean first). */
export async function writeDemoImages(size = 384, seed = 7): Promise<string[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'attnvision-demo-'));
  const scene = deadLeaves(seed, { size, rMin: 3 });
  const files: string[] = [];
  const clean = path.join(dir, 'clean.png');
  await writeImage(clean, scene);
  files.push(clean);
  for (const label of QUALITY_LABELS) {
    const { image } = await applyDegradations(scene, [{ name: label, severity: 0.7 }], new Rng(seed + label.length));
    const f = path.join(dir, `${label}.png`);
    await writeImage(f, image);
    files.push(f);
  }
  return files;
}
