/**
 * Robustness evaluation as in the SAN paper (Zhao et al. 2020, Sec. 5.3):
 * - zero-shot accuracy under 90/180/270-degree rotation and upside-down flip of the test images;
 * - targeted PGD attack (Madry et al. 2018) in pixel space: x <- clip(x - alpha * sign(dL/dx)) within
 *   an L-inf ball of radius epsilon around the image, L = cross-entropy to a random wrong target;
 *   reports attack success rate (prediction = target) and accuracy under attack.
 */
import { ArgumentError } from '../util/errors.js';
import { Graph, type Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { grad } from '../autodiff/grad.js';
import { ConstantBinding } from '../nn/binding.js';
import { withBinding } from '../nn/module.js';
import { CompiledGraph } from '../runtime/session.js';
import { defaultForward, type ModelHandle } from '../models/index.js';
import type { Dataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader/loader.js';
import { IMAGENET_MEAN, IMAGENET_STD, type TransformSpec } from '../data/loader/transform.js';
import { Predictor } from './infer.js';
import { evaluateLoader } from './trainer.js';

/** Scores on the transformed test images: top-1 for single-label data, mAP for multi-label data; macro-F1 for both. */
export interface RotationResult {
  transform: string;
  top1?: number;
  mAP?: number;
  macroF1: number;
}

export async function rotationRobustness(h: ModelHandle, ds: Dataset, size: number, batch: number): Promise<RotationResult[]> {
  const pred = await Predictor.build({ model: h.model, state: h.state, inputs: [{ name: 'input', shape: [batch, 3, size, size], dtype: 'float32' }], forward: (m, ins) => defaultForward(h.info, m, ins) });
  const variants: [string, Partial<TransformSpec>][] = [
    ['none', {}],
    ['rotate90', { rotate: 90 }],
    ['rotate180', { rotate: 180 }],
    ['rotate270', { rotate: 270 }],
    ['upside-down', { upsideDown: true }],
  ];
  const out: RotationResult[] = [];
  for (const [name, extra] of variants) {
    const loader = new DataLoader(ds, { batchSize: batch, shuffle: false, seed: 0, transform: { size, mode: 'center', flip: false, ...extra } });
    try {
      const ev = await evaluateLoader(pred, loader, ds);
      const m = ev.metrics;
      out.push(m.kind === 'single' ? { transform: name, top1: m.top1, macroF1: m.macroF1 } : { transform: name, mAP: m.mAP, macroF1: m.macroF1 });
    } finally {
      await loader.close();
    }
  }
  return out;
}

export interface PgdOptions {
  /** L-inf radius in pixel units out of 255 (default 8). */
  epsilon: number;
  /** Step size in pixel units out of 255 (default 2). */
  step: number;
  iterations: number;
  seed: number;
}

export interface PgdResult extends PgdOptions {
  n: number;
  cleanAccuracy: number;
  /** Fraction of images classified as the attacker's target after the attack. */
  successRate: number;
  accuracyUnderAttack: number;
}

/** Targeted PGD on single-label data. */
export async function pgdAttack(h: ModelHandle, ds: Dataset, size: number, batch: number, o: PgdOptions): Promise<PgdResult> {
  const K = ds.classes.length;
  if (K < 2) throw new ArgumentError(`targeted PGD needs at least 2 classes (a target other than the true class); ${ds.root} has ${K}`);
  const B = batch;
  h.model.eval();
  const graph = new Graph();
  const outs = graph.run(() => {
    const x = graph.input('input', [B, 3, size, size]);
    const t = graph.input('target', [B], 'int64');
    const logits = withBinding(new ConstantBinding(graph, h.state), () => Object.values(defaultForward(h.info, h.model, { input: x }))[0] as Tensor);
    const loss = F.crossEntropy(logits, t);
    return [logits, grad(loss, [x])[0]!];
  });
  const run = await CompiledGraph.compile(graph, outs, { outputNames: ['logits', 'grad'] });
  const loader = new DataLoader(ds, { batchSize: B, shuffle: false, seed: 0, transform: { size, mode: 'center', flip: false } });
  const plane = size * size;
  const lo = IMAGENET_MEAN.map((m, c) => (0 - m) / IMAGENET_STD[c]!);
  const hi = IMAGENET_MEAN.map((m, c) => (1 - m) / IMAGENET_STD[c]!);
  let n = 0;
  let clean = 0;
  let success = 0;
  let robust = 0;
  let s = o.seed >>> 0 || 1;
  const argmax = (l: Float32Array, i: number) => {
    let b = 0;
    for (let c = 1; c < K; c++) if (l[i * K + c]! > l[i * K + b]!) b = c;
    return b;
  };
  try {
    for await (const b of loader.epoch(0)) {
      const x0 = new Float32Array(B * 3 * plane);
      x0.set(b.x);
      const target = new BigInt64Array(B);
      for (let i = 0; i < B; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const y = i < b.size ? Number(b.y[i]) : 0;
        target[i] = BigInt((y + 1 + (s % (K - 1))) % K);
      }
      const first = await run.run({ input: x0, target: { data: target, shape: [B], dtype: 'int64' } });
      const l0 = first.logits!.data as Float32Array;
      const x = x0.slice();
      for (let it = 0; it < o.iterations; it++) {
        const g = (await run.run({ input: x, target: { data: target, shape: [B], dtype: 'int64' } })).grad!.data as Float32Array;
        for (let i = 0; i < x.length; i++) {
          const c = Math.floor(i / plane) % 3;
          const a = o.step / 255 / IMAGENET_STD[c]!;
          const e = o.epsilon / 255 / IMAGENET_STD[c]!;
          const v = x[i]! - a * Math.sign(g[i]!);
          x[i] = Math.min(hi[c]!, Math.max(lo[c]!, Math.min(x0[i]! + e, Math.max(x0[i]! - e, v))));
        }
      }
      const l1 = (await run.run({ input: x, target: { data: target, shape: [B], dtype: 'int64' } })).logits!.data as Float32Array;
      for (let i = 0; i < b.size; i++) {
        const y = Number(b.y[i]);
        n++;
        if (argmax(l0, i) === y) clean++;
        const p = argmax(l1, i);
        if (p === Number(target[i])) success++;
        if (p === y) robust++;
      }
    }
  } finally {
    await loader.close();
  }
  return { ...o, n, cleanAccuracy: clean / n, successRate: success / n, accuracyUnderAttack: robust / n };
}
