// Shared plumbing of the scripts/diagnose_*.mjs probes: the `[DATASET.jsonl|DIR] [N] [SPECS]
// [--model FILE.onnx]` command line, the validation entries of a synthetic manifest, the inspector
// and the tally of what it calls each image. Each probe keeps only its own image change and report.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Inspector } from '../../dist/src/quality/inspector.js';
import { readJsonl } from '../../dist/src/io/jsonl.js';

const sharp = createRequire(import.meta.url)('sharp');

/**
 * Reads a probe's command line: an optional `--model FILE` anywhere, then positional arguments.
 * `defaults` gives the positional defaults by position (the first is the dataset).
 * Returns `{ modelPath, manifest, positional }`: `manifest` resolves a dataset folder to its
 * manifest.jsonl (a manifest file's entries name files relative to its own folder).
 */
export function parseProbeArgs(argv, defaults) {
  const args = [...argv];
  const modelAt = args.indexOf('--model');
  if (modelAt >= 0 && args[modelAt + 1] === undefined) throw new Error('--model needs a file (an inspector .onnx)');
  const modelPath = modelAt >= 0 ? args.splice(modelAt, 2)[1] : undefined;
  const positional = defaults.map((d, i) => args[i] ?? d);
  const source = path.resolve(positional[0]);
  if (!fs.existsSync(source)) throw new Error(`${source}: no such dataset (give a manifest .jsonl or a folder holding manifest.jsonl)`);
  const manifest = fs.statSync(source).isDirectory() ? path.join(source, 'manifest.jsonl') : source;
  return { modelPath, manifest, positional };
}

/** The validation entries of `manifest` with exactly one label for which `keep(label)` holds (`clean` counts as a label). */
export async function singleLabelVal(manifest, keep) {
  return (await readJsonl(manifest)).filter((e) => e.split === 'val' && e.labels.length === 1 && keep(e.labels[0]));
}

/** Absolute path of a manifest entry's image. */
export function entryFile(manifest, entry) {
  return path.resolve(path.dirname(manifest), entry.file);
}

/** Loads the inspector at `modelPath` (the shipped one when undefined) and prints the probe's header line. */
export async function loadProbeInspector(modelPath, what) {
  const inspector = await Inspector.load(modelPath ? { model: modelPath } : {});
  console.log(`${what}; labels given by ${modelPath ?? 'the shipped inspector'}`);
  return inspector;
}

/** What the inspector called an image: `clean` or its labels sorted and joined by `+`. */
export function callOf(result) {
  return result.clean ? 'clean' : result.labels.map((l) => l.label).sort().join('+');
}

/** Counts calls: `add(result)` records one, `hits(label)` counts the calls holding `label` (or exactly `clean`), `rows(k)` the k most frequent as `call n`. */
export function callTally() {
  const counts = {};
  return {
    add(result) {
      const call = callOf(result);
      counts[call] = (counts[call] ?? 0) + 1;
      return call;
    },
    hits(label) {
      if (label === 'clean') return counts.clean ?? 0;
      return Object.entries(counts).filter(([call]) => call.split('+').includes(label)).reduce((s, [, v]) => s + v, 0);
    },
    rows(k = Infinity) {
      return Object.entries(counts).sort((a, b) => b[1] - a[1]).slice(0, k).map(([call, v]) => `${call} ${v}`);
    },
  };
}

/** Encoded image bytes resized to half their size (Lanczos), as PNG: a web downscale. */
export async function halfSizePng(bytes) {
  const p = sharp(bytes);
  const { width, height } = await p.metadata();
  return p.resize(Math.round(width / 2), Math.round(height / 2), { kernel: 'lanczos3' }).png().toBuffer();
}
