/**
 * Evaluation on a folder of real photos sorted by problem (`<dir>/<class>/*`, e.g. shared/realdev):
 * per-class recall of the inspector and of the classic baselines, and the clean false-alarm rate
 * (clean photos flagged with any problem). Evaluation only: nothing here trains or tunes.
 *
 * Also calibrates the baselines' thresholds on a *synthetic* labelled set (maximum F1 per rule).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AttnvisionError } from '../util/errors.js';
import { Inspector } from './inspector.js';
import { baselineLabels, baselineScores, DEFAULT_BASELINE_THRESHOLDS, type BaselineScores, type BaselineThresholds } from './baselines.js';
import { QUALITY_LABELS } from './labels.js';
import { IMAGE_EXTENSIONS, type Dataset } from '../data/dataset.js';

export interface ClassRow {
  cls: string;
  n: number;
  /** Inspector: fraction of the class's photos given that label (for clean: kept clean). */
  inspector: number;
  baseline: number | null;
  /** Inspector errors (files that failed to decode). */
  errors: number;
}

export interface RealEvalResult {
  rows: ClassRow[];
  thresholds: BaselineThresholds;
  files: { file: string; cls: string; inspector: string[]; baseline: string[] }[];
  /** Files that could not be inspected, with the reason (not counted in the rows' n). */
  failures: { file: string; cls: string; error: string }[];
}

export async function evaluateRealFolder(dir: string, inspector: Inspector, thresholds: BaselineThresholds = DEFAULT_BASELINE_THRESHOLDS, onFile?: (i: number, n: number) => void): Promise<RealEvalResult> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    throw new AttnvisionError(`${dir}: cannot read folder (${e.code ?? e.message})`);
  });
  const classes = entries.filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
  if (!classes.length) throw new AttnvisionError(`${dir}: no class sub-folders (expected ${dir}/<class>/<images>, e.g. clean/, noise/)`);
  const jobs: { file: string; cls: string }[] = [];
  for (const cls of classes) {
    for (const f of (await fs.readdir(path.join(dir, cls))).sort()) if (IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase())) jobs.push({ file: path.join(dir, cls, f), cls });
  }
  const files: RealEvalResult['files'] = [];
  const errs = new Map<string, number>();
  const failures: RealEvalResult['failures'] = [];
  for (const [i, j] of jobs.entries()) {
    try {
      const r = await inspector.inspect(j.file);
      const b = baselineLabels(await baselineScores(j.file), thresholds);
      files.push({ ...j, inspector: r.labels.map((l) => l.label), baseline: b });
    } catch (e) {
      errs.set(j.cls, (errs.get(j.cls) ?? 0) + 1);
      failures.push({ ...j, error: (e as Error).message });
    }
    onFile?.(i + 1, jobs.length);
  }
  const rows: ClassRow[] = classes.map((cls) => {
    const fs_ = files.filter((f) => f.cls === cls);
    const n = fs_.length;
    const known = (QUALITY_LABELS as readonly string[]).includes(cls);
    const hit = (labels: string[]) => (cls === 'clean' ? labels.length === 0 : labels.includes(cls));
    const canBaseline = cls === 'clean' || (known && cls !== 'rain');
    return {
      cls,
      n,
      inspector: n && (known || cls === 'clean') ? fs_.filter((f) => hit(f.inspector)).length / n : NaN,
      baseline: canBaseline && n ? fs_.filter((f) => hit(f.baseline)).length / n : null,
      errors: errs.get(cls) ?? 0,
    };
  });
  if (!jobs.length) throw new AttnvisionError(`${dir}: no images in its class folders (${classes.join(', ')})`);
  return { rows, thresholds, files, failures };
}

export function realEvalMarkdown(r: RealEvalResult): string {
  const pct = (v: number | null) => (v === null || Number.isNaN(v) ? '-' : `${(100 * v).toFixed(0)}%`);
  const lines = ['| class | n | inspector | classic baseline |', '|---|---|---|---|'];
  for (const row of r.rows) lines.push(`| ${row.cls === 'clean' ? 'clean (kept clean)' : row.cls} | ${row.n} | ${pct(row.inspector)} | ${pct(row.baseline)} |`);
  return lines.join('\n');
}

/** Per-rule thresholds maximising F1 on a labelled synthetic set (multi-label manifest dataset). */
export async function calibrateBaselines(ds: Dataset, limit = 400): Promise<{ thresholds: BaselineThresholds; f1: Record<string, number> }> {
  const samples = ds.samples.slice(0, limit);
  const scores: BaselineScores[] = [];
  for (const s of samples) scores.push(await baselineScores(s.file));
  const has = (i: number, label: string) => {
    const k = ds.classes.indexOf(label);
    return k >= 0 && samples[i]!.labels![k]! > 0.5;
  };
  const best = (values: number[], positive: boolean[], below: boolean) => {
    const cands = [...new Set(values)].sort((a, b) => a - b);
    let top = { t: values[0] ?? 0, f1: -1 };
    for (const t of cands) {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      values.forEach((v, i) => {
        const flag = below ? v <= t : v >= t;
        if (flag && positive[i]) tp++;
        else if (flag) fp++;
        else if (positive[i]) fn++;
      });
      const f1 = tp ? (2 * tp) / (2 * tp + fp + fn) : 0;
      if (f1 > top.f1) top = { t, f1 };
    }
    return top;
  };
  const idx = samples.map((_, i) => i);
  const blur = best(scores.map((s) => s.laplacianVariance), idx.map((i) => has(i, 'defocus_blur') || has(i, 'motion_blur')), true);
  const noise = best(scores.map((s) => s.noiseSigma), idx.map((i) => has(i, 'noise')), false);
  const haze = best(scores.map((s) => s.darkChannel), idx.map((i) => has(i, 'haze')), false);
  const dark = best(scores.map((s) => s.meanLuminance), idx.map((i) => has(i, 'low_light')), true);
  const jpeg = best(scores.map((s) => s.blockiness), idx.map((i) => has(i, 'jpeg')), false);
  return {
    thresholds: { blurBelow: blur.t, noiseAbove: noise.t, hazeAbove: haze.t, darkBelow: dark.t, blockinessAbove: jpeg.t },
    f1: { blur: blur.f1, noise: noise.f1, haze: haze.f1, low_light: dark.f1, jpeg: jpeg.f1 },
  };
}
