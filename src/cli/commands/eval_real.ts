/**
 * `attnvision eval-real`: the inspector and the classic baselines on a folder of real photos sorted
 * by problem (evaluation only).
 */
import type { Command } from '../command.js';
import { parseArgs, flagString } from '../command.js';
import { Inspector } from '../../quality/inspector.js';
import { evaluateRealFolder, realEvalMarkdown, calibrateBaselines } from '../../quality/real_eval.js';
import { DEFAULT_BASELINE_THRESHOLDS, type BaselineThresholds } from '../../quality/baselines.js';
import { manifestDataset } from '../../data/dataset.js';
import { QUALITY_LABELS } from '../../quality/labels.js';
import { checkWritableFile, writeFileAtomic } from '../../util/fs.js';
import { ArgumentError } from '../../util/errors.js';
import { Progress } from '../../util/progress.js';

export const evalRealCommand: Command = {
  name: 'eval-real',
  summary: 'per-class recall of the inspector vs classic baselines on real photos (<dir>/<class>/*)',
  usage: `Usage: attnvision eval-real <dir> [--model inspector.onnx] [--calibrate manifest.jsonl] [--json out.json]

<dir> holds one folder per class (clean, defocus_blur, motion_blur, noise, rain, haze, low_light,
jpeg; other folders are reported as-is). Prints a markdown table: recall per class (for clean: the
fraction kept clean) for the inspector and for the classic baselines (Laplacian variance, Immerkaer
noise sigma, dark channel, mean luminance, blockiness).
  --calibrate F   calibrate baseline thresholds on the val split of a synthetic manifest (never on <dir>)
  --json F        write per-file results and the table as JSON
Files that cannot be inspected are named on stderr and not counted (exit code 3).`,
  async run(argv) {
    const a = parseArgs(argv, { values: ['model', 'calibrate', 'json'], positional: 1 }, 'eval-real');
    const dir = a.positional[0];
    if (!dir) throw new ArgumentError('eval-real: expected a folder of class sub-folders');
    let thresholds: BaselineThresholds = DEFAULT_BASELINE_THRESHOLDS;
    const cal = flagString(a, 'calibrate');
    if (cal) {
      const c = await calibrateBaselines(await manifestDataset(cal, QUALITY_LABELS, 'val'));
      thresholds = c.thresholds;
      console.error(`baseline thresholds calibrated on ${cal} (val): ${JSON.stringify(c.thresholds)} (synthetic F1 ${JSON.stringify(c.f1)})`);
    }
    const out = flagString(a, 'json');
    if (out) await checkWritableFile(out, `eval-real: --json ${out}`);
    const inspector = await Inspector.load({ model: flagString(a, 'model') });
    const bars: Progress[] = [];
    try {
      const r = await evaluateRealFolder(dir, inspector, thresholds, (_i, n) => {
        if (!bars.length) bars.push(new Progress({ total: n, label: 'eval-real', unit: 'img' }));
        bars[0]!.tick();
      });
      bars[0]?.finish();
      for (const f of r.failures) console.error(f.error.startsWith(f.file) ? f.error : `${f.file}: ${f.error}`);
      console.log(realEvalMarkdown(r));
      if (out) await writeFileAtomic(out, JSON.stringify(r, null, 1));
      return r.failures.length ? 3 : 0;
    } finally {
      await inspector.dispose();
    }
  },
};
