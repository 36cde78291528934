/**
 * `attnvision package-inspector`: turns a trained quality checkpoint (or several, as an ensemble)
 * into the shipped model files.
 */
import type { Command, ParsedArgs } from '../command.js';
import { parseArgs, flagList, flagNumber, flagString } from '../command.js';
import { packageInspector } from '../../quality/package.js';
import { calibrationFlags, calibrationSplit, runCalibration, CALIBRATION_FLAGS_USAGE } from './calibrate.js';
import type { CalibrationResult } from '../../quality/calibrate.js';
import { configPathOf } from '../../quality/labels.js';
import { ArgumentError } from '../../util/errors.js';
import { manifestDataset, resolveManifest } from '../../data/dataset.js';
import { isRegularFile } from '../../util/fs.js';
import { isPaletteLowpassWeight } from '../../image/palette.js';

/**
 * What calibration will refuse, found before the package is written: a manifest without the
 * split, with labels the model does not know, without a labelled image, or whose images are all
 * missing (some missing ones are named by calibration itself, exit code 3).
 */
async function checkCalibrationSplit(spec: string, split: string, labels: readonly string[]): Promise<void> {
  const manifest = await resolveManifest(spec);
  const ds = await manifestDataset(manifest, labels, split, { strictLabels: true });
  if (!ds.samples.some((s) => s.labels!.some((v) => v > 0.5))) throw new ArgumentError(`${manifest}: no image of split "${split}" has a label; calibration needs labelled images`);
  for (const s of ds.samples) if (await isRegularFile(s.file)) return;
  throw new ArgumentError(`${manifest}: none of the ${ds.samples.length} images of split "${split}" exists (first: ${ds.samples[0]!.file})`);
}

/** --palette-lowpass A: the low-pass weight for palette images, in (0, 1/3] (image/palette.ts). */
function paletteLowpassFlag(a: ParsedArgs): number {
  const weight = flagNumber(a, 'palette-lowpass', 0, 'package-inspector');
  if (!isPaletteLowpassWeight(weight)) throw new ArgumentError(`package-inspector: expected a number in (0, 1/3] for --palette-lowpass but received "${a.flags.get('palette-lowpass')}"`);
  return weight;
}

export const packageInspectorCommand: Command = {
  name: 'package-inspector',
  summary: 'export a trained quality checkpoint (or an ensemble of several) as inspector ONNX + config',
  usage: `Usage: attnvision package-inspector --checkpoint FILE[,FILE...] --out models/inspector.onnx [--threshold T] [--top-k K] [--max-tiles N]
                                     [--detail-labels noise,jpeg [--detail-tiles N]] [--fine-labels L --fine-tiles N]
                                     [--palette-lowpass A]
                                     [--calibrate manifest.jsonl [--split val] [--per-label [--per-label-tiles]] [--objective O] [--min-clean-kept F]]

Writes the ONNX model (dynamic batch; outputs presence logits then severity logits) and its JSON
config next to it (labels, input size, normalisation, threshold, tile aggregation, the model's
SHA-256). Both are written under temporary names and, with --calibrate, calibrated there; only a
finished package replaces --out.
  --checkpoint F  a trainer checkpoint (.safetensors); a comma list of several (same labels and
                  input size, any architectures) packages one ONNX model that runs them all on
                  each tile and outputs the mean of their logits (an ensemble; each tile costs
                  the sum of the members' time)
  --threshold T   decision threshold (default 0.5)
  --top-k K       image probability = mean of the K most confident tiles (default 2)
  --max-tiles N   at most N tiles per image side; larger images are downscaled (default 4)
  --detail-labels L  labels (comma list) read, on images that are downscaled, from up to N x N
                  tiles at native scale spread over the image instead (pixel-level problems such
                  as noise and jpeg, which downscaling averages away; default none); N is
                  --max-tiles unless --detail-tiles N is given (fewer: faster on large photos)
  --fine-labels L  labels (comma list) read, on images that are downscaled, from a second
                  coverage downscaled less: at most --fine-tiles N tiles per side (N > --max-tiles;
                  for blur, whose size shrinks with the photo; the shipped model: the two blurs
                  at 7); costs that coverage's tiles on large photos
  --palette-lowpass A  palette images (GIF, palette PNG) get a separable 3 x 3 low-pass
                  [A, 1-2A, A] at native resolution before tiling, which takes their dither out
                  (A in (0, 1/3]; default none; the shipped model: 0.1)
  --calibrate F   then choose the threshold on a split of manifest F (--split, default val): every
                  image inspected whole, thresholds 0.05..0.95 scanned, the best by --objective
                  written to the config
Calibration flags (with --calibrate):
  --split S       the split of F to calibrate on                                     [val]
${CALIBRATION_FLAGS_USAGE}
With --calibrate, images that cannot be inspected are named on stderr and left out (exit code 3).`,
  async run(argv) {
    const a = parseArgs(argv, { values: ['checkpoint', 'out', 'threshold', 'top-k', 'max-tiles', 'detail-labels', 'detail-tiles', 'fine-labels', 'fine-tiles', 'palette-lowpass', 'calibrate', 'split', 'objective', 'min-clean-kept'], booleans: ['per-label', 'per-label-tiles'], positional: 0 }, 'package-inspector');
    const calibrate = flagString(a, 'calibrate');
    if (a.flags.has('per-label') && !calibrate) throw new ArgumentError('package-inspector: --per-label needs --calibrate');
    const calibration = calibrationFlags(a, 'package-inspector');
    if (a.flags.has('objective') && !calibrate) throw new ArgumentError('package-inspector: --objective needs --calibrate');
    if (a.flags.has('split') && !calibrate) throw new ArgumentError('package-inspector: --split needs --calibrate');
    const split = calibrate ? calibrationSplit(a, 'package-inspector') : 'val';
    if (calibrate && a.flags.has('threshold')) throw new ArgumentError('package-inspector: give --threshold or --calibrate, not both');
    const checkpoint = flagList(a, 'checkpoint');
    const out = flagString(a, 'out');
    if (!checkpoint?.length || !out || !out.endsWith('.onnx')) throw new ArgumentError('package-inspector: --checkpoint FILE and --out FILE.onnx are required');
    const detailFlag = flagString(a, 'detail-labels');
    const detailLabels = flagList(a, 'detail-labels');
    if (detailFlag !== undefined && !detailLabels!.length) throw new ArgumentError(`package-inspector: expected a comma list of labels for --detail-labels but received "${detailFlag}"`);
    const fineFlag = flagString(a, 'fine-labels');
    const fineLabels = flagList(a, 'fine-labels');
    if (fineFlag !== undefined && !fineLabels!.length) throw new ArgumentError(`package-inspector: expected a comma list of labels for --fine-labels but received "${fineFlag}"`);
    let calibrated: CalibrationResult | undefined;
    const r = await packageInspector({
      // The calibration split is read as calibration will read it (the checkpoints' labels,
      // strictly) before anything is written: a package is not replaced by an uncalibrated one
      // because the manifest has no val split or labels the model does not know.
      // Calibration runs on the package under a temporary name, before it replaces --out.
      ...(calibrate
        ? {
            beforeWriting: (labels: readonly string[]) => checkCalibrationSplit(calibrate, split, labels),
            beforeReplacing: async (temp: string) => {
              calibrated = await runCalibration(temp, calibrate, calibration, split, configPathOf(out));
            },
          }
        : {}),
      ...(detailLabels ? { detailLabels } : {}),
      ...(a.flags.has('detail-tiles') ? { detailTilesPerSide: flagNumber(a, 'detail-tiles', 5, 'package-inspector', { int: true, min: 1, max: 16 }) } : {}),
      ...(fineLabels ? { fineLabels } : {}),
      ...(a.flags.has('palette-lowpass') ? { paletteLowpass: paletteLowpassFlag(a) } : {}),
      // Its lower bound (more than --max-tiles) is checked with the config, naming both.
      ...(a.flags.has('fine-tiles') ? { fineTilesPerSide: flagNumber(a, 'fine-tiles', 0, 'package-inspector', { int: true, min: 2, max: 16 }) } : {}),
      checkpoint,
      out,
      threshold: flagNumber(a, 'threshold', 0.5, 'package-inspector', { min: 0.01, max: 0.99 }),
      topK: flagNumber(a, 'top-k', 2, 'package-inspector', { int: true, min: 1 }),
      maxTilesPerSide: flagNumber(a, 'max-tiles', 4, 'package-inspector', { int: true, min: 1, max: 16 }),
    });
    for (const w of r.warnings) console.error(`package-inspector: warning: ${w}`);
    console.log(`wrote ${r.onnx} (${(r.bytes / 1e6).toFixed(1)} MB) and ${r.config}${calibrated ? ' (calibrated)' : ''}`);
    return calibrated?.validation.errors.length ? 3 : 0;
  },
};
