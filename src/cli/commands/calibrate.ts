/**
 * `attnvision calibrate`: re-chooses the decision rules (threshold, per-label thresholds and tile
 * shares) of a packaged inspector on the validation split of a labelled manifest, rewriting its JSON
 * config in place (atomically). Also the calibration step of `package-inspector --calibrate`.
 */
import type { Command, ParsedArgs } from '../command.js';
import { parseArgs, flagNumber, flagString } from '../command.js';
import { calibrateInspector, type CalibrationResult } from '../../quality/calibrate.js';
import { CALIBRATION_OBJECTIVES, isJointObjective, type CalibrationObjective, type ScanPoint } from '../../quality/dataset_eval.js';
import { Progress } from '../../util/progress.js';
import { ArgumentError } from '../../util/errors.js';

/** Help text of the calibration flags (shared with package-inspector). */
export const CALIBRATION_FLAGS_USAGE = `  --per-label     also write each label's best threshold (labelThresholds)
  --per-label-tiles
                  with --per-label: choose each label's share of tiles averaged (labelTopFraction:
                  the top 25%, 50% or all tiles) together with its threshold
  --objective O   what the calibration maximises (default with-clean):
                    with-clean  macro-F1 over the labels and "clean" (an image is clean only when
                                every label stays below its threshold); with --per-label the labels'
                                rules are chosen jointly by coordinate ascent from several starts
                                (each label's own best; under a floor, the best without it; every
                                label at its strictest rule), the best end point kept
                    bars        with --per-label: the issue's two synthetic bars at once; the same
                                joint search maximises the smaller of (macro-F1 on images with at
                                most one problem) / 0.97 and (mean label recall on images with two
                                or more) / 0.90; the global threshold as with-clean
                    label-f1    macro-F1 over the labels; each label its own best F1 (flags more
                                clean images: the labels' false alarms add up)
  --min-clean-kept F
                  with --per-label and with-clean or bars: a false-alarm budget; the joint search
                  keeps at least the share F of the split's clean images clean (e.g. 0.85), then
                  maximises the score above that floor (costs recall); when no rules reach F, exits
                  1 and leaves the config unchanged
Labels with no positive image in the split keep their current threshold with --per-label (and their tile
share when it is one of the scanned ones, else all tiles); warned. A split with no inspectable image, or
with no labelled image, is refused and the config left unchanged.`;

export interface CalibrationFlags {
  perLabel: boolean;
  fractions: boolean;
  objective: CalibrationObjective;
  minCleanKept?: number;
}

/** Reads and checks --per-label, --per-label-tiles, --objective and --min-clean-kept. */
export function calibrationFlags(a: ParsedArgs, where: string): CalibrationFlags {
  if (a.flags.has('per-label-tiles') && !a.flags.has('per-label')) throw new ArgumentError(`${where}: --per-label-tiles needs --per-label`);
  const objective = flagString(a, 'objective', 'with-clean')!;
  if (!CALIBRATION_OBJECTIVES.includes(objective as CalibrationObjective)) throw new ArgumentError(`${where}: expected ${CALIBRATION_OBJECTIVES.join(', ')} for --objective but received "${objective}"`);
  if (objective === 'bars' && !a.flags.has('per-label')) throw new ArgumentError(`${where}: --objective bars chooses per-label rules; it needs --per-label`);
  const minCleanKept = a.flags.has('min-clean-kept') ? flagNumber(a, 'min-clean-kept', 0, where, { min: 0.01, max: 1 }) : undefined;
  if (minCleanKept !== undefined && (!isJointObjective(objective as CalibrationObjective) || !a.flags.has('per-label'))) throw new ArgumentError(`${where}: --min-clean-kept needs --per-label and the with-clean or bars objective`);
  return { perLabel: a.flags.has('per-label'), fractions: a.flags.has('per-label-tiles'), objective: objective as CalibrationObjective, minCleanKept };
}

/** A share as a percentage; "n/a" when undefined (a split without clean images). */
const pct = (x: number) => (Number.isNaN(x) ? 'n/a (no clean image)' : `${(100 * x).toFixed(1)}%`);

/** `--split` (default val), with a warning for a test split. */
export function calibrationSplit(a: ParsedArgs, command: string): string {
  const split = flagString(a, 'split', 'val')!;
  if (split === 'test') console.error(`${command}: warning: calibrating on a test split makes its scores no longer a test`);
  return split;
}

/** Calibrates `model` on `split` of `manifest` with a progress bar, and prints what was chosen. */
export async function runCalibration(model: string, manifest: string, flags: CalibrationFlags, split = 'val', configName?: string): Promise<CalibrationResult> {
  let bar: Progress | undefined;
  const c = await calibrateInspector(model, manifest, { ...flags, split, configName, onFile: (_, n) => (bar ??= new Progress({ total: n, label: 'calibrate', unit: 'img' })).tick() });
  bar?.finish();
  const v = c.validation;
  for (const e of v.errors) console.error(e.error.startsWith(e.file) ? e.error : `${e.file}: ${e.error}`);
  if (v.unsupportedLabels?.length) {
    const kept = !flags.perLabel
      ? 'the global threshold is chosen without them'
      : `their thresholds are kept${flags.fractions ? " (tile shares too when the config's is 0.25, 0.5 or 1; otherwise all tiles)" : ''}`;
    console.error(`calibrate: warning: no ${split} image has ${v.unsupportedLabels.join(', ')}; ${kept}`);
  }
  const joint = isJointObjective(c.objective);
  const score = (x: ScanPoint) => (joint ? x.macroF1WithClean : x.macroF1);
  console.log(`threshold scan (${split}, n=${v.metrics.n}, ${joint ? 'macro-F1 with clean' : 'macro-F1'}): ${v.scan!.map((x) => `${x.threshold.toFixed(2)}:${score(x).toFixed(3)}`).join(' ')}`);
  console.log(`threshold ${c.threshold} (${c.objective}): ${split} macro-F1 ${c.best.macroF1.toFixed(4)}, with clean ${c.best.macroF1WithClean.toFixed(4)}, clean kept clean ${pct(c.best.cleanKept)}`);
  const j = v.bestJoint;
  if (flags.perLabel && j) {
    const floor = flags.minCleanKept !== undefined ? `, floor ${(100 * flags.minCleanKept).toFixed(1)}% ${j.feasible ? 'met' : 'NOT met'}` : '';
    const what = j.objective === 'bars' ? 'bar score min(single macro-F1 / 0.97, pair recall / 0.90)' : 'macro-F1 with clean';
    console.log(`joint per-label rules: ${split} ${what} ${j.startScore.toFixed(4)} (each label's own best) -> ${j.score.toFixed(4)} after ${j.rounds} rounds from the ${j.start} start; clean kept clean ${pct(j.cleanKept)}${floor}`);
    console.log(`  at these rules: macro-F1 with clean ${j.macroF1WithClean.toFixed(4)}, single-problem macro-F1 ${j.singleMacroF1.toFixed(4)}, mean recall on two-problem images ${j.pairRecallMean.toFixed(4)}`);
    console.log(`  ascents: ${j.starts.map((x) => `from ${x.start} ${x.score.toFixed(4)}, clean kept ${pct(x.cleanKept)}${x.feasible ? '' : ' (below the floor)'}`).join('; ')}`);
  }
  if (c.labelThresholds) console.log(`per-label thresholds: ${c.config.labels.map((l, k) => `${l} ${c.labelThresholds![k]}`).join(', ')}`);
  if (c.labelTopFraction) console.log(`per-label tile shares: ${c.config.labels.map((l, k) => `${l} ${c.labelTopFraction![k]}`).join(', ')}`);
  console.log(`updated ${configName ?? c.configPath}`);
  return c;
}

export const calibrateCommand: Command = {
  name: 'calibrate',
  summary: "re-choose a packaged inspector's thresholds and tile shares on a validation split",
  usage: `Usage: attnvision calibrate MODEL.onnx --data manifest.jsonl [--split val] [--per-label [--per-label-tiles]] [--objective O]
                                 [--min-clean-kept F]

Runs every image of the split through the inspector whole (tiles and aggregation as in production),
scans thresholds 0.05..0.95 and rewrites MODEL.json (next to the model) with the best rules. Use a
validation split of your own images to fit the shipped model to them; never a test split.
  --data F        labelled manifest (the synthesizer's format: file, labels, split), or the     (required)
                  synthesizer's output folder holding it
  --split S       the split to calibrate on                                          [val]
${CALIBRATION_FLAGS_USAGE}
Images that cannot be inspected are named on stderr and left out (exit code 3).`,
  async run(argv) {
    const a = parseArgs(argv, { values: ['data', 'split', 'objective', 'min-clean-kept'], booleans: ['per-label', 'per-label-tiles'], positional: 1 }, 'calibrate');
    const [model] = a.positional;
    if (!model || !model.endsWith('.onnx')) throw new ArgumentError(`calibrate: expected one MODEL.onnx (with its MODEL.json next to it) but received ${model === undefined ? 'none' : `"${model}"`}`);
    const data = flagString(a, 'data');
    if (!data) throw new ArgumentError('calibrate: --data manifest.jsonl is required');
    const c = await runCalibration(model, data, calibrationFlags(a, 'calibrate'), calibrationSplit(a, 'calibrate'));
    return c.validation.errors.length ? 3 : 0;
  },
};
