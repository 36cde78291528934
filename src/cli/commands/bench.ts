/**
 * `attnvision bench`: benchmarks (not tests) with an optional PyTorch peer run.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '../command.js';
import { parseArgs, flagNumber, flagString } from '../command.js';
import { runWorkload, type BenchResult } from '../../bench/workloads.js';
import { defaultThreads } from '../../runtime/session.js';
import { ArgumentError } from '../../util/errors.js';
import { DEFAULT_MAX_PIXELS } from '../../image/io.js';

const usage = `Usage: attnvision bench <gemm|train-step|infer|inspect> [options] [--json] [--vs-torch]

Times one workload on ONNX Runtime (after warm-up) and prints the result; with --vs-torch, also
runs bench/torch/bench.py with the same thread count and reports ratio = our speed / torch speed
(> 1 means faster). 'inspect' times Inspector.inspect on a JPEG (or --format gif) of --size x
--height pixels (decode, palette low-pass for a GIF, tiles, model, aggregation; no PyTorch peer).
  --model NAME     registered model for train-step/infer        [resnet50]
                   inspect: an inspector ONNX file              [the shipped models/inspector.onnx]
  --batch N        batch size                                   [8]
  --size N         image side (or N for gemm's N x N x N)        [224; gemm 1024]
  --height N       inspect: image height                        [--size]
  --format F       inspect: jpeg or gif (256 colours, dithered)  [jpeg]
  --classes N      classes                                      [1000]
  --iters N        timed iterations                             [5]
  --warmup N       untimed iterations                           [2]
  --python PATH    Python with torch for --vs-torch             [/usr/bin/python3]
Threads: ATTNVISION_THREADS (default: all cores); torch gets the same count.`;

function torchPeer(py: string, name: string, o: Record<string, number | string>, threads: number): (Record<string, number> & { error?: string }) | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const script = path.resolve(here, '../../../../bench/torch/bench.py');
  const args = [script, name, '--threads', String(threads), ...Object.entries(o).flatMap(([k, v]) => [`--${k}`, String(v)])];
  const r = spawnSync(py, args, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || 'failed').trim().split('\n').slice(-1)[0]! } as never;
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const MAX_GEMM_SIDE = 8192;
const MAX_INPUT_VALUES = 2 ** 28;
const MAX_INSPECT_PIXELS = DEFAULT_MAX_PIXELS;

export const benchCommand: Command = {
  name: 'bench',
  summary: 'benchmark gemm / train-step / infer, optionally against PyTorch',
  usage,
  async run(argv) {
    const args = parseArgs(argv, { values: ['model', 'batch', 'size', 'height', 'format', 'classes', 'iters', 'warmup', 'python'], booleans: ['json', 'vs-torch'], positional: 1 }, 'bench');
    const name = args.positional[0];
    if (!name || !['gemm', 'train-step', 'infer', 'inspect'].includes(name)) throw new ArgumentError(`bench: expected gemm, train-step, infer or inspect but received ${name === undefined ? 'nothing' : `"${name}"`}`);
    if (name === 'inspect' && args.flags.has('vs-torch')) throw new ArgumentError('bench: inspect has no PyTorch peer (drop --vs-torch)');
    if (args.flags.has('format') && name !== 'inspect') throw new ArgumentError('bench: --format is for inspect only');
    const format = flagString(args, 'format', 'jpeg')!;
    if (!['jpeg', 'gif'].includes(format)) throw new ArgumentError(`bench: expected jpeg or gif for --format but received "${format}"`);
    const o = {
      format: format as 'jpeg' | 'gif',
      model: flagString(args, 'model', name === 'inspect' ? '' : 'resnet50')!,
      batch: flagNumber(args, 'batch', 8, 'bench', { int: true, min: 1 }),
      size: flagNumber(args, 'size', name === 'gemm' ? 1024 : 224, 'bench', { int: true, min: 1 }),
      ...(args.flags.has('height') ? { height: flagNumber(args, 'height', 224, 'bench', { int: true, min: 1 }) } : {}),
      classes: flagNumber(args, 'classes', 1000, 'bench', { int: true, min: 1 }),
      iters: flagNumber(args, 'iters', 5, 'bench', { int: true, min: 1 }),
      warmup: flagNumber(args, 'warmup', 2, 'bench', { int: true, min: 0 }),
    };
    // Sizes whose buffers cannot be allocated are refused here, not as a RangeError deep in a workload.
    const height = o.height ?? o.size;
    if (name === 'gemm' && o.size > MAX_GEMM_SIDE) throw new ArgumentError(`bench: gemm --size ${o.size} is above ${MAX_GEMM_SIDE} (three ${o.size} x ${o.size} float matrices)`);
    if ((name === 'infer' || name === 'train-step') && o.batch * 3 * o.size * o.size > MAX_INPUT_VALUES) throw new ArgumentError(`bench: --batch ${o.batch} x 3 x ${o.size} x ${o.size} input values are above ${MAX_INPUT_VALUES.toLocaleString('en-US')}`);
    if (name === 'inspect' && o.size * height > MAX_INSPECT_PIXELS) throw new ArgumentError(`bench: a ${o.size} x ${height} image is above the inspector's ${MAX_INSPECT_PIXELS.toLocaleString('en-US')}-pixel limit`);
    const ours: BenchResult = await runWorkload(name, o);
    const out: Record<string, unknown> = { ...ours };
    if (name === 'gemm') delete out.model;
    if (args.flags.has('vs-torch')) {
      const py = flagString(args, 'python', '/usr/bin/python3')!;
      const peer = torchPeer(py, name, { batch: o.batch, size: o.size, classes: o.classes, iters: o.iters, warmup: o.warmup, model: o.model, channels: o.model === 'tiny_cnn' ? 1 : 3 }, defaultThreads());
      if (peer && !peer.error) {
        out.torch = peer;
        out.ratio = Number((peer.ms! / ours.ms).toFixed(3));
      } else {
        out.torch = { error: peer?.error ?? 'python with torch not available' };
      }
    }
    if (args.flags.has('json')) console.log(JSON.stringify(out));
    else {
      const speed = ours.gflops !== undefined ? `${ours.gflops.toFixed(1)} GFLOP/s` : `${ours.imagesPerSec!.toFixed(1)} images/s`;
      console.log(`${name}${ours.model ? ` ${ours.model}` : ''}${ours.image ? ` ${ours.image.width}x${ours.image.height} ${ours.image.format} (${ours.image.tiles} tiles)` : ''}: ${ours.ms.toFixed(1)} ms (${speed}), ${ours.threads} threads, peak RSS ${ours.peakRssMB.toFixed(0)} MB, setup ${(ours.setupMs / 1000).toFixed(1)} s`);
      if (out.ratio !== undefined) console.log(`torch: ${(out.torch as { ms: number }).ms.toFixed(1)} ms -> ratio ${out.ratio} (ours/torch speed; > 1 = faster)`);
      else if (out.torch) console.log(`torch: ${(out.torch as { error: string }).error}`);
    }
    return 0;
  },
};
