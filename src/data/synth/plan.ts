/**
 * Deterministic planning of a synthetic dataset: which sample gets which labels, severities,
 * split, clean source and seed. Everything derives from the run seed, so a plan is a pure function
 * of the config and an interrupted run can resume by skipping finished sample ids.
 *
 * Splits are made by source photo: photos are shuffled with the seed and assigned to train / val /
 * test (80 / 10 / 10 by count, at least one each when there are >= 3 photos), and every sample of a
 * split draws its source from that split's photos only, so no photo contributes to two splits.
 * Procedural (dead-leaves) sources are unique per sample and may appear in any split.
 */
import { Rng } from '../../degrade/rng.js';
import { DEGRADATION_NAMES, type DegradationName } from '../../degrade/types.js';
import { NOISE_SIGMA_RANGE, noiseSeverityOf } from '../../degrade/noise.js';
import type { FinishShares } from './finish.js';

export const CLASSES = ['clean', ...DEGRADATION_NAMES] as const;
export type ClassName = (typeof CLASSES)[number];
export type Split = 'train' | 'val' | 'test';
export const SPLITS: readonly Split[] = ['train', 'val', 'test'];
/** Blur labels, and the highest blur severity of a sample that also has rain (see planJobs). */
const BLUR_LABELS = ['defocus_blur', 'motion_blur'] as const;
export const RAIN_PAIR_MAX_BLUR = 0.5;
/**
 * Blur under noise: a blur's partner is noise (and noise's partner a blur) `BLUR_NOISE_PAIR_WEIGHT`
 * times as often as any other label, since real blurred photos are noisy and noise hides blur; and
 * noise paired with a blur stays at severity <= `BLUR_PAIR_MAX_NOISE` (std <= ~23 /255), above
 * which the blur is no longer visible at tile scale and the label would name nothing to see.
 */
export const BLUR_NOISE_PAIR_WEIGHT = 2;
export const BLUR_PAIR_MAX_NOISE = 0.7;

/** Relative weight of `other` as the second label of a `cls` sample. */
export function partnerWeight(cls: DegradationName, other: DegradationName): number {
  const blur = (d: DegradationName) => (BLUR_LABELS as readonly string[]).includes(d);
  return (blur(cls) && other === 'noise') || (cls === 'noise' && blur(other)) ? BLUR_NOISE_PAIR_WEIGHT : 1;
}

function weightedPartner(cls: DegradationName, rng: Rng): DegradationName {
  const options = DEGRADATION_NAMES.filter((d) => d !== cls);
  const weights = options.map((d) => partnerWeight(cls, d));
  let u = rng.next() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < options.length; i++) {
    u -= weights[i]!;
    if (u < 0) return options[i]!;
  }
  return options[options.length - 1]!;
}

/** A dataset's configuration (synth.json); its opt-in finish shares are FinishShares (finish.ts). */
export interface SynthConfig extends FinishShares {
  /** Format version of synth.json / manifest.jsonl. */
  version: 1;
  seed: number;
  perClass: number;
  size: number;
  /** Fraction of each degradation class's samples that carry a second label. */
  mix: number;
  /** Absolute photo folder, or null for procedural sources only. */
  photosDir: string | null;
  /** Usable photos (sorted names) with their oriented dimensions. */
  photos: { name: string; width: number; height: number }[];
  /**
   * Photo -> split taken from another dataset (`synth --splits-from`), so that a second dataset
   * (say, larger val/test images, which need larger photos) keeps every photo in the split it
   * has in the first one. Absent: splits are drawn from the seed (assignSplits).
   */
  splits?: Record<string, Split>;
  /** Only samples of these splits are kept (`synth --only-splits`); ids stay dense. */
  onlySplits?: Split[];
  /**
   * Photo decode scales to draw from (`synth --photo-scales`); absent: render.ts PHOTO_SCALES.
   * Recorded only when given, so datasets made before the option keep their synth.json.
   */
  photoScales?: number[];
  /**
   * Photos with blurred regions of their own (shallow depth of field, intentional motion blur),
   * from the photo folder's notes (`synth --strict-dof`, photo_notes.ts); their crops must pass
   * the strict sharpness test. Absent: every photo gets the default test. Recorded only when given.
   */
  partlyBlurred?: string[];
  /**
   * Photo -> the labels of the problems its notes name (grain, fog, JPEG artefacts, softness;
   * `synth --own-problems`, photo_notes.ts); such a photo serves only samples labelled with all of
   * them. Absent: every photo serves every sample. Recorded only when given.
   */
  ownProblems?: Record<string, string[]>;
  /**
   * Std at mid grey, in 8-bit levels, of the weakest noise label (`synth --noise-floor`): noise
   * severities are drawn from [noiseSeverityOf(noiseFloor / 255), 1] instead of [0, 1], so the
   * weakest noise stays clearly above a clean crop's own grain (NOISE_FLOOR_VISIBLE). Absent: 4,
   * the noise model's own bottom (severity 0). Recorded only when given, so datasets made before
   * the option keep their synth.json; only noise severities depend on it.
   */
  noiseFloor?: number;
}

/**
 * The noise floor (8-bit levels) that keeps the weakest noise label 1.8x as strong as the noisiest
 * clean crop, the margin the sensor-noise finish keeps below the label (finish.ts). Clean photo
 * crops at native scale measure up to 2.8 /255 of their own grain (Immerkaer's estimator,
 * models/MODEL_CARD.md) and the finish adds up to 2.0 /255, so a clean crop carries up to
 * sqrt(2.8^2 + 2.0^2) = 3.4 /255; the default weakest label (4 /255, jittered down to 3.6) on
 * 2.8 of grain is sqrt(3.6^2 + 2.8^2) = 4.6 /255, only 1.3x that. At 6 (5.4 jittered) it is
 * sqrt(5.4^2 + 2.8^2) = 6.1 /255, 1.8x. Session 32 trained and scored with it (models/MODEL_CARD.md).
 */
export const NOISE_FLOOR_VISIBLE = 6;

/** The noise floors a dataset may ask for, in 8-bit levels: the noise model's own std range (4 and 50). */
export const NOISE_FLOOR_RANGE = NOISE_SIGMA_RANGE.map((s) => Math.round(s * 255)) as [number, number];

/** The photo -> split map of a dataset: its own `splits`, or drawn from the seed. */
export function photoSplits(cfg: SynthConfig): Map<string, Split> {
  if (cfg.splits) return new Map(cfg.photos.map((p) => [p.name, cfg.splits![p.name]!]));
  return assignSplits(cfg.photos.map((p) => p.name), cfg.seed);
}

export interface Job {
  /** Sample id, 0-based, dense. */
  id: number;
  /** Path relative to the output folder. */
  file: string;
  split: Split;
  /** Labels, or ['clean']. */
  labels: ClassName[];
  /** Severity per degradation label (empty for clean). */
  severities: Partial<Record<DegradationName, number>>;
  /** Photo name, or null for a procedural dead-leaves source. */
  photo: string | null;
  /** Seed of this sample's crop and degradations. */
  seed: number;
}

/** Photo name -> split. */
export function assignSplits(photos: readonly string[], seed: number): Map<string, Split> {
  const order = new Rng(seed).fork('splits').shuffle([...photos].sort());
  const n = order.length;
  let nVal = Math.round(n * 0.1);
  let nTest = Math.round(n * 0.1);
  if (n >= 3) {
    nVal = Math.max(1, nVal);
    nTest = Math.max(1, nTest);
  }
  const out = new Map<string, Split>();
  order.forEach((p, i) => out.set(p, i < nVal ? 'val' : i < nVal + nTest ? 'test' : 'train'));
  return out;
}

/** Split of the i-th sample of a class: 8 train, 1 val, 1 test in every 10. */
function splitOf(i: number): Split {
  const m = i % 10;
  return m === 8 ? 'val' : m === 9 ? 'test' : 'train';
}

/** The full plan: perClass samples for 'clean' and for each degradation. */
export function planJobs(cfg: SynthConfig): Job[] {
  const root = new Rng(cfg.seed);
  const splits = photoSplits(cfg);
  const bySplit = new Map<Split, string[]>(SPLITS.map((s) => [s, cfg.photos.map((p) => p.name).filter((n) => splits.get(n) === s)]));
  const jobs: Job[] = [];
  // Noise severities start at the floor's (the same draw u, mapped onto [lo, 1]; lo = 0 without a floor).
  const noiseLo = cfg.noiseFloor !== undefined ? noiseSeverityOf(cfg.noiseFloor / 255) : 0;
  const severity = (label: DegradationName, u: number) => Math.round((label === 'noise' ? noiseLo + (1 - noiseLo) * u : u) * 1000) / 1000;
  for (const cls of CLASSES) {
    const rng = root.fork(`plan:${cls}`);
    const nMixed = cls === 'clean' ? 0 : Math.round(cfg.mix * cfg.perClass);
    for (let i = 0; i < cfg.perClass; i++) {
      const id = jobs.length;
      let split = splitOf(i);
      const labels: ClassName[] = [cls];
      const severities: Partial<Record<DegradationName, number>> = {};
      if (cls !== 'clean') {
        severities[cls] = severity(cls, rng.next());
        if (i < nMixed) {
          const other = weightedPartner(cls, rng);
          labels.push(other);
          severities[other] = severity(other, rng.next());
          // Rain is in the scene, before the optics: strong blur would wipe the streaks out and
          // leave a "rain" label with no rain to see, so a blur paired with rain stays moderate.
          if (labels.includes('rain')) {
            for (const b of BLUR_LABELS) if (severities[b] !== undefined) severities[b] = Math.min(severities[b]!, RAIN_PAIR_MAX_BLUR);
          }
          if (severities.noise !== undefined && BLUR_LABELS.some((b) => severities[b] !== undefined)) severities.noise = Math.min(severities.noise, BLUR_PAIR_MAX_NOISE);
        }
      }
      // Photos for this split; fall back to procedural when the split has none.
      let pool = bySplit.get(split)!;
      if (!pool.length && cfg.photos.length && split !== 'train') {
        // Too few photos for a held-out split: make the sample procedural rather than leak a photo.
        pool = [];
      }
      const photo = pool.length && rng.next() < 0.85 ? rng.choice(pool) : null;
      if (!cfg.photos.length) split = splitOf(i);
      const folder = labels.length > 1 ? 'mixed' : cls;
      jobs.push({ id, file: jobFile(split, folder, id), split, labels, severities, photo, seed: rng.nextU32() });
    }
  }
  if (!cfg.onlySplits) return jobs;
  // Every sample is planned (so seeds and photos match the full plan), then only the asked splits kept.
  const keep = new Set<Split>(cfg.onlySplits);
  return jobs.filter((j) => keep.has(j.split)).map((j, id) => ({ ...j, id, file: jobFile(j.split, j.labels.length > 1 ? 'mixed' : j.labels[0]!, id) }));
}

function jobFile(split: Split, folder: string, id: number): string {
  return `${split}/${folder}/${String(id).padStart(6, '0')}.png`;
}
