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
import { writeFileAtomic } from '../../util/fs.js';
import { ArgumentError, AttnvisionError } from '../../util/errors.js';
import { Progress } from '../../util/progress.js';
import type { LabelResult } from '../../quality/labels.js';

const usage = `Usage: attnvision inspect <files|folders|globs>... [--json] [--threshold T] [--heatmap out.png] [--report out.csv|out.jsonl] [--model model.onnx]
       attnvision inspect --demo     (built-in example: a synthetic scene, clean and with each problem)

Tells which quality problems each photo has: defocus_blur, motion_blur, noise, rain, haze,
low_light, jpeg, or clean. Any image size: the image is scanned in tiles at near-native scale and
the tile scores are aggregated; --heatmap shows where each problem is. A photo larger than the
model's tile budget is downscaled for that scan, and the labels its config reads at pixel level
(the shipped model: noise, jpeg) come from native-scale tiles spread over the photo instead.
  --json          print one JSON array: [{file, clean, labels: [{label, probability, severity}], error?}]
  --threshold T   decision threshold in (0, 1) (default: the model's)
  --heatmap F     write a per-label heatmap PNG (several inputs: F-<name>.png each)
  --report F      also write every result to F (.csv or .jsonl)
  --model F       another inspector ONNX model (config read from F with .json)
  --demo          inspect built-in example images (procedural scene, clean + each degradation)
Folders are searched recursively for images; bad files get an error entry and the rest continue.
Exit code: 0 when every file was inspected, 3 when some files failed.`;

interface Row {
  file: string;
  clean?: boolean;
  labels?: LabelResult[];
  error?: string;
}

function heatmapPath(out: string, file: string, many: boolean): string {
  if (!many) return out;
  const ext = path.extname(out) || '.png';
  return `${out.slice(0, out.length - path.extname(out).length)}-${path.basename(file, path.extname(file))}${ext}`;
}

function toCsv(rows: Row[], labels: readonly string[]): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const head = ['file', 'clean', ...labels.flatMap((l) => [`${l}_probability`, `${l}_severity`]), 'error'];
  const lines = rows.map((r) => {
    const by = new Map((r.labels ?? []).map((l) => [l.label as string, l]));
    return [q(r.file), r.error ? '' : String(r.clean), ...labels.flatMap((l) => [String(by.get(l)?.probability ?? ''), String(by.get(l)?.severity ?? '')]), q(r.error ?? '')].join(',');
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
    const threshold = a.flags.has('threshold') ? flagNumber(a, 'threshold', 0.5, 'inspect', { min: 1e-6, max: 1 - 1e-6 }) : undefined;
    const report = flagString(a, 'report');
    if (report && !/\.(csv|jsonl)$/i.test(report)) throw new ArgumentError(`inspect: expected a .csv or .jsonl file for --report but received "${report}"`);
    const heatmap = flagString(a, 'heatmap');
    const inputs = await expandInputs(a.positional, IMAGE_EXTENSIONS);
    const inspector = await Inspector.load({ model: flagString(a, 'model') });
    const rows: Row[] = [];
    const bar = inputs.length > 1 ? new Progress({ total: inputs.length, label: 'inspect', unit: 'img' }) : null;
    try {
      for (const inp of inputs) {
        if (inp.missing) {
          rows.push({ file: inp.file, error: 'no such file, folder or matching glob' });
        } else {
          try {
            const r = await inspector.inspect(inp.file, { threshold });
            // Only labels at or above the threshold, most probable first (the JSON contract).
            rows.push({ file: inp.file, clean: r.clean, labels: r.labels });
            if (heatmap) await renderHeatmap(inp.file, r, heatmapPath(heatmap, inp.file, inputs.length > 1));
            (rows[rows.length - 1] as Row & { scores?: LabelResult[] }).scores = r.scores;
          } catch (e) {
            if (!(e instanceof AttnvisionError)) throw e;
            rows.push({ file: inp.file, error: e.message.startsWith(inp.file) ? e.message.slice(inp.file.length + 2) : e.message });
          }
        }
        bar?.tick();
      }
    } finally {
      bar?.finish();
      await inspector.dispose();
    }
    const publicRows = rows.map(({ file, clean, labels, error }) => (error ? { file, error } : { file, clean, labels }));
    if (report) {
      const full = rows.map((r) => ({ file: r.file, clean: r.clean, labels: (r as Row & { scores?: LabelResult[] }).scores ?? r.labels, error: r.error }));
      await writeFileAtomic(report, report.toLowerCase().endsWith('.csv') ? toCsv(full, inspector.config.labels) : full.map((r) => JSON.stringify(r)).join('\n') + '\n');
    }
    if (a.flags.has('json')) console.log(JSON.stringify(publicRows, null, 1));
    else {
      for (const r of publicRows) {
        if ('error' in r && r.error) console.log(`${r.file}: error: ${r.error}`);
        else if (r.clean) console.log(`${r.file}: clean`);
        else console.log(`${r.file}: ${r.labels!.map((l) => `${l.label} (p ${l.probability.toFixed(2)}, severity ${l.severity.toFixed(2)})`).join(', ')}`);
      }
    }
    return rows.some((r) => r.error) ? 3 : 0;
  },
};
