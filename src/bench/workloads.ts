/**
 * Benchmark workloads, each timed on ONNX Runtime through attnvision and (optionally) on PyTorch
 * with the same thread count by bench/torch/bench.py:
 * - gemm: N x N x N float32 matmul (GFLOP/s);
 * - train-step: forward + backward + SGD-momentum update of a registered model (one ORT run);
 * - infer: eval-mode forward of a registered model (weights baked as initializers).
 */
import sharp from 'sharp';
import { Inspector } from '../quality/inspector.js';
import { Graph } from '../graph/graph.js';
import { matmul } from '../graph/ops/matmul.js';
import { crossEntropy } from '../graph/ops/nn_functional.js';
import { CompiledGraph, defaultThreads } from '../runtime/session.js';
import { createModel, defaultForward } from '../models/index.js';
import { TrainStep } from '../train/step.js';
import { Predictor } from '../train/infer.js';
import { SGD } from '../optim/optimizer.js';
import type { Tensor } from '../graph/graph.js';

export interface BenchOptions {
  batch: number;
  /** Image side (gemm: N); for 'inspect' the image width. */
  size: number;
  /** 'inspect': image height (default = size). */
  height?: number;
  /** 'inspect': the encoded image's format (default jpeg; a gif also times the palette low-pass of a config that sets it). */
  format?: 'jpeg' | 'gif';
  iters: number;
  warmup: number;
  model: string;
  classes: number;
}

export interface BenchResult {
  name: string;
  model?: string;
  threads: number;
  ms: number;
  gflops?: number;
  imagesPerSec?: number;
  peakRssMB: number;
  /** Graph build + ORT session creation, excluded from `ms`. */
  setupMs: number;
  /** 'inspect': the image, its format and its tile grid. */
  image?: { width: number; height: number; format: 'jpeg' | 'gif'; tiles: string };
}

async function time(fn: () => Promise<unknown>, warmup: number, iters: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) await fn();
  return (performance.now() - t0) / iters;
}

function randn(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

const rssMB = () => process.resourceUsage().maxRSS / 1024;

/**
 * 'inspect': one `Inspector.inspect` of a JPEG or GIF (decode, palette low-pass for a GIF when the
 * config sets it, tiling, ORT, aggregation) per iteration; `model` is an inspector ONNX file ('' =
 * the shipped one).
 */
async function benchInspect(o: BenchOptions, t0: number, threads: number): Promise<BenchResult> {
  const W = o.size;
  const H = o.height ?? o.size;
  const px = Buffer.from(randn(W * H * 3, 5).map((v) => 128 + 100 * v));
  const format = o.format ?? 'jpeg';
  const raw = sharp(px, { raw: { width: W, height: H, channels: 3 } });
  const encoded = await (format === 'gif' ? raw.gif({ colours: 256, dither: 1 }) : raw.jpeg({ quality: 90 })).toBuffer();
  const inspector = await Inspector.load({ model: o.model || undefined });
  try {
    const setupMs = performance.now() - t0;
    let tiles = '';
    const ms = await time(async () => {
      const r = await inspector.inspect(encoded);
      tiles = `${r.tiles.rows}x${r.tiles.cols}${r.detail ? ` + ${r.detail.rows}x${r.detail.cols} detail` : ''}${r.fine ? ` + ${r.fine.rows}x${r.fine.cols} fine` : ''}`;
    }, o.warmup, o.iters);
    return { name: 'inspect', model: inspector.config.model, threads, ms, imagesPerSec: 1000 / ms, peakRssMB: rssMB(), setupMs, image: { width: W, height: H, format, tiles } };
  } finally {
    await inspector.dispose();
  }
}

export async function runWorkload(name: string, o: BenchOptions): Promise<BenchResult> {
  const t0 = performance.now();
  const threads = defaultThreads();
  if (name === 'inspect') return benchInspect(o, t0, threads);
  if (name === 'gemm') {
    const n = o.size;
    const { graph, result } = Graph.trace((g) => [matmul(g.input('a', [n, n]), g.input('b', [n, n]))]);
    const c = await CompiledGraph.compile(graph, result);
    const feeds = { a: randn(n * n, 1), b: randn(n * n, 2) };
    const setupMs = performance.now() - t0;
    const ms = await time(() => c.run(feeds), o.warmup, o.iters);
    return { name, threads, ms, gflops: (2 * n ** 3) / (ms / 1000) / 1e9, peakRssMB: rssMB(), setupMs };
  }
  const h = await createModel(o.model, { numClasses: o.classes, inputSize: [o.model === 'tiny_cnn' ? 1 : 3, o.size, o.size] });
  const inputSize = h.inputSize;
  const B = o.batch;
  const x = { data: randn(B * inputSize.reduce((p, d) => p * d, 1), 3), shape: [B, ...inputSize], dtype: 'float32' as const };
  if (name === 'train-step') {
    // The loss's labels are their own feed: `y` is also a model input for class-conditional
    // models (the SAGAN discriminator takes 1000 classes and gives one logit).
    let outClasses = 1;
    const step = await TrainStep.build({
      model: h.model,
      state: h.state,
      inputs: [
        { name: 'input', shape: [B, ...inputSize], dtype: 'float32' },
        { name: 'y', shape: [B], dtype: 'int64' },
        { name: 'target', shape: [B], dtype: 'int64' },
      ],
      optimizer: new SGD({ momentum: 0.9 }),
      loss: (m, ins) => {
        const logits = Object.values(defaultForward(h.info, m, ins))[0] as Tensor;
        outClasses = logits.shape[logits.rank - 1]!;
        return { loss: crossEntropy(logits, ins.target!) };
      },
    });
    const labels = (n: number) => ({ data: BigInt64Array.from({ length: B }, (_, i) => BigInt(i % n)), shape: [B], dtype: 'int64' as const });
    const setupMs = performance.now() - t0;
    const feeds = { input: x, y: labels(o.classes), target: labels(outClasses) };
    const ms = await time(() => step.run(feeds, { lr: 1e-3 }), o.warmup, o.iters);
    return { name, model: o.model, threads, ms, imagesPerSec: B / (ms / 1000), peakRssMB: rssMB(), setupMs };
  }
  if (name === 'infer') {
    const pred = await Predictor.build({
      model: h.model,
      state: h.state,
      inputs: [{ name: 'input', shape: [B, ...inputSize], dtype: 'float32' }],
      forward: (m, ins) => defaultForward(h.info, m, ins),
    });
    const setupMs = performance.now() - t0;
    const ms = await time(() => pred.run({ input: x }), o.warmup, o.iters);
    return { name, model: o.model, threads, ms, imagesPerSec: B / (ms / 1000), peakRssMB: rssMB(), setupMs };
  }
  throw new Error(`unknown benchmark "${name}" (gemm, train-step, infer, inspect)`);
}
