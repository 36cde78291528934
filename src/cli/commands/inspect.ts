/**
 * `attnvision inspect`: which quality problems do these photos have?
 */
import path from 'node:path';
import type { Command } from '../command.js';
import { parseArgs, flagNumber, flagString } from '../command.js';
import { Inspector } from '../../quality/inspector.js';
import { renderHeatmap } from '../../quality/heatmap.js';
import { writeDemoImages } from '../../quality/demo.js';
import { expandInputs } from '../../util/glob.js';
import { IMAGE_EXTENSIONS } from '../../data/dataset.js';
import { checkWritableFile, writeFileAtomic } from '../../util/fs.js';
import { ArgumentError, AttnvisionError } from '../../util/errors.js';
import { Progress } from '../../util/progress.js';
import type { LabelResult } from '../../quality/labels.js';

const usage = `Usage: attnvision inspect <files|folders|globs>... [--json] [--threshold T] [--heatmap out.png] [--report out.csv|out.jsonl] [--model model.onnx]
       attnvision inspect --demo     (built-in example: a synthetic scene, clean and with each problem)

Tells which quality problems each photo has: defocus_blur, motion_blur, noise, rain, haze,
low_light, jpeg, or clean. Any image size: the image is scanned in tiles at near-native scale and
the tile scores are aggregated; --heatmap shows where each problem is. A photo larger than the
model's tile budget is downscaled for that scan; the labels its config reads at pixel level
(the shipped model: noise, jpeg) come from native-scale tiles spread over the photo instead, and
its fine labels (the shipped model: the two blurs) from a second scan downscaled less (the
shipped model: at most 7 tiles per side, 784 px, so native scale up to 784 px).
  --json          print one JSON array: [{file, clean, labels: [{label, probability, severity}], error?}]
                  (labels: the problems found, most probable first; a file that failed has
                  clean null, labels [] and error; a heatmap that could not be written keeps
                  the file's results and adds error)
  --threshold T   decision threshold in (0, 1) (default: the model's)
  --heatmap F.png write a per-label heatmap PNG (several inputs: F-<name>.png each; a repeated
                  name gets -2, -3, ...)
  --report F      also write every result to F (.csv: a column per label's probability and
                  severity; .jsonl: the --json objects plus scores, every label's)
  --model F.onnx  another inspector ONNX model (config read from F with .json)
  --demo          inspect built-in example images (procedural scene, clean + each degradation,
                  written to <tmp>/attnvision-demo-<uid>)
Folders are searched recursively for images (links followed); bad files get an error entry and
the rest continue, as do empty folders, unreadable folders and paths that match nothing. Images
thinner than 1:25 (the shipped model's 5 x 5 tile budget) or under 32 px on the shorter side (a
112 px tile enlarged over 3.5x) are refused, by name.
Exit code: 0 when every file was inspected, 3 when some files failed.`;

interface Row {
  file: string;
  clean?: boolean;
  /** The labels found (at or above their thresholds). */
  labels?: LabelResult[];
  /** Every label's probability and severity. */
  scores?: LabelResult[];
  error?: string;
}

/**
 * Heatmap file of each input: `out` itself for one input, else `<out>-<name>.png`, with -2, -3,
 * ... appended to a name already taken (photos of the same name in different folders).
 */
export function heatmapPaths(out: string, files: readonly string[]): Map<string, string> {
  const paths = new Map<string, string>();
  if (files.length === 1) return paths.set(files[0]!, out);
  const stem = out.slice(0, out.length - path.extname(out).length);
  const taken = new Set<string>();
  for (const file of files) {
    const name = path.basename(file, path.extname(file));
    let p = `${stem}-${name}.png`;
    for (let i = 2; taken.has(p); i++) p = `${stem}-${name}-${i}.png`;
    taken.add(p);
    paths.set(file, p);
  }
  return paths;
}

function toCsv(rows: Row[], labels: readonly string[]): string {
  const q = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const head = ['file', 'clean', ...labels.flatMap((l) => [`${l}_probability`, `${l}_severity`]), 'error'];
  const lines = rows.map((r) => {
    const by = new Map((r.scores ?? []).map((l) => [l.label as string, l]));
    return [q(r.file), r.clean === undefined ? '' : String(r.clean), ...labels.flatMap((l) => [String(by.get(l)?.probability ?? ''), String(by.get(l)?.severity ?? '')]), q(r.error ?? '')].join(',');
  });
  return [head.join(','), ...lines].join('\n') + '\n';
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'tell which quality problems photos have (blur, noise, rain, haze, low light, JPEG)',
  usage,
  async run(argv) {
    const a = parseArgs(argv, { values: ['threshold', 'heatmap', 'report', 'model'], booleans: ['json', 'demo'] }, 'inspect');
    if (a.flags.has('demo')) a.positional.push(...(await writeDemoImages()));
    if (!a.positional.length) throw new ArgumentError('inspect: expected at least one image, folder or glob (see attnvision inspect --help)');
    const threshold = a.flags.has('threshold') ? flagNumber(a, 'threshold', 0.5, 'inspect', { min: 0, max: 1, open: true }) : undefined;
    const report = flagString(a, 'report');
    if (report && !/\.(csv|jsonl)$/i.test(report)) throw new ArgumentError(`inspect: expected a .csv or .jsonl file for --report but received "${report}"`);
    const heatmap = flagString(a, 'heatmap');
    if (heatmap !== undefined && !/\.png$/i.test(heatmap)) throw new ArgumentError(`inspect: expected a .png file for --heatmap but received "${heatmap}"`);
    if (report) await checkWritableFile(report, `inspect: --report ${report}`);
    if (heatmap) await checkWritableFile(heatmap, `inspect: --heatmap ${heatmap}`);
    const inputs = await expandInputs(a.positional, IMAGE_EXTENSIONS);
    const files = inputs.filter((i) => !i.missing).map((i) => i.file);
    const heatmaps = heatmap ? heatmapPaths(heatmap, files) : new Map<string, string>();
    const inputPaths = new Set(files.map((f) => path.resolve(f)));
    for (const [file, out] of heatmaps) if (inputPaths.has(path.resolve(out))) throw new ArgumentError(`inspect: --heatmap ${heatmap} would overwrite the input ${file}`);
    const inspector = await Inspector.load({ model: flagString(a, 'model') });
    const rows: Row[] = [];
    const bar = inputs.length > 1 ? new Progress({ total: inputs.length, label: 'inspect', unit: 'img' }) : null;
    const reason = (e: unknown, file: string) => {
      const m = (e as Error).message ?? String(e);
      return m.startsWith(`${file}: `) ? m.slice(file.length + 2) : m;
    };
    try {
      for (const inp of inputs) {
        if (inp.missing) {
          rows.push({ file: inp.file, error: inp.reason ?? 'no such file, folder or matching glob' });
        } else {
          let row: Row;
          try {
            const r = await inspector.inspect(inp.file, { threshold });
            // Only labels at or above the threshold, most probable first (the JSON contract).
            row = { file: inp.file, clean: r.clean, labels: r.labels, scores: r.scores };
            const out = heatmaps.get(inp.file);
            if (out) await renderHeatmap(inp.file, r, out).catch((e: unknown) => (row.error = `heatmap ${out} not written: ${reason(e, inp.file)}`));
          } catch (e) {
            // A bad file is that file's error and the others go on; anything else is a bug and stops.
            if (!(e instanceof AttnvisionError)) throw e;
            row = { file: inp.file, error: reason(e, inp.file) };
          }
          rows.push(row);
        }
        bar?.tick();
      }
    } finally {
      bar?.finish();
      await inspector.dispose();
    }
    const publicRows = rows.map(({ file, clean, labels, error }) => (error ? { file, clean: clean ?? null, labels: labels ?? [], error } : { file, clean, labels }));
    if (a.flags.has('json')) console.log(JSON.stringify(publicRows, null, 1));
    else {
      for (const r of publicRows) {
        if (r.error && r.clean === null) console.log(`${r.file}: error: ${r.error}`);
        else {
          const found = r.clean ? 'clean' : r.labels!.map((l) => `${l.label} (p ${l.probability.toFixed(2)}, severity ${l.severity.toFixed(2)})`).join(', ');
          console.log(`${r.file}: ${found}${r.error ? `; error: ${r.error}` : ''}`);
        }
      }
    }
    if (report) {
      const csv = report.toLowerCase().endsWith('.csv');
      try {
        await writeFileAtomic(report, csv ? toCsv(rows, inspector.config.labels) : rows.map((r, i) => JSON.stringify({ ...publicRows[i], ...(r.scores ? { scores: r.scores } : {}) })).join('\n') + '\n');
      } catch (e) {
        throw new AttnvisionError(`inspect: --report ${report} not written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the results are above`);
      }
    }
    return rows.some((r) => r.error) ? 3 : 0;
  },
};
