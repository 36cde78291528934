/**
 * `attnvision synth`: writes a synthetic image-quality dataset (clean + 7 degradations, optional
 * multi-label mixes) from a folder of clean photos or procedural dead leaves, with manifest.jsonl,
 * splits by source photo, resume, and an optional contact sheet.
 */
import path from 'node:path';
import type { Command } from '../command.js';
import { flagNumber, flagString, parseArgs, parseDecimal } from '../command.js';
import { ArgumentError } from '../../util/errors.js';
import { synthesize } from '../../data/synth/generate.js';
import { NOISE_FLOOR_RANGE, NOISE_FLOOR_VISIBLE, SPLITS, type Split } from '../../data/synth/plan.js';
import { FINISH_SHARE_FLAGS, type FinishShares } from '../../data/synth/finish.js';
import { deadLeaves } from '../../data/synth/dead_leaves.js';
import { writeContactSheet } from '../../data/synth/contact_sheet.js';
import type { ManifestEntry } from '../../data/synth/render.js';
import { readImage } from '../../image/io.js';
import { readJsonl } from '../../io/jsonl.js';
import { crop, resize } from '../../image/transform.js';
import type { ImageF32 } from '../../image/tensor.js';

/** The help lines of the finish-share flags, from FINISH_SHARE_FLAGS (flag column 19 wide, default last). */
function finishShareHelp(): string {
  const lines: string[] = [];
  for (const { flag, help } of FINISH_SHARE_FLAGS) {
    help.forEach((text, i) => {
      const head = i === 0 ? `  --${flag} P`.padEnd(19) : ' '.repeat(19);
      lines.push(head + text + (i === help.length - 1 ? '   [0]' : ''));
    });
  }
  return lines.join('\n');
}

const usage = `Usage: attnvision synth --out DIR --per-class N [--size 256] [--seed S] [--photos DIR]
                        [--mix 0.2] [--workers N] [--preview] [--quiet]
                        [--splits-from OTHER/synth.json|SPLIT.json] [--only-splits val,test]
                        [--photo-scales 0.35,0.5,0.7] [--soft-finish 0]
                        [--noise-grain 0] [--codec-finish 0] [--isp-noise 0] [--rain-shutter 0]
                        [--gif-finish 0] [--strict-dof] [--own-problems] [--noise-floor ${NOISE_FLOOR_RANGE[0]}]

Synthesises a labelled image-quality dataset: N images for 'clean' and for each degradation
(defocus_blur, motion_blur, noise, rain, haze, low_light, jpeg), at random severities.

Output: DIR/<split>/<label|mixed>/<id>.png, DIR/manifest.jsonl (file, labels, severities, every
parameter, source photo and crop box, split), DIR/synth.json (config). Splits (train/val/test) are
made by source photo: no photo contributes to two splits. Re-running the same command resumes an
interrupted run without duplicating or losing files; until the run completes the lines so far are
in DIR/manifest.partial.jsonl, and train, eval and calibrate refuse the folder.

Options:
  --out DIR        output folder                                            (required)
  --per-class N    samples per class                                        (required)
  --size S         image side in px                                         [256]
  --seed S         run seed; the same seed gives the same dataset            [0]
  --photos DIR     folder of clean photos (else procedural dead leaves only); photos with a short
                   side below S are left out (counted), unreadable ones named with a warning
  --mix F          share of each degradation class with a second label      [0.2]
  --workers N      worker threads (0 = in-process)                          [all cores]
  --preview        also write DIR/preview.png: one row per class, severity rising
  --quiet          no progress output
  --splits-from F  keep the photo -> split assignment of the dataset whose synth.json is F
                   (photos it did not use are left out); for a second dataset of the same photos,
                   e.g. larger val/test images, with no photo crossing splits; F may also be
                   a photo split file (scripts/photo_split.mjs, docs/degradations.md); needs --photos
  --only-splits L  keep only these splits (comma list of train, val, test); the plan is the full
                   one, filtered, so N still counts samples per class before the filter
  --photo-scales L photo decode scales to draw crops from (comma list in (0, 1]; 1 = native
                   resolution, with the photo's own grain)                   [0.35,0.5,0.7]
${finishShareHelp()}
  --strict-dof     photos whose notes (LICENSES.tsv in --photos: columns file, notes) name a
                   shallow depth of field or intentional motion blur give only crops that pass
                   a strict sharpness test (3/4 of the crop textured, almost none of it soft),
                   for every label, so their bokeh is never labelled sharp
  --noise-floor S  std at mid grey, in 8-bit levels, of the weakest noise label (${NOISE_FLOOR_RANGE[0]}-${NOISE_FLOOR_RANGE[1]}): noise
                   severities start where the noise model reaches S instead of at ${NOISE_FLOOR_RANGE[0]}; ${NOISE_FLOOR_VISIBLE}
                   keeps the weakest label 1.8x as strong as a clean photo crop's own grain plus
                   the sensor-noise finish (docs/degradations.md)                     [${NOISE_FLOOR_RANGE[0]}]
  --own-problems   photos whose notes name a problem of their own (film grain, fog, visible
                   JPEG artefacts, overall softness: noise, haze, jpeg, defocus_blur) serve only
                   samples labelled with every one of them; the others move to another photo of
                   the split or to dead leaves, so no label says such a photo is free of it

Example: realistic-size validation and test images for a dataset made at 256 px:
  attnvision synth --out data512 --per-class 400 --size 512 --seed 2 --photos photos --mix 0.4 \\
    --splits-from data/synth.json --only-splits val,test`;

async function previewSource(out: string, photosDir: string | undefined, size: number, seed: number): Promise<ImageF32> {
  if (photosDir) {
    for (const e of await readJsonl<ManifestEntry>(path.join(out, 'manifest.jsonl'))) {
      if (e.labels[0] === 'clean' && e.source.kind === 'photo' && e.source.photo && e.source.crop) {
        const c = crop(await readImage(path.join(photosDir, e.source.photo)), e.source.crop);
        return resize(c, size, size);
      }
    }
  }
  return deadLeaves(seed, { size });
}

export const synthCommand: Command = {
  name: 'synth',
  summary: 'synthesise a degradation dataset (clean photos or dead leaves -> 7 labelled degradations)',
  usage,
  interruptHint: 'run the same command again to continue where it stopped',
  async run(argv) {
    const args = parseArgs(argv, { values: ['out', 'per-class', 'size', 'seed', 'photos', 'mix', 'workers', 'splits-from', 'only-splits', 'photo-scales', 'noise-floor', ...FINISH_SHARE_FLAGS.map((o) => o.flag)], booleans: ['preview', 'quiet', 'strict-dof', 'own-problems'], positional: 0 }, 'synth');
    if (args.flags.get('help')) {
      console.log(usage);
      return 0;
    }
    const out = flagString(args, 'out');
    if (!out) throw new ArgumentError('synth: expected a folder for --out but received nothing (see attnvision synth --help)');
    if (!args.flags.has('per-class')) throw new ArgumentError('synth: expected an integer >= 1 for --per-class but received nothing');
    const perClass = flagNumber(args, 'per-class', 0, 'synth', { int: true, min: 1 });
    const size = flagNumber(args, 'size', 256, 'synth', { int: true, min: 32, max: 4096 });
    const seed = flagNumber(args, 'seed', 0, 'synth', { int: true, min: 0, max: 2 ** 32 - 1 });
    const mix = flagNumber(args, 'mix', 0.2, 'synth', { min: 0, max: 1 });
    const workersFlag = args.flags.has('workers') ? flagNumber(args, 'workers', 0, 'synth', { int: true, min: 0, max: 256 }) : undefined;
    const photos = flagString(args, 'photos');
    const quiet = args.flags.get('quiet') === true;
    const splitsFrom = flagString(args, 'splits-from');
    const only = flagString(args, 'only-splits');
    let onlySplits: Split[] | undefined;
    if (only !== undefined) {
      const list = only.split(',').map((x) => x.trim());
      const bad = list.find((x) => !(SPLITS as readonly string[]).includes(x));
      if (bad !== undefined || !list.length) throw new ArgumentError(`synth: expected a comma list of ${SPLITS.join(', ')} for --only-splits but received "${only}"`);
      onlySplits = list as Split[];
    }
    const scalesFlag = flagString(args, 'photo-scales');
    let photoScales: number[] | undefined;
    if (scalesFlag !== undefined) {
      photoScales = scalesFlag.split(',').map(parseDecimal);
      if (!photoScales.length || photoScales.some((x) => !(Number.isFinite(x) && x > 0 && x <= 1))) throw new ArgumentError(`synth: expected a comma list of numbers in (0, 1] for --photo-scales but received "${scalesFlag}"`);
      if (!photos) throw new ArgumentError('synth: --photo-scales needs --photos');
    }
    const finishShares: FinishShares = {};
    for (const { key, flag } of FINISH_SHARE_FLAGS) if (args.flags.has(flag)) finishShares[key] = flagNumber(args, flag, 0, 'synth', { min: 0, max: 1 });
    if (splitsFrom && !photos) throw new ArgumentError('synth: --splits-from needs --photos (procedural samples have no photo splits to keep)');
    const strictDof = args.flags.get('strict-dof') === true;
    if (strictDof && !photos) throw new ArgumentError('synth: --strict-dof needs --photos');
    const ownProblems = args.flags.get('own-problems') === true;
    if (ownProblems && !photos) throw new ArgumentError('synth: --own-problems needs --photos');
    const noiseFloor = args.flags.has('noise-floor') ? flagNumber(args, 'noise-floor', NOISE_FLOOR_RANGE[0], 'synth', { min: NOISE_FLOOR_RANGE[0], max: NOISE_FLOOR_RANGE[1] }) : undefined;
    const summary = await synthesize({
      out, perClass, size, seed, mix, quiet,
      ...(photos ? { photos } : {}),
      ...(workersFlag !== undefined ? { workers: workersFlag } : {}),
      ...(splitsFrom ? { splitsFrom } : {}),
      ...(onlySplits ? { onlySplits } : {}),
      ...(photoScales ? { photoScales } : {}),
      ...finishShares,
      ...(strictDof ? { strictPartlyBlurred: true } : {}),
      ...(ownProblems ? { ownProblems: true } : {}),
      ...(noiseFloor !== undefined ? { noiseFloor } : {}),
    });
    const small = summary.skippedPhotos.filter((p) => p.kind === 'too-small');
    const unreadable = summary.skippedPhotos.filter((p) => p.kind === 'unreadable');
    // Unreadable photos are named even with --quiet: a photo folder should not hold broken files unnoticed.
    for (const p of unreadable) console.error(`synth: warning: ${path.join(photos!, p.name)} left out: ${p.reason}`);
    if (!quiet && small.length) console.error(`synth: ${small.length} photo${small.length > 1 ? 's' : ''} left out with a short side below ${size} px`);
    if (!quiet) {
      console.error(`synth: ${summary.total} samples in ${out} (${summary.generated} new, ${summary.resumed} resumed) in ${summary.seconds.toFixed(1)} s, ` +
        `${summary.imagesPerSecond.toFixed(1)} img/s on ${summary.workers} worker(s); ${summary.rejectedPhotos} samples moved off their planned photo (no sharp crop, or a problem of its own the labels deny)`);
    }
    if (args.flags.get('preview')) {
      const file = path.join(out, 'preview.png');
      await writeContactSheet(file, await previewSource(out, photos, size, seed), seed);
      if (!quiet) console.error(`synth: contact sheet written to ${file}`);
    }
    console.log(summary.manifest);
    return 0;
  },
};
