/**
 * `attnvision package-inspector`: turns a trained quality checkpoint into the shipped model files.
 */
import type { Command } from '../command.js';
import { parseArgs, flagNumber, flagString } from '../command.js';
import { packageInspector } from '../../quality/package.js';
import { ArgumentError } from '../../util/errors.js';

export const packageInspectorCommand: Command = {
  name: 'package-inspector',
  summary: 'export a trained quality checkpoint as inspector ONNX + config',
  usage: `Usage: attnvision package-inspector --checkpoint FILE --out models/inspector.onnx [--threshold T] [--top-k K] [--max-tiles N]

Writes the ONNX model (dynamic batch; outputs presence logits then severity logits) and its JSON
config next to it (labels, input size, normalisation, threshold, tile aggregation).
  --threshold T   decision threshold (default 0.5)
  --top-k K       image probability = mean of the K most confident tiles (default 2)
  --max-tiles N   at most N tiles per image side; larger images are downscaled (default 4)`,
  async run(argv) {
    const a = parseArgs(argv, { values: ['checkpoint', 'out', 'threshold', 'top-k', 'max-tiles'] }, 'package-inspector');
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
    return 0;
  },
};
