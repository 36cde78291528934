/**
 * The built-in default for `attnvision inspect --demo`: a procedural dead-leaves scene, clean and
 * with each degradation applied (seeded), written to a temp folder so the shipped model can be
 * tried without any photo at hand. Like the training data (data/synth/finish.ts) and every real
 * photo, the images carry mild camera sensor noise (2/255, after the optics, before compression),
 * except where the label brings its own (noise, low light): a noiseless render is not a photo.
 * The images are seeded, so every run writes the same files to the same folder
 * (`<tmp>/attnvision-demo-<uid>`, atomically), which is left for the user to look at and not filled up.
 */
import { makeDirs } from '../util/fs.js';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { deadLeaves } from '../data/synth/dead_leaves.js';
import { Rng } from '../degrade/index.js';
import { writeImage } from '../image/io.js';
import { QUALITY_LABELS } from './labels.js';
import { carriesSensorNoise, degradeWithSensorFinish, finishNoiseParams } from '../data/synth/finish.js';

/** Writes the demo images to `dir` (default `<tmp>/attnvision-demo`) and returns their paths (clean first). */
export async function writeDemoImages(size = 384, seed = 7, dir = path.join(tmpdir(), `attnvision-demo-${userInfo().uid}`)): Promise<string[]> {
  await makeDirs(dir);
  const scene = deadLeaves(seed, { size, rMin: 3 });
  const sensor = finishNoiseParams(2 / 255, new Rng(seed));
  const files: string[] = [];
  for (const label of ['clean', ...QUALITY_LABELS] as const) {
    const recipe = label === 'clean' ? [] : [{ name: label, severity: 0.7 }];
    const noise = carriesSensorNoise([label]) ? null : sensor;
    const { image } = await degradeWithSensorFinish(scene, recipe, noise, new Rng(seed + label.length), new Rng(seed + 1));
    const f = path.join(dir, `${label}.png`);
    await writeImage(f, image);
    files.push(f);
  }
  return files;
}
