/**
 * Builds a randomly initialised inspector model (tiny_vit, 3x32x32, 14 outputs) and its config in a
 * temp folder, so the inspector's mechanics (tiling, aggregation, JSON contract, errors) can be
 * tested without the shipped model.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createModel, defaultForward } from '../../src/models/index.js';
import { exportOnnxFile } from '../../src/io/export.js';
import { QUALITY_LABELS, type InspectorConfig } from '../../src/quality/labels.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../src/data/loader/transform.js';
import { Inspector } from '../../src/quality/inspector.js';
import type { InspectorLike } from '../../src/server/server.js';

/**
 * With `presenceLogit`, the head ignores the image: every tile's presence logits are that value
 * (head weights zeroed), so every label has the same known probability on every image.
 */
export async function tinyInspectorModel(opts: { presenceLogit?: number } = {}): Promise<{ dir: string; model: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'attnvision-insp-'));
  const K = QUALITY_LABELS.length;
  const h = await createModel('tiny_vit', { numClasses: 2 * K, inputSize: [3, 32, 32], seed: 4 });
  if (opts.presenceLogit !== undefined) {
    h.state.paramView('head.weight').fill(0);
    h.state.paramView('head.bias').fill(opts.presenceLogit, 0, K);
  }
  const model = path.join(dir, 'inspector.onnx');
  await exportOnnxFile(model, { model: h.model, state: h.state, inputShape: [3, 32, 32], forward: (m, x) => defaultForward(h.info, m, { input: x }) });
  const config: InspectorConfig = { labels: [...QUALITY_LABELS], inputSize: 32, mean: IMAGENET_MEAN, std: IMAGENET_STD, threshold: 0.5, severityHead: true, model: 'tiny_vit (random, test only)', topK: 2, maxTilesPerSide: 3 };
  await writeFile(path.join(dir, 'inspector.json'), JSON.stringify(config));
  return { dir, model };
}

/**
 * The tiny inspector behind a gate: every inspect call is counted and held until `open()`, so a
 * test can fill the service's queue with certainty.
 */
export async function gatedTinyInspector(): Promise<{ real: Inspector; inspector: InspectorLike; open: () => void; started: () => number }> {
  const { model } = await tinyInspectorModel();
  const real = await Inspector.load({ model });
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let started = 0;
  const inspector: InspectorLike = { config: real.config, modelPath: real.modelPath, thresholds: real.thresholds.bind(real), inspect: async (b, o) => (started++, await gate, real.inspect(b, o)) };
  return { real, inspector, open, started: () => started };
}
