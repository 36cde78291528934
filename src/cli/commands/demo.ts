/**
 * `attnvision demo`: trains a tiny CNN or transformer on the synthetic stripes task and prints
 * held-out accuracy. Exercises the whole foundation (tracing, autodiff, in-graph optimizer, ORT).
 */
import type { Command } from '../command.js';
import { parseArgs, flagNumber, flagString } from '../command.js';
import * as F from '../../graph/ops/index.js';
import { ModelState } from '../../nn/state.js';
import { SGD, AdamW } from '../../optim/optimizer.js';
import { cosineWithWarmup } from '../../optim/schedule.js';
import { TrainStep } from '../../train/step.js';
import { Predictor } from '../../train/infer.js';
import { TinyCNN, TinyViT } from '../../models/toy.js';
import { toyBatch, TOY_CLASSES } from '../../data/toy.js';
import { ArgumentError } from '../../util/errors.js';

const usage = `Usage: attnvision demo [--model cnn|vit] [--steps N] [--batch N] [--seed S]

Trains a tiny model on a synthetic 4-class stripes task (16x16 images) and prints accuracy
on 512 held-out images.

Options:
  --model cnn|vit   tiny CNN (SGD + Nesterov) or tiny transformer (AdamW)   [cnn]
  --steps N         training steps                                          [150]
  --batch N         batch size                                              [32]
  --seed S          initialisation seed                                     [0]`;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'train a tiny model on synthetic data and print its accuracy',
  usage,
  async run(argv) {
    const args = parseArgs(argv, { values: ['model', 'steps', 'batch', 'seed'], positional: 0 }, 'demo');
    const kind = flagString(args, 'model', 'cnn')!;
    if (kind !== 'cnn' && kind !== 'vit') throw new ArgumentError(`demo: expected cnn or vit for --model but received "${kind}"`);
    const steps = flagNumber(args, 'steps', 150, 'demo', { int: true, min: 1 });
    const B = flagNumber(args, 'batch', 32, 'demo', { int: true, min: 2, max: 4096 });
    const seed = flagNumber(args, 'seed', 0, 'demo', { int: true });
    const S = 16;
    const model = kind === 'cnn' ? new TinyCNN(1, 4) : new TinyViT(1, 4, S);
    const state = ModelState.init(model, seed);
    const t0 = performance.now();
    const step = await TrainStep.build({
      model,
      state,
      inputs: [
        { name: 'x', shape: [B, 1, S, S], dtype: 'float32' },
        { name: 'y', shape: [B], dtype: 'int64' },
      ],
      optimizer: kind === 'cnn' ? new SGD({ momentum: 0.9, nesterov: true, weightDecay: 1e-4 }) : new AdamW({ weightDecay: 0.05 }),
      clipNorm: 5,
      loss: (m, ins) => ({ loss: F.crossEntropy(m.call(ins.x!), ins.y!, 0.05) }),
    });
    const sched = cosineWithWarmup({ baseLr: kind === 'cnn' ? 0.1 : 3e-3, totalSteps: steps, warmupSteps: Math.min(10, steps - 1) });
    console.log(`demo: ${model.constructor.name}, ${state.numParams} parameters, graph compiled in ${(performance.now() - t0).toFixed(0)} ms`);
    const t1 = performance.now();
    for (let i = 0; i < steps; i++) {
      const b = toyBatch(B, S, 1000 + i);
      const r = await step.run({ x: { data: b.images, shape: [B, 1, S, S], dtype: 'float32' }, y: { data: b.labels, shape: [B], dtype: 'int64' } }, { lr: sched(i), seed });
      if (i === 0 || (i + 1) % Math.max(1, Math.floor(steps / 5)) === 0) console.log(`step ${String(i + 1).padStart(4)}/${steps}  loss ${r.loss.toFixed(4)}  lr ${sched(i).toExponential(2)}`);
    }
    const secs = (performance.now() - t1) / 1000;
    const N = 512;
    const pred = await Predictor.build({ model, state, inputs: [{ name: 'x', shape: [N, 1, S, S], dtype: 'float32' }], forward: (m, ins) => ({ logits: m.call(ins.x!) }) });
    const test = toyBatch(N, S, 7);
    const logits = (await pred.run({ x: { data: test.images, shape: [N, 1, S, S], dtype: 'float32' } })).logits!.data as Float32Array;
    const perClass = TOY_CLASSES.map(() => [0, 0]);
    let correct = 0;
    for (let i = 0; i < N; i++) {
      let best = 0;
      for (let c = 1; c < 4; c++) if (logits[i * 4 + c]! > logits[i * 4 + best]!) best = c;
      const y = Number(test.labels[i]);
      perClass[y]![1]!++;
      if (best === y) {
        correct++;
        perClass[y]![0]!++;
      }
    }
    console.log(`trained ${steps} steps in ${secs.toFixed(1)} s (${((steps * B) / secs).toFixed(0)} images/s)`);
    console.log(`held-out accuracy: ${((100 * correct) / N).toFixed(1)}%  (${TOY_CLASSES.map((c, i) => `${c} ${perClass[i]![0]}/${perClass[i]![1]}`).join(', ')})`);
    return 0;
  },
};
