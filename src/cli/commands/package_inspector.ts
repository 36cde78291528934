/**
 * `attnvision package-inspector`: turns a trained quality checkpoint into the shipped model files.
 */
import type { Command } from '../command.js';
import { parseArgs, flagNumber, flagString } from '../command.js';
import { packageInspector } from '../../quality/package.js';
import { calibrateInspector } from '../../quality/calibrate.js';
import { CALIBRATION_OBJECTIVES, type CalibrationObjective } from '../../quality/dataset_eval.js';
import { Progress } from '../../util/progress.js';
import { ArgumentError } from '../../util/errors.js';

export const packageInspectorCommand: Command = {
  name: 'package-inspector',
  summary: 'export a trained quality checkpoint as inspector ONNX + config',
  usage: `Usage: attnvision package-inspector --checkpoint FILE --out models/inspector.onnx [--threshold T] [--top-k K] [--max-tiles N]
                                     [--calibrate manifest.jsonl [--per-label [--per-label-tiles]] [--objective O]]

Writes the ONNX model (dynamic batch; outputs presence logits then severity logits) and its JSON
config next to it (labels, input size, normalisation, threshold, tile aggregation).
  --threshold T   decision threshold (default 0.5)
  --top-k K       image probability = mean of the K most confident tiles (default 2)
  --max-tiles N   at most N tiles per image side; larger images are downscaled (default 4)
  --calibrate F   then choose the threshold on the val split of manifest F: every image inspected
                  whole, thresholds 0.05..0.95 scanned, the best macro-F1 written to the config
  --per-label     with --calibrate: also write each label's best threshold (labelThresholds)
  --per-label-tiles
                  with --per-label: choose each label's share of tiles averaged (labelTopFraction:
                  the top 25%, 50% or all tiles) together with its threshold
  --objective O   what the calibration maximises (default with-clean):
                    with-clean  macro-F1 over the labels and "clean" (an image is clean only when
                                every label stays below its threshold); with --per-label the labels'
                                rules are chosen jointly, starting from each label's own best
                    label-f1    macro-F1 over the labels; each label its own best F1 (flags more
                                clean images: the labels' false alarms add up)`,
  async run(argv) {
    const a = parseArgs(argv, { values: ['checkpoint', 'out', 'threshold', 'top-k', 'max-tiles', 'calibrate', 'objective'], booleans: ['per-label', 'per-label-tiles'] }, 'package-inspector');
    const calibrate = flagString(a, 'calibrate');
    if (a.flags.has('per-label') && !calibrate) throw new ArgumentError('package-inspector: --per-label needs --calibrate');
    if (a.flags.has('per-label-tiles') && !a.flags.has('per-label')) throw new ArgumentError('package-inspector: --per-label-tiles needs --per-label');
    const objective = flagString(a, 'objective', 'with-clean')!;
    if (!CALIBRATION_OBJECTIVES.includes(objective as CalibrationObjective)) throw new ArgumentError(`package-inspector: expected ${CALIBRATION_OBJECTIVES.join(' or ')} for --objective but received "${objective}"`);
    if (a.flags.has('objective') && !calibrate) throw new ArgumentError('package-inspector: --objective needs --calibrate');
    if (calibrate && a.flags.has('threshold')) throw new ArgumentError('package-inspector: give --threshold or --calibrate, not both');
    const checkpoint = flagString(a, 'checkpoint');
    const out = flagString(a, 'out');
    if (!checkpoint || !out || !out.endsWith('.onnx')) throw new ArgumentError('package-inspector: --checkpoint FILE and --out FILE.onnx are required');
    const r = await packageInspector({
      checkpoint,
      out,
      threshold: flagNumber(a, 'threshold', 0.5, 'package-inspector', { min: 0.01, max: 0.99 }),
      topK: flagNumber(a, 'top-k', 2, 'package-inspector', { int: true, min: 1 }),
      maxTilesPerSide: flagNumber(a, 'max-tiles', 4, 'package-inspector', { int: true, min: 1, max: 16 }),
    });
    console.log(`wrote ${r.onnx} (${(r.bytes / 1e6).toFixed(1)} MB) and ${r.config}`);
    if (calibrate) {
      let bar: Progress | undefined;
      const c = await calibrateInspector(out, calibrate, { perLabel: a.flags.has('per-label'), fractions: a.flags.has('per-label-tiles'), objective: objective as CalibrationObjective, onFile: (_, n) => (bar ??= new Progress({ total: n, label: 'calibrate', unit: 'img' })).tick() });
      bar?.finish();
      const v = c.validation;
      console.log(`threshold scan (val, n=${v.metrics.n}): ${v.scan!.map((x) => `${x.threshold.toFixed(2)}:${x.macroF1.toFixed(3)}`).join(' ')}`);
      console.log(`threshold ${c.threshold} (${c.objective}): val macro-F1 ${c.best.macroF1.toFixed(4)}, with clean ${c.best.macroF1WithClean.toFixed(4)}, clean kept clean ${(100 * c.best.cleanKept).toFixed(1)}%`);
      const j = v.bestJoint;
      if (a.flags.has('per-label') && j) console.log(`joint per-label rules: val macro-F1 with clean ${j.startMacroF1WithClean.toFixed(4)} (each label's own best) -> ${j.macroF1WithClean.toFixed(4)} after ${j.rounds} rounds`);
      if (c.labelThresholds) console.log(`per-label thresholds: ${v.metrics.classes.map((l, k) => `${l} ${c.labelThresholds![k]}`).join(', ')}`);
      if (c.labelTopFraction) console.log(`per-label tile shares: ${v.metrics.classes.map((l, k) => `${l} ${c.labelTopFraction![k]}`).join(', ')}`);
      console.log(`updated ${r.config}`);
    }
    return 0;
  },
};
