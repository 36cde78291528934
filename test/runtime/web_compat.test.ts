/**
 * The emitted graphs run unchanged on onnxruntime-web (its WebAssembly backend, here under Node):
 * an exported inference model, an ensemble of two, and a full training-step graph (forward, backward, optimizer) give
 * the same outputs as onnxruntime-node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { Graph } from '../../src/graph/index.js';
import * as F from '../../src/graph/index.js';
import { grad } from '../../src/autodiff/index.js';
import { lowerGraph } from '../../src/graph/lower.js';
import { FlatBinding, withBinding } from '../../src/nn/index.js';
import { createModel, defaultForward } from '../../src/models/index.js';
import { exportOnnx } from '../../src/io/export.js';
import { ensembleOnnx } from '../../src/io/onnx_ensemble.js';
import { AdamW } from '../../src/optim/index.js';
import { Rng } from '../helpers/rng.js';

ortWeb.env.wasm.numThreads = 1;

type Feeds = Record<string, { type: 'float32' | 'int64'; data: Float32Array | BigInt64Array; dims: number[] }>;

async function runBoth(bytes: Uint8Array, feeds: Feeds) {
  const n = await ortNode.InferenceSession.create(bytes);
  const w = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const mk = <T>(T: new (t: string, d: Float32Array | BigInt64Array, dims: number[]) => T) => Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new T(v.type, v.data, v.dims)]));
  const a = await n.run(mk(ortNode.Tensor as never));
  const b = await w.run(mk(ortWeb.Tensor as never));
  await n.release();
  await w.release();
  return { a, b, names: n.outputNames };
}

function close(name: string, x: Float32Array, y: Float32Array) {
  assert.equal(x.length, y.length);
  let scale = 0;
  for (const v of x) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i]! - y[i]!) <= 1e-4 * (1 + scale), `${name}[${i}]: node ${x[i]} web ${y[i]}`);
}

test('exported model, an ensemble of two and a training-step graph give the same results on onnxruntime-web', async () => {
  const rng = new Rng(2);
  // 1. exported inference model (dynamic batch)
  const h = await createModel('tiny_vit', { numClasses: 5, inputSize: [3, 16, 16], seed: 2 });
  const model = exportOnnx({ model: h.model, state: h.state, inputShape: [3, 16, 16], forward: (m, x) => defaultForward(h.info, m, { input: x }) });
  const inf = await runBoth(model, { input: { type: 'float32', data: rng.normalArray(3 * 768), dims: [3, 3, 16, 16] } });
  close('logits', inf.a[inf.names[0]!]!.data as Float32Array, inf.b[inf.names[0]!]!.data as Float32Array);
  // ... and an ensemble of it with a second model (io/onnx_ensemble.ts: prefixed members, Mean)
  const h2 = await createModel('tiny_vit', { numClasses: 5, inputSize: [3, 16, 16], seed: 3 });
  const model2 = exportOnnx({ model: h2.model, state: h2.state, inputShape: [3, 16, 16], forward: (m, x) => defaultForward(h2.info, m, { input: x }) });
  const ens = await runBoth(ensembleOnnx([{ name: 'a', bytes: model }, { name: 'b', bytes: model2 }]), { input: { type: 'float32', data: rng.normalArray(2 * 768), dims: [2, 3, 16, 16] } });
  close('ensemble logits', ens.a[ens.names[0]!]!.data as Float32Array, ens.b[ens.names[0]!]!.data as Float32Array);

  // 2. a training step of a CNN with batch norm: loss, new parameters, new optimizer state, new buffers
  const c = await createModel('tiny_cnn', { numClasses: 4, inputSize: [1, 16, 16], seed: 2 });
  const P = c.state.params.length;
  const g = new Graph();
  const outs = g.run(() => {
    const b = new FlatBinding(g, c.state);
    const x = g.input('input', [4, 1, 16, 16]);
    const y = g.input('y', [4], 'int64');
    const m = g.input('m', [P]);
    const v = g.input('v', [P]);
    const loss = F.crossEntropy(withBinding(b, () => defaultForward(c.info, c.model, { input: x })).logits!, y, 0.1);
    const grads = grad(loss, [...b.paramTensors.values()]);
    const flat = F.concat(grads.map((t) => F.reshape(t!, [-1])), 0);
    const upd = new AdamW().update({ p: b.params, g: flat, states: [m, v], lr: g.scalar(1e-3), step: g.scalar(1), decayMask: F.ones([P]) });
    return [loss, upd.p, ...upd.states, ...b.bufferUpdates.values()];
  });
  const step = lowerGraph(g, outs, { outputNames: outs.map((_, i) => `o${i}`) });
  const res = await runBoth(step, {
    input: { type: 'float32', data: rng.normalArray(4 * 256), dims: [4, 1, 16, 16] },
    y: { type: 'int64', data: BigInt64Array.of(0n, 1n, 2n, 3n), dims: [4] },
    params: { type: 'float32', data: c.state.params, dims: [P] },
    buffers: { type: 'float32', data: c.state.buffers, dims: [c.state.buffers.length] },
    m: { type: 'float32', data: new Float32Array(P), dims: [P] },
    v: { type: 'float32', data: new Float32Array(P), dims: [P] },
  });
  for (const name of res.names) close(name, res.a[name]!.data as Float32Array, res.b[name]!.data as Float32Array);
});
