import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { synthesize, planJobs, assignSplits, sharpness, deadLeaves, readPhotoNotes, partlyBlurredPhotos, ownProblemPhotos, servesLabels, STRICT_SHARPNESS, CLASSES, RAIN_PAIR_MAX_BLUR, BLUR_PAIR_MAX_NOISE, NOISE_FLOOR_VISIBLE, partnerWeight, photoSplits, type SynthConfig, type ManifestEntry } from '../../src/data/synth/index.js';
import { defocusBlur, noiseSeverityOf, Rng, RAIN_MIN_LENGTH, RAIN_SHUTTER_RANGE } from '../../src/degrade/index.js';
import { createImage } from '../../src/image/tensor.js';
import { distinctColours } from '../helpers/toy_images.js';
import { readImage, encodeJpeg, encodePng } from '../../src/image/io.js';
import { manifestDataset, resolveManifest } from '../../src/data/dataset.js';
import { loadData } from '../../src/cli/commands/train.js';
import { QUALITY_LABELS } from '../../src/quality/labels.js';
import { Progress } from '../../src/util/progress.js';
import { writeFileAtomic } from '../../src/util/fs.js';
import { synthCommand } from '../../src/cli/commands/synth.js';
import { FINISH_CODEC_QUALITY, FINISH_GIF_COLOURS, FINISH_GIF_DITHER, FINISH_SHARE_FLAGS, FINISH_SOFT_SIGMA, NOISE_GRAIN_SIGMA } from '../../src/data/synth/finish.js';
import { ISP_CHROMA_SIGMA } from '../../src/degrade/isp_noise.js';
import { ArgumentError } from '../../src/util/errors.js';

async function tmpDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'attnvision-synth-'));
}

async function readLines(file: string): Promise<ManifestEntry[]> {
  return (await fs.readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as ManifestEntry);
}

test('sharpness test: dead leaves pass, defocused and flat crops fail', () => {
  const dl = deadLeaves(1, { size: 128 });
  assert.equal(sharpness(dl).sharp, true);
  assert.equal(sharpness(defocusBlur(dl, 0.2, new Rng(1), { varying: false }).image).sharp, false);
  assert.equal(sharpness(createImage(3, 128, 128, 0.4)).sharp, false);
  // Deterministic procedural source.
  assert.deepEqual(deadLeaves(7, { size: 32 }).data, deadLeaves(7, { size: 32 }).data);
});

/** A bokeh-like image: smooth colour blobs of low contrast (wavelengths >= 40 px, range < 0.1). */
function bokeh(seed: number, size: number) {
  const img = createImage(3, size, size);
  const rng = new Rng(seed);
  const waves = Array.from({ length: 3 }, () => ({ fx: rng.uniform(-1, 1) / 40, fy: rng.uniform(-1, 1) / 40, phase: rng.uniform(0, 6.28) }));
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = waves.reduce((sum, w) => sum + Math.sin(2 * Math.PI * (w.fx * x + w.fy * y) + w.phase + c), 0);
        img.data[(c * size + y) * size + x] = 0.45 + 0.012 * v;
      }
    }
  }
  return img;
}

test('strict sharpness test: a crop half smooth bokeh, half sharp passes the default test and fails the strict one', () => {
  const size = 128;
  const sharp = deadLeaves(3, { size });
  const soft = bokeh(4, size);
  const half = createImage(3, size, size);
  // [C, H, W]: the left half from the bokeh, the right half from the sharp image.
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = (c * size + y) * size + x;
        half.data[i] = x < size / 2 ? soft.data[i]! : sharp.data[i]!;
      }
    }
  }
  const loose = sharpness(half);
  assert.equal(loose.sharp, true, JSON.stringify(loose));
  assert.ok(loose.textured < 0.75, `bokeh tiles are skipped as untextured: ${loose.textured}`);
  assert.equal(sharpness(half, STRICT_SHARPNESS).sharp, false);
  assert.equal(sharpness(sharp, STRICT_SHARPNESS).sharp, true);
});

test('photo notes: partly blurred photos named from LICENSES.tsv; a missing table is empty, a bad one is named', async () => {
  const dir = await tmpDir();
  assert.equal((await readPhotoNotes(dir)).size, 0);
  await fs.writeFile(path.join(dir, 'LICENSES.tsv'), 'file\tlicense\tnotes\na.jpg\tCC0\tintentional shallow depth of field (bokeh background)\n' +
    'b.jpg\tCC0\tgreyscale; texture\nc.jpg\tCC0\tintentional motion blur in the lower half\nd.jpg\tCC0\n\n');
  const notes = await readPhotoNotes(dir);
  assert.deepEqual([...notes.keys()], ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg']);
  assert.deepEqual(partlyBlurredPhotos(notes, ['d.jpg', 'c.jpg', 'b.jpg', 'a.jpg', 'e.jpg']), ['a.jpg', 'c.jpg']);
  await fs.writeFile(path.join(dir, 'LICENSES.tsv'), 'name\tnote\na.jpg\tx\n');
  await assert.rejects(readPhotoNotes(dir), /LICENSES\.tsv:1: expected a header row with the columns "file" and "notes"/);
  await fs.writeFile(path.join(dir, 'LICENSES.tsv'), 'file\tnotes\na.jpg\tx\n\tbokeh\n');
  await assert.rejects(readPhotoNotes(dir), /LICENSES\.tsv:3: no file name/);
});

/** Samples planned on a photo named plain* and not moved are the same with and without a notes option. */
function assertPlainUnchanged(withOption: ManifestEntry[], without: ManifestEntry[]): void {
  const plain = withOption.filter((l) => l.source.photo?.startsWith('plain') && !l.source.rejectedPhoto);
  assert.ok(plain.length > 0);
  for (const l of plain) assert.deepEqual(l, without.find((x) => x.id === l.id));
}

/** A notes option needs --photos (CLI `flag`) and a photo folder with a notes table (library `option`). */
async function assertNeedsNotes(flag: string, option: { strictPartlyBlurred?: boolean; ownProblems?: boolean }, noNotes: RegExp): Promise<void> {
  await assert.rejects(synthCommand.run(['--out', await tmpDir(), '--per-class', '1', flag]), new RegExp(`${flag} needs --photos`));
  const bare = await tmpDir();
  await fs.writeFile(path.join(bare, 'p.png'), await encodePng(deadLeaves(1, { size: 96 })));
  await assert.rejects(synthesize({ out: await tmpDir(), perClass: 1, size: 64, photos: bare, quiet: true, workers: 0, ...option }), noNotes);
}

test('strict-dof: crops of photos noted as partly blurred must pass the strict test (off by default); other photos unchanged', async () => {
  const photos = await tmpDir();
  const notes = ['file\tnotes'];
  for (let i = 0; i < 3; i++) {
    await fs.writeFile(path.join(photos, `bokeh${i}.png`), await encodePng(bokeh(10 + i, 160)));
    await fs.writeFile(path.join(photos, `plain${i}.png`), await encodePng(deadLeaves(20 + i, { size: 160 })));
    notes.push(`bokeh${i}.png\tintentional shallow depth of field (strong bokeh)`, `plain${i}.png\tsharp`);
  }
  await fs.writeFile(path.join(photos, 'LICENSES.tsv'), notes.join('\n') + '\n');
  const run = async (strict: boolean) => {
    const out = await tmpDir();
    await synthesize({ out, perClass: 6, size: 64, seed: 3, photos, quiet: true, workers: 0, ...(strict ? { strictPartlyBlurred: true } : {}) });
    return { cfg: JSON.parse(await fs.readFile(path.join(out, 'synth.json'), 'utf8')) as SynthConfig, lines: await readLines(path.join(out, 'manifest.jsonl')) };
  };
  const loose = await run(false);
  const strict = await run(true);
  assert.equal('partlyBlurred' in loose.cfg, false);
  assert.deepEqual(strict.cfg.partlyBlurred, ['bokeh0.png', 'bokeh1.png', 'bokeh2.png']);
  const fromBokeh = (l: ManifestEntry) => l.source.photo?.startsWith('bokeh') ?? false;
  // Without the flag, samples without a blur label sometimes skip the test: bokeh labelled sharp.
  assert.ok(loose.lines.some((l) => fromBokeh(l) && !l.labels.some((x) => x.endsWith('_blur'))), 'the default lets some bokeh crops through');
  assert.equal(strict.lines.filter(fromBokeh).length, 0);
  assert.ok(strict.lines.some((l) => l.source.rejectedPhoto?.startsWith('bokeh')));
  // Samples planned on the other photos are drawn exactly as before.
  assertPlainUnchanged(strict.lines, loose.lines);
  await assertNeedsNotes('--strict-dof', { strictPartlyBlurred: true }, /LICENSES\.tsv: no photo notes to tell partly blurred photos by/);
});

test('photo notes: own problems read from the wording that names them; texture and style do not count', () => {
  const notes = new Map([
    ['apple.jpg', 'old scanned print: grain, soft'],
    ['wood.jpg', 'texture (wood grain); low detail'],
    ['fog.jpg', '2004 compact camera (EXIF: HP Photosmart 735); fog'],
    ['trees.jpg', 'greyscale (near-neutral); very dark low-contrast fog scene; visible grain'],
    ['lake.jpg', 'very low detail foggy lake at dusk; strong vignette'],
    ['text.jpg', 'has text (scene-text sample); visible JPEG artefacts'],
    ['sky.jpg', 'sky/clouds only; low-bitrate source JPEG (31 KB)'],
    ['shuttle.jpg', 'documentation figure; small (320x320), compressed; has text'],
    ['mountain.jpg', 'dark low-key grading'],
    ['bokeh.jpg', 'intentional shallow depth of field (strong bokeh background)'],
    ['plain.jpg', ''],
  ]);
  assert.deepEqual(ownProblemPhotos(notes, [...notes.keys(), 'unlisted.jpg']), {
    'apple.jpg': ['noise', 'defocus_blur'],
    'fog.jpg': ['haze'],
    'lake.jpg': ['haze'],
    'shuttle.jpg': ['jpeg'],
    'sky.jpg': ['jpeg'],
    'text.jpg': ['jpeg'],
    'trees.jpg': ['noise', 'haze'],
  });
  assert.equal(servesLabels(undefined, ['clean']), true);
  assert.equal(servesLabels(['noise', 'defocus_blur'], ['defocus_blur', 'noise']), true);
  assert.equal(servesLabels(['noise', 'defocus_blur'], ['noise']), false);
  assert.equal(servesLabels(['haze'], ['clean']), false);
});

test('own-problems: a grainy photo serves only samples labelled noise (off by default); samples planned on other photos unchanged', async () => {
  const photos = await tmpDir();
  const notes = ['file\tnotes'];
  for (let i = 0; i < 3; i++) {
    await fs.writeFile(path.join(photos, `grain${i}.png`), await encodePng(deadLeaves(30 + i, { size: 160 })));
    await fs.writeFile(path.join(photos, `plain${i}.png`), await encodePng(deadLeaves(20 + i, { size: 160 })));
    notes.push(`grain${i}.png\told scanned print: grain`, `plain${i}.png\tsharp`);
  }
  await fs.writeFile(path.join(photos, 'LICENSES.tsv'), notes.join('\n') + '\n');
  const run = async (own: boolean, out?: string) => {
    out ??= await tmpDir();
    const summary = await synthesize({ out, perClass: 8, size: 64, seed: 5, photos, quiet: true, workers: 0, ...(own ? { ownProblems: true } : {}) });
    return { summary, cfg: JSON.parse(await fs.readFile(path.join(out, 'synth.json'), 'utf8')) as SynthConfig, lines: await readLines(path.join(out, 'manifest.jsonl')) };
  };
  const loose = await run(false);
  const own = await run(true);
  assert.equal('ownProblems' in loose.cfg, false);
  assert.deepEqual(own.cfg.ownProblems, { 'grain0.png': ['noise'], 'grain1.png': ['noise'], 'grain2.png': ['noise'] });
  const fromGrain = (l: ManifestEntry) => l.source.photo?.startsWith('grain') ?? false;
  assert.ok(loose.lines.some((l) => fromGrain(l) && !l.labels.includes('noise')), 'without the flag the grainy photos give clean and other crops');
  const served = own.lines.filter(fromGrain);
  assert.ok(served.length > 0, 'noise samples still use the grainy photos');
  for (const l of served) assert.ok(l.labels.includes('noise'), `${l.file}: ${l.labels.join('+')} from ${l.source.photo}`);
  const moved = own.lines.filter((l) => l.source.rejectedPhoto?.startsWith('grain'));
  assert.ok(moved.length > 0 && moved.every((l) => !l.labels.includes('noise') && !fromGrain(l)));
  // The summary counts every moved sample of the dataset, also after a resumed run.
  assert.equal(own.summary.rejectedPhotos, own.lines.filter((l) => l.source.rejectedPhoto).length);
  const partial = await tmpDir();
  await synthesize({ out: partial, perClass: 8, size: 64, seed: 5, photos, quiet: true, workers: 0, ownProblems: true, limit: 20 });
  const resumed = await run(true, partial);
  assert.equal(resumed.summary.resumed, 20);
  assert.equal(resumed.summary.rejectedPhotos, own.summary.rejectedPhotos);
  assertPlainUnchanged(own.lines, loose.lines);
  await assertNeedsNotes('--own-problems', { ownProblems: true }, /LICENSES\.tsv: no photo notes to tell the photos' own problems by/);
});

test('plan: per-class counts, mixes, and splits by photo (no photo in two splits)', () => {
  const photos = Array.from({ length: 20 }, (_, i) => ({ name: `p${i}.jpg`, width: 800, height: 600 }));
  const cfg: SynthConfig = { version: 1, seed: 3, perClass: 30, size: 64, mix: 0.2, photosDir: '/x', photos };
  const jobs = planJobs(cfg);
  assert.equal(jobs.length, 30 * CLASSES.length);
  assert.deepEqual(planJobs(cfg), jobs);
  for (const c of CLASSES) assert.equal(jobs.filter((j) => j.labels[0] === c).length, 30);
  assert.equal(jobs.filter((j) => j.labels.length === 2).length, 6 * 7);
  const splits = assignSplits(photos.map((p) => p.name), 3);
  assert.deepEqual([...new Set(splits.values())].sort(), ['test', 'train', 'val']);
  for (const j of jobs) if (j.photo) assert.equal(splits.get(j.photo), j.split);
  assert.equal(new Set(jobs.map((j) => j.file)).size, jobs.length);
  // Rain pairs keep the blur moderate (strong blur would erase the streaks the label names).
  const rainBlur = jobs.filter((j) => j.labels.includes('rain') && (j.labels.includes('defocus_blur') || j.labels.includes('motion_blur')));
  for (const j of rainBlur) assert.ok((j.severities.defocus_blur ?? j.severities.motion_blur)! <= RAIN_PAIR_MAX_BLUR, JSON.stringify(j));
  assert.ok(jobs.some((j) => j.labels.length === 1 && (j.severities.defocus_blur ?? 0) > RAIN_PAIR_MAX_BLUR), 'other blur severities are not capped');
});

test('plan: blur+noise pairs are twice as likely as other pairs, and their noise stays moderate', () => {
  assert.equal(partnerWeight('defocus_blur', 'noise'), 2);
  assert.equal(partnerWeight('noise', 'motion_blur'), 2);
  assert.equal(partnerWeight('defocus_blur', 'rain'), 1);
  assert.equal(partnerWeight('haze', 'noise'), 1);
  const cfg: SynthConfig = { version: 1, seed: 4, perClass: 600, size: 64, mix: 1, photosDir: null, photos: [] };
  const jobs = planJobs(cfg);
  const partners = (cls: string) => jobs.filter((j) => j.labels[0] === cls).map((j) => j.labels[1]);
  // defocus: 6 partners, weights 2,1,1,1,1,1 -> noise 2/7 of 600 = 171 expected, each other 86.
  const p = partners('defocus_blur');
  const nNoise = p.filter((l) => l === 'noise').length;
  const nRain = p.filter((l) => l === 'rain').length;
  assert.ok(nNoise > 140 && nNoise < 205, `noise partners ${nNoise}`);
  assert.ok(nRain > 60 && nRain < 115, `rain partners ${nRain}`);
  const blurNoise = jobs.filter((j) => j.labels.includes('noise') && (j.labels.includes('defocus_blur') || j.labels.includes('motion_blur')));
  for (const j of blurNoise) assert.ok(j.severities.noise! <= BLUR_PAIR_MAX_NOISE, JSON.stringify(j));
  assert.ok(jobs.some((j) => j.labels.includes('noise') && j.labels.includes('haze') && j.severities.noise! > BLUR_PAIR_MAX_NOISE), 'noise with other partners is not capped');
});

test('plan: a noise floor maps only noise severities onto [floor, 1]; every other draw is unchanged', () => {
  const base: SynthConfig = { version: 1, seed: 6, perClass: 200, size: 64, mix: 0.5, photosDir: null, photos: [] };
  const plain = planJobs(base);
  const floored = planJobs({ ...base, noiseFloor: NOISE_FLOOR_VISIBLE });
  const lo = noiseSeverityOf(NOISE_FLOOR_VISIBLE / 255);
  assert.ok(lo > 0.15 && lo < 0.17, `floor severity ${lo}`); // ln(6/4) / ln(50/4)
  assert.equal(floored.length, plain.length);
  let noisy = 0;
  floored.forEach((j, i) => {
    const p = plain[i]!;
    assert.deepEqual({ ...j, severities: {} }, { ...p, severities: {} }, `job ${i}: only severities may differ`);
    for (const [label, s] of Object.entries(p.severities)) {
      if (label !== 'noise') {
        assert.equal(j.severities[label as 'noise'], s, `job ${i} ${label}`);
        continue;
      }
      noisy++;
      const got = j.severities.noise!;
      assert.ok(got >= lo - 5e-4, `job ${i}: noise severity ${got} below the floor's ${lo}`);
      // The same draw mapped onto [lo, 1] (rounding to 1/1000 twice, and the blur pairs' cap, aside).
      const expected = Math.min(lo + (1 - lo) * s, p.labels.some((l) => l.endsWith('_blur')) ? BLUR_PAIR_MAX_NOISE : 1);
      assert.ok(Math.abs(got - expected) <= 1.5e-3, `job ${i}: ${got} vs ${expected}`);
    }
  });
  assert.ok(noisy > 250, `noise labels planned: ${noisy}`);
});

test('synth --noise-floor: recorded in synth.json only when given, the weakest noise std at least the floor (jitter aside), out of range refused', async () => {
  const withFloor = await tmpDir();
  assert.equal(await synthCommand.run(['--out', withFloor, '--per-class', '10', '--size', '32', '--workers', '0', '--quiet', '--noise-floor', '6']), 0);
  const cfg = JSON.parse(await fs.readFile(path.join(withFloor, 'synth.json'), 'utf8')) as SynthConfig;
  assert.equal(cfg.noiseFloor, 6);
  const lines = await readLines(path.join(withFloor, 'manifest.jsonl'));
  const sigmas = lines.filter((l) => l.labels.includes('noise')).map((l) => (l.params.noise as { sigma: number }).sigma);
  assert.ok(sigmas.length >= 10);
  for (const s of sigmas) assert.ok(s >= (0.9 * 6) / 255 - 1e-6, `noise std ${s * 255} /255 below 0.9 x the floor`);
  const without = await tmpDir();
  assert.equal(await synthCommand.run(['--out', without, '--per-class', '1', '--size', '32', '--workers', '0', '--quiet']), 0);
  assert.equal('noiseFloor' in JSON.parse(await fs.readFile(path.join(without, 'synth.json'), 'utf8')), false);
  await assert.rejects(synthCommand.run(['--out', await tmpDir(), '--per-class', '1', '--noise-floor', '3']), /expected a number in \[4, 50\] for --noise-floor but received "3"/);
  await assert.rejects(synthesize({ out: await tmpDir(), perClass: 1, size: 32, noiseFloor: 60, quiet: true }), /noiseFloor/);
});

test('procedural run: files + manifest, worker count does not change output, resume after interruption', async () => {
  const a = await tmpDir();
  const b = await tmpDir();
  const opts = { perClass: 3, size: 64, seed: 5, mix: 0.34, quiet: true };
  const sa = await synthesize({ ...opts, out: a, workers: 2 });
  assert.equal(sa.total, 24);
  assert.equal(sa.generated, 24);
  const linesA = await readLines(sa.manifest);
  assert.deepEqual(linesA.map((l) => l.id), [...Array(24).keys()]);
  assert.equal(linesA.filter((l) => l.labels.length === 2).length, 7);
  for (const l of linesA) {
    const img = await readImage(path.join(a, l.file));
    assert.deepEqual([img.width, img.height], [64, 64]);
    assert.equal(l.source.kind, 'dead-leaves');
    for (const lab of l.labels) if (lab !== 'clean') assert.ok(l.params[lab] && typeof l.severities[lab] === 'number');
  }
  // The trainer's reader accepts the manifest.
  const ds = await manifestDataset(sa.manifest, QUALITY_LABELS, 'train');
  assert.ok(ds.samples.length > 0);
  // Interrupted run: 10 samples, a torn manifest line and a stale temp file; then resume. Until the
  // run completes there is only manifest.partial.jsonl, which the dataset readers refuse by name.
  const cut = await synthesize({ ...opts, out: b, workers: 0, limit: 10 });
  assert.deepEqual([cut.complete, path.basename(cut.manifest)], [false, 'manifest.partial.jsonl']);
  await assert.rejects(fs.access(path.join(b, 'manifest.jsonl')));
  await assert.rejects(resolveManifest(b), /an unfinished synth run \(10 samples so far, no manifest\.jsonl yet\): run the same synth command again to finish it/);
  await assert.rejects(loadData(b, 'train', [...QUALITY_LABELS]), /an unfinished synth run \(10 samples so far/);
  await fs.appendFile(path.join(b, 'manifest.partial.jsonl'), '{"id": 99, "fi');
  await fs.writeFile(path.join(b, 'train', 'x.png.tmp-12345'), 'partial');
  const sb = await synthesize({ ...opts, out: b, workers: 1 });
  assert.equal(sb.resumed, 10);
  assert.equal(sb.generated, 14);
  assert.equal(await fs.readFile(path.join(b, 'manifest.jsonl'), 'utf8'), await fs.readFile(sa.manifest, 'utf8'));
  assert.equal(sb.complete, true);
  await assert.rejects(fs.access(path.join(b, 'manifest.partial.jsonl')), 'the partial manifest is gone once the run completes');
  for (const l of linesA) assert.deepEqual(await fs.readFile(path.join(b, l.file)), await fs.readFile(path.join(a, l.file)), l.file);
  await assert.rejects(fs.access(path.join(b, 'train', 'x.png.tmp-12345')));
  // A finished run resumes to a no-op; another config in the same folder is refused.
  assert.equal((await synthesize({ ...opts, out: b, workers: 0 })).generated, 0);
  await assert.rejects(synthesize({ ...opts, seed: 6, out: b }), ArgumentError);
});

test('photo run (shared photos present): crops from photos, photo splits disjoint', async () => {
  const photos = '../shared/photos';
  let n = 0;
  try {
    n = (await fs.readdir(photos)).filter((f) => f.endsWith('.jpg')).length;
  } catch {
    n = 0;
  }
  if (n === 0) return; // nothing to read in this checkout; the procedural path is tested above
  const out = await tmpDir();
  const s = await synthesize({ out, perClass: 2, size: 96, seed: 1, photos, quiet: true, workers: 2 });
  const lines = await readLines(s.manifest);
  assert.equal(lines.length, 16);
  const splitOf = new Map<string, string>();
  for (const l of lines) {
    if (l.source.kind !== 'photo') continue;
    assert.ok(l.source.crop && l.source.crop.width >= 96);
    const prev = splitOf.get(l.source.photo!);
    assert.ok(prev === undefined || prev === l.split, `${l.source.photo} in ${prev} and ${l.split}`);
    splitOf.set(l.source.photo!, l.split);
  }
  assert.ok(splitOf.size > 0);
});

test('splits from another dataset, only some splits: same photo splits, larger photos only, dense ids', async () => {
  const photos = await tmpDir();
  // 20 photos: even ones 200 px, odd ones 100 px (too small for the 150 px dataset).
  for (let i = 0; i < 20; i++) {
    const side = i % 2 ? 100 : 200;
    await fs.writeFile(path.join(photos, `p${String(i).padStart(2, '0')}.jpg`), await encodeJpeg(deadLeaves(i, { size: side }), { quality: 95 }));
  }
  const a = await tmpDir();
  await synthesize({ out: a, perClass: 10, size: 64, seed: 3, photos, quiet: true, workers: 0, limit: 1 });
  const cfgA = JSON.parse(await fs.readFile(path.join(a, 'synth.json'), 'utf8')) as SynthConfig;
  const splitsA = photoSplits(cfgA);
  await fs.writeFile(path.join(photos, 'zz_broken.jpg'), 'not a jpeg');
  const b = await tmpDir();
  const sb = await synthesize({ out: b, perClass: 10, size: 150, seed: 4, photos, quiet: true, workers: 2, splitsFrom: path.join(a, 'synth.json'), onlySplits: ['val', 'test'] });
  const lines = await readLines(sb.manifest);
  assert.equal(lines.length, 2 * CLASSES.length, 'one val and one test sample in every 10 per class');
  assert.deepEqual(lines.map((l) => l.id), lines.map((_, i) => i));
  assert.deepEqual([...new Set(lines.map((l) => l.split))].sort(), ['test', 'val']);
  const cfgB = JSON.parse(await fs.readFile(path.join(b, 'synth.json'), 'utf8')) as SynthConfig;
  assert.ok(cfgB.photos.every((p) => p.width === 200), 'small photos left out');
  // The summary names what was left out and why (the CLI prints it).
  assert.equal(sb.skippedPhotos.filter((p) => p.reason === 'smaller than 150 px').length, 10);
  assert.deepEqual(sb.skippedPhotos.filter((p) => p.reason !== 'smaller than 150 px').map((p) => p.name), ['zz_broken.jpg']);
  assert.match(sb.skippedPhotos.find((p) => p.name === 'zz_broken.jpg')!.reason, /not an image|unrecognised/);
  for (const l of lines) {
    assert.match(l.file, new RegExp(`^${l.split}/`));
    await fs.access(path.join(b, l.file));
    if (l.source.kind === 'photo') assert.equal(splitsA.get(l.source.photo!), l.split, `${l.source.photo} keeps its split`);
  }
  assert.ok(lines.some((l) => l.source.kind === 'photo'));
  await assert.rejects(synthesize({ out: await tmpDir(), perClass: 1, size: 64, quiet: true, splitsFrom: path.join(a, 'synth.json') }), /needs a photo folder/);
  await assert.rejects(synthesize({ out: await tmpDir(), perClass: 1, size: 64, photos, quiet: true, splitsFrom: path.join(a, 'nope.json') }), /cannot read the synth.json/);
  await assert.rejects(synthCommand.run(['--out', await tmpDir(), '--per-class', '1', '--only-splits', 'val,dev']), /--only-splits/);
  await assert.rejects(synthCommand.run(['--out', await tmpDir(), '--per-class', '1', '--splits-from', path.join(a, 'synth.json')]), /synth: --splits-from needs --photos/);
});

test('photo decode scales: drawn from the given list (1 = native), recorded in synth.json only when given; bad lists named', async () => {
  const photos = await tmpDir();
  // Detailed 400 px photos: every level fits a 96 px crop, so no scale is forced.
  for (let i = 0; i < 6; i++) await fs.writeFile(path.join(photos, `p${i}.jpg`), await encodeJpeg(deadLeaves(40 + i, { size: 400 }), { quality: 95 }));
  const scalesOf = async (out: string) => (await readLines(path.join(out, 'manifest.jsonl'))).flatMap((l) => (l.source.kind === 'photo' ? [l.source.scale!] : []));
  const native = await tmpDir();
  await synthesize({ out: native, perClass: 3, size: 96, seed: 2, photos, quiet: true, workers: 0, photoScales: [1] });
  const nativeScales = await scalesOf(native);
  assert.ok(nativeScales.length > 10 && nativeScales.every((x) => x === 1), nativeScales.join(','));
  assert.deepEqual((JSON.parse(await fs.readFile(path.join(native, 'synth.json'), 'utf8')) as SynthConfig).photoScales, [1]);
  const byDefault = await tmpDir();
  await synthesize({ out: byDefault, perClass: 3, size: 96, seed: 2, photos, quiet: true, workers: 0 });
  const defaultScales = await scalesOf(byDefault);
  assert.ok(defaultScales.length > 10 && defaultScales.every((x) => [0.35, 0.5, 0.7].some((l) => Math.abs(x - l) < 0.01)), defaultScales.join(','));
  assert.equal('photoScales' in JSON.parse(await fs.readFile(path.join(byDefault, 'synth.json'), 'utf8')), false);
  await assert.rejects(synthesize({ out: await tmpDir(), perClass: 1, size: 96, photos, quiet: true, photoScales: [0.5, 1.5] }), /expected photoScales in \(0, 1\] but received "0.5,1.5"/);
  await assert.rejects(synthCommand.run(['--out', await tmpDir(), '--per-class', '1', '--photos', photos, '--photo-scales', '0.5,x']), /expected a comma list of numbers in \(0, 1\] for --photo-scales but received "0.5,x"/);
  await assert.rejects(synthCommand.run(['--out', await tmpDir(), '--per-class', '1', '--photo-scales', '1']), /--photo-scales needs --photos/);
});

test('lens-softness finish: off by default (same images as before), on a share of samples when asked, recorded and softer', async () => {
  const byDefault = await tmpDir();
  await synthesize({ out: byDefault, perClass: 6, size: 64, seed: 4, quiet: true, workers: 0 });
  const soft = await tmpDir();
  await synthesize({ out: soft, perClass: 6, size: 64, seed: 4, quiet: true, workers: 0, softFinish: 0.5 });
  assert.equal('softFinish' in JSON.parse(await fs.readFile(path.join(byDefault, 'synth.json'), 'utf8')), false);
  assert.equal((JSON.parse(await fs.readFile(path.join(soft, 'synth.json'), 'utf8')) as SynthConfig).softFinish, 0.5);
  const a = await readLines(path.join(byDefault, 'manifest.jsonl'));
  const b = await readLines(path.join(soft, 'manifest.jsonl'));
  assert.ok(a.every((l) => l.finish?.softSigma === undefined));
  const softened = b.filter((l) => l.finish?.softSigma !== undefined);
  assert.ok(softened.length > 0.25 * b.length && softened.length < 0.75 * b.length, `${softened.length} of ${b.length}`);
  let gradA = 0;
  let gradB = 0;
  for (const l of b) {
    const twin = a.find((x) => x.id === l.id)!;
    // Every other part of the sample is drawn as before: labels, parameters, source, other finish parts.
    assert.deepEqual({ ...l, finish: { ...l.finish, softSigma: undefined } }, { ...twin, finish: { ...twin.finish, softSigma: undefined } });
    const s = l.finish?.softSigma;
    if (s === undefined) {
      assert.deepEqual((await readImage(path.join(soft, l.file))).data, (await readImage(path.join(byDefault, twin.file))).data, `${l.file} unchanged`);
    } else if (l.labels[0] === 'clean' && !l.finish?.noiseSigma) {
      assert.ok(s >= 0.2 && s <= 0.5, String(s));
      gradA += gradientEnergy(await readImage(path.join(byDefault, twin.file)));
      gradB += gradientEnergy(await readImage(path.join(soft, l.file)));
    }
  }
  assert.ok(gradA > 0 && gradB < 0.97 * gradA, `gradient energy of softened clean samples ${gradB} vs ${gradA} without`);
  await assert.rejects(synthesize({ out: await tmpDir(), perClass: 1, size: 64, quiet: true, softFinish: 1.5 }), /softFinish/);
  await assert.rejects(synthCommand.run(['--out', await tmpDir(), '--per-class', '1', '--soft-finish', 'much']), /--soft-finish/);
});

test('coarse noise grain: off by default, on a share of samples when asked, on both the noise label and the finish', async () => {
  const byDefault = await tmpDir();
  await synthesize({ out: byDefault, perClass: 6, size: 64, seed: 5, quiet: true, workers: 0 });
  const grained = await tmpDir();
  await synthesize({ out: grained, perClass: 6, size: 64, seed: 5, quiet: true, workers: 0, noiseGrain: 0.5 });
  assert.equal('noiseGrain' in JSON.parse(await fs.readFile(path.join(byDefault, 'synth.json'), 'utf8')), false);
  assert.equal((JSON.parse(await fs.readFile(path.join(grained, 'synth.json'), 'utf8')) as SynthConfig).noiseGrain, 0.5);
  const a = await readLines(path.join(byDefault, 'manifest.jsonl'));
  const b = await readLines(path.join(grained, 'manifest.jsonl'));
  const grainOf = (l: (typeof b)[number]) => (l.params as Record<string, { grain?: number }>).noise?.grain ?? l.finish?.noiseGrain;
  assert.ok(a.every((l) => grainOf(l) === undefined));
  const labelGrain = b.filter((l) => l.labels.includes('noise') && grainOf(l) !== undefined);
  const finishGrain = b.filter((l) => l.finish?.noiseGrain !== undefined);
  assert.ok(labelGrain.length > 0 && finishGrain.length > 0, `${labelGrain.length} label, ${finishGrain.length} finish`);
  for (const l of b) {
    const twin = a.find((x) => x.id === l.id)!;
    if (grainOf(l) === undefined) {
      assert.deepEqual(l, twin);
      assert.deepEqual((await readImage(path.join(grained, l.file))).data, (await readImage(path.join(byDefault, twin.file))).data, `${l.file} unchanged`);
    } else {
      assert.deepEqual(l.labels, twin.labels);
      assert.deepEqual(l.severities, twin.severities);
      const g = grainOf(l)!;
      assert.ok(g >= 0.6 && g <= 2, String(g));
    }
  }
  await assert.rejects(synthesize({ out: await tmpDir(), perClass: 1, size: 64, quiet: true, noiseGrain: -0.1 }), /noiseGrain/);
  await assert.rejects(synthCommand.run(['--out', await tmpDir(), '--per-class', '1', '--noise-grain', 'lots']), /--noise-grain/);
});

test('codec finish and isp noise: off by default, on a share of samples when asked, recorded, the rest of each sample unchanged', async () => {
  const byDefault = await tmpDir();
  await synthesize({ out: byDefault, perClass: 6, size: 64, seed: 6, quiet: true, workers: 0 });
  const both = await tmpDir();
  await synthesize({ out: both, perClass: 6, size: 64, seed: 6, quiet: true, workers: 0, codecFinish: 0.5, ispNoise: 0.5 });
  const defaultCfg = JSON.parse(await fs.readFile(path.join(byDefault, 'synth.json'), 'utf8')) as SynthConfig;
  assert.equal('codecFinish' in defaultCfg || 'ispNoise' in defaultCfg, false);
  const cfg = JSON.parse(await fs.readFile(path.join(both, 'synth.json'), 'utf8')) as SynthConfig;
  assert.deepEqual([cfg.codecFinish, cfg.ispNoise], [0.5, 0.5]);
  const a = await readLines(path.join(byDefault, 'manifest.jsonl'));
  const b = await readLines(path.join(both, 'manifest.jsonl'));
  const noiseParams = (l: (typeof b)[number]) => (l.params as Record<string, { model?: string; isp?: object }>).noise;
  assert.ok(a.every((l) => l.finish?.codec === undefined && l.finish?.noiseIsp === undefined && noiseParams(l)?.model !== 'isp'));
  let codecs = 0;
  let labelIsp = 0;
  let finishIsp = 0;
  for (const l of b) {
    const twin = a.find((x) => x.id === l.id)!;
    assert.deepEqual([l.labels, l.severities, l.source], [twin.labels, twin.severities, twin.source]);
    if (l.finish?.codec) {
      codecs++;
      assert.ok(!l.labels.includes('jpeg') && l.finish.jpegQuality === undefined, `${l.file}: one compression, never on the jpeg label`);
      assert.ok(['avif', 'webp'].includes(l.finish.codec) && Number.isInteger(l.finish.codecQuality));
    }
    if (noiseParams(l)?.model === 'isp') labelIsp++;
    if (l.finish?.noiseIsp) {
      finishIsp++;
      assert.ok(!l.labels.includes('noise') && !l.labels.includes('low_light'));
    }
    if (!l.finish?.codec && !l.finish?.noiseIsp && noiseParams(l)?.model !== 'isp') {
      assert.deepEqual(l, twin);
      assert.deepEqual((await readImage(path.join(both, l.file))).data, (await readImage(path.join(byDefault, twin.file))).data, `${l.file} unchanged`);
    }
  }
  assert.ok(codecs > 0 && labelIsp > 0 && finishIsp > 0, `${codecs} codec, ${labelIsp} label isp, ${finishIsp} finish isp`);
  await assert.rejects(synthesize({ out: await tmpDir(), perClass: 1, size: 64, quiet: true, codecFinish: 2 }), /codecFinish/);
  await assert.rejects(synthesize({ out: await tmpDir(), perClass: 1, size: 64, quiet: true, ispNoise: -1 }), /ispNoise/);
  await assert.rejects(synthCommand.run(['--out', await tmpDir(), '--per-class', '1', '--codec-finish', 'some']), /--codec-finish/);
  await assert.rejects(synthCommand.run(['--out', await tmpDir(), '--per-class', '1', '--isp-noise', '1.5']), /--isp-noise/);
});

test('rain shutter: off by default, on a share of the rain samples when asked, recorded, every other sample unchanged', async () => {
  const byDefault = await tmpDir();
  await synthesize({ out: byDefault, perClass: 6, size: 64, seed: 7, quiet: true, workers: 0, mix: 0.5 });
  const fast = await tmpDir();
  await synthesize({ out: fast, perClass: 6, size: 64, seed: 7, quiet: true, workers: 0, mix: 0.5, rainShutter: 0.5 });
  assert.equal('rainShutter' in JSON.parse(await fs.readFile(path.join(byDefault, 'synth.json'), 'utf8')), false);
  assert.equal((JSON.parse(await fs.readFile(path.join(fast, 'synth.json'), 'utf8')) as SynthConfig).rainShutter, 0.5);
  const a = await readLines(path.join(byDefault, 'manifest.jsonl'));
  const b = await readLines(path.join(fast, 'manifest.jsonl'));
  type Rain = { shutter?: number; layers: { length: number }[] };
  const rainOf = (l: (typeof b)[number]) => (l.params as Record<string, Rain | undefined>).rain;
  assert.ok(a.every((l) => rainOf(l)?.shutter === undefined));
  let shortened = 0;
  for (const l of b) {
    const twin = a.find((x) => x.id === l.id)!;
    const r = rainOf(l);
    if (r?.shutter === undefined) {
      assert.deepEqual(l, twin);
      assert.deepEqual((await readImage(path.join(fast, l.file))).data, (await readImage(path.join(byDefault, twin.file))).data, `${l.file} unchanged`);
      continue;
    }
    shortened++;
    assert.deepEqual([l.labels, l.severities, l.source, l.finish], [twin.labels, twin.severities, twin.source, twin.finish]);
    r.layers.forEach((layer, i) => assert.ok(layer.length < rainOf(twin)!.layers[i]!.length, `${l.file}: layer ${i} shorter`));
  }
  assert.ok(shortened > 0, 'some rain samples drew the shutter');
  await assert.rejects(synthesize({ out: await tmpDir(), perClass: 1, size: 64, quiet: true, rainShutter: 1.5 }), /rainShutter/);
  await assert.rejects(synthCommand.run(['--out', await tmpDir(), '--per-class', '1', '--rain-shutter', 'fast']), /--rain-shutter/);
});

test('GIF finish: off by default, on a share of the samples without the jpeg label when asked, recorded, every other sample unchanged', async () => {
  const byDefault = await tmpDir();
  await synthesize({ out: byDefault, perClass: 4, size: 64, seed: 8, quiet: true, workers: 0 });
  const gif = await tmpDir();
  await synthesize({ out: gif, perClass: 4, size: 64, seed: 8, quiet: true, workers: 0, gifFinish: 0.5 });
  assert.equal('gifFinish' in JSON.parse(await fs.readFile(path.join(byDefault, 'synth.json'), 'utf8')), false);
  assert.equal((JSON.parse(await fs.readFile(path.join(gif, 'synth.json'), 'utf8')) as SynthConfig).gifFinish, 0.5);
  const a = await readLines(path.join(byDefault, 'manifest.jsonl'));
  const b = await readLines(path.join(gif, 'manifest.jsonl'));
  assert.ok(a.every((l) => l.finish?.gifDither === undefined));
  let gifs = 0;
  for (const l of b) {
    const twin = a.find((x) => x.id === l.id)!;
    const image = await readImage(path.join(gif, l.file));
    if (l.finish?.gifDither === undefined) {
      assert.deepEqual(l, twin);
      assert.deepEqual(image.data, (await readImage(path.join(byDefault, twin.file))).data, `${l.file} unchanged`);
      continue;
    }
    gifs++;
    assert.ok(!l.labels.includes('jpeg'), `${l.file}: never on the jpeg label`);
    assert.deepEqual({ ...l, finish: { ...l.finish, gifDither: undefined } }, { ...twin, finish: { ...twin.finish, gifDither: undefined } });
    const colours = distinctColours(image);
    assert.ok(colours <= FINISH_GIF_COLOURS, `${l.file}: ${colours} colours`);
  }
  assert.ok(gifs > 0, 'some samples drew the GIF finish');
  await assert.rejects(synthesize({ out: await tmpDir(), perClass: 1, size: 64, quiet: true, gifFinish: -0.5 }), /gifFinish/);
  await assert.rejects(synthCommand.run(['--out', await tmpDir(), '--per-class', '1', '--gif-finish', 'x']), /--gif-finish/);
});

test('finish share flags: each documented in synth --help, recorded in synth.json under its key in table order', async () => {
  for (const { flag } of FINISH_SHARE_FLAGS) assert.match(synthCommand.usage, new RegExp(`--${flag} P`), `--${flag} in synth --help`);
  // The ranges the help states are the ones the finish draws from.
  const help = synthCommand.usage.replace(/\s+/g, ' ');
  assert.ok(help.includes(`Gaussian PSF of sigma ${FINISH_SOFT_SIGMA[0]}-${FINISH_SOFT_SIGMA[1]} px`), help);
  assert.ok(help.includes(`Gaussian of ${NOISE_GRAIN_SIGMA[0]}-${NOISE_GRAIN_SIGMA[1]} px`));
  assert.ok(help.includes(`AVIF (quality ${FINISH_CODEC_QUALITY.avif[0]}-${FINISH_CODEC_QUALITY.avif[1]}) or WebP (${FINISH_CODEC_QUALITY.webp[0]}-${FINISH_CODEC_QUALITY.webp[1]})`));
  assert.ok(help.includes(`chroma noise reduction (sigma ${ISP_CHROMA_SIGMA[0]}-${ISP_CHROMA_SIGMA[1]} px)`));
  assert.ok(help.includes(`every streak ${RAIN_SHUTTER_RANGE[0]}-${RAIN_SHUTTER_RANGE[1]} of its length (at least ${RAIN_MIN_LENGTH} px)`));
  assert.ok(help.includes(`${FINISH_GIF_COLOURS} colours, error diffusion of strength ${FINISH_GIF_DITHER[0]}-${FINISH_GIF_DITHER[1]}`));
  // The example's shell line continuation is printed, not swallowed by the template literal.
  assert.match(synthCommand.usage, /--mix 0\.4 \\\n {4}--splits-from/);
  const out = await tmpDir();
  const shares = [0.6, 0.5, 0.4, 0.3, 0.2, 0.1];
  // Given in reverse order; recorded in table order all the same.
  const pairs = FINISH_SHARE_FLAGS.map(({ flag }, i) => [`--${flag}`, String(shares[i])]).reverse().flat();
  assert.equal(await synthCommand.run(['--out', out, '--per-class', '1', '--size', '32', '--workers', '0', '--quiet', ...pairs]), 0);
  const cfg = JSON.parse(await fs.readFile(path.join(out, 'synth.json'), 'utf8')) as Record<string, unknown>;
  const recorded = Object.keys(cfg).filter((k) => FINISH_SHARE_FLAGS.some((o) => o.key === k));
  assert.deepEqual(recorded, FINISH_SHARE_FLAGS.map((o) => o.key));
  assert.deepEqual(recorded.map((k) => cfg[k]), shares);
});

/** Sum of squared horizontal differences of the first channel. */
function gradientEnergy(img: { width: number; height: number; data: Float32Array }): number {
  let e = 0;
  for (let y = 0; y < img.height; y++) for (let x = 1; x < img.width; x++) e += (img.data[y * img.width + x]! - img.data[y * img.width + x - 1]!) ** 2;
  return e;
}

test('synth command: flags, preview contact sheet, errors', async () => {
  const out = await tmpDir();
  const code = await synthCommand.run(['--out', out, '--per-class', '1', '--size', '48', '--workers', '0', '--quiet', '--preview']);
  assert.equal(code, 0);
  const sheet = await readImage(path.join(out, 'preview.png'));
  assert.ok(sheet.width > 5 * 48 && sheet.height > 8 * 48);
  await assert.rejects(synthCommand.run(['--per-class', '1']), ArgumentError);
  await assert.rejects(synthCommand.run(['--out', out, '--per-class', '0']), ArgumentError);
  await assert.rejects(synthCommand.run(['--out', out, '--per-class', '1', '--bogus']), ArgumentError);
});

test('progress: a line per ~10% when not a TTY, nothing when quiet; atomic writes leave no temp', async () => {
  let t = 0;
  const stream = Object.assign(new PassThrough(), { isTTY: false });
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  const p = new Progress({ total: 100, label: 'x', unit: 'img', stream, now: () => (t += 10) });
  for (let i = 0; i < 100; i++) p.tick();
  p.finish();
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 11);
  assert.match(lines[10]!, /100\/100 \(100%\) \d+\.\d img\/s/);
  const quiet = Object.assign(new PassThrough(), { isTTY: false });
  let q = '';
  quiet.on('data', (d: Buffer) => (q += d.toString()));
  const pq = new Progress({ total: 10, stream: quiet, quiet: true });
  pq.tick(10);
  pq.finish();
  assert.equal(q, '');
  const dir = await tmpDir();
  await writeFileAtomic(path.join(dir, 'sub', 'f.txt'), 'hello');
  assert.deepEqual(await fs.readdir(path.join(dir, 'sub')), ['f.txt']);
});
