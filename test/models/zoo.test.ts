/**
 * One parametrized test over every registered model (timm style): output shape, finite values,
 * every parameter receives a (finite) gradient, ONNX export gives the same outputs as in memory,
 * and the state-dict round trip is lossless.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Graph, type Tensor } from '../../src/graph/index.js';
import * as F from '../../src/graph/index.js';
import { grad } from '../../src/autodiff/index.js';
import { FlatBinding, withBinding } from '../../src/nn/index.js';
import { CompiledGraph, type HostTensor } from '../../src/runtime/index.js';
import { createModel, listModels, defaultForward, defaultInputs } from '../../src/models/index.js';
import { exportOnnx } from '../../src/io/export.js';
import { Predictor, flatWeightFeeds } from '../../src/train/infer.js';
import { Rng } from '../helpers/rng.js';

function feedsFor(specs: { name: string; shape: readonly number[]; dtype: string }[], rng: Rng, numClasses: number): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  for (const s of specs) {
    const n = s.shape.reduce((p, d) => p * d, 1);
    feeds[s.name] =
      s.dtype === 'int64'
        ? { data: BigInt64Array.from({ length: n }, () => BigInt(rng.int(numClasses))), shape: s.shape, dtype: 'int64' }
        : { data: rng.normalArray(n), shape: s.shape, dtype: 'float32' };
  }
  return feeds;
}

for (const name of listModels()) {
  test(`zoo: ${name}`, async () => {
    const probe = await createModel(name, { numClasses: 7 });
    const inputSize = probe.info.testInputSize ?? probe.info.defaultInputSize;
    const h = await createModel(name, { numClasses: 7, inputSize, seed: 1 });
    const B = 2;
    const specs = defaultInputs(h.info, B, inputSize, h.numClasses);
    const rng = new Rng(5);
    const feeds = feedsFor(specs, rng, h.numClasses);

    // Train-mode forward + gradients of every parameter.
    h.model.train(true);
    const graph = new Graph();
    const { outs, names } = graph.run(() => {
      const binding = new FlatBinding(graph, h.state);
      const ins: Record<string, Tensor> = {};
      for (const s of specs) ins[s.name] = graph.input(s.name, s.shape, s.dtype);
      const res = withBinding(binding, () => defaultForward(h.info, h.model, ins));
      const main = Object.values(res)[0]!;
      const r = graph.input('r', main.shape, 'float32');
      const loss = F.reduceSum(F.mul(main, r));
      const unused = h.state.paramSlots.filter((s) => !binding.paramTensors.has(s.item)).map((s) => s.name);
      assert.deepEqual(unused, [], `parameters not used by the forward pass: ${unused.join(', ')}`);
      const gs = grad(loss, h.state.paramSlots.map((s) => binding.paramTensors.get(s.item)!), { allowUnused: true });
      const missing = h.state.paramSlots.filter((_, i) => !gs[i]).map((s) => s.name);
      assert.deepEqual(missing, [], `parameters without gradient: ${missing.join(', ')}`);
      const norms = gs.map((g) => F.reduceSum(F.mul(g!, g!)));
      return { outs: [main, F.concat(norms.map((n) => F.reshape(n, [1])), 0)], names: ['main', 'gradsq'] };
    });
    const mainShape = outs[0]!.shape;
    if (h.info.family !== 'sagan') assert.deepEqual(mainShape, [B, 7], 'logits shape');
    const compiled = await CompiledGraph.compile(graph, outs, { outputNames: names });
    const rShape = mainShape;
    const res = await compiled.run(
      {
        ...feeds,
        ...flatWeightFeeds(compiled, h.state),
        r: { data: rng.normalArray(rShape.reduce((p, d) => p * d, 1)), shape: rShape, dtype: 'float32' },
      },
      { seed: 1, step: 0 },
    );
    const main = res.main!.data as Float32Array;
    assert.ok(main.every(Number.isFinite), 'train-mode outputs are finite');
    const gradsq = res.gradsq!.data as Float32Array;
    gradsq.forEach((v, i) => assert.ok(Number.isFinite(v), `gradient of ${h.state.paramSlots[i]!.name} is not finite`));

    // Eval mode: in-memory predictor vs exported ONNX (dynamic batch, run at batch 2).
    if (specs.length === 1) {
      const pred = await Predictor.build({ model: h.model, state: h.state, inputs: specs, forward: (m, ins) => defaultForward(h.info, m, ins) });
      const mem = Object.values(await pred.run(feeds))[0]!.data as Float32Array;
      assert.ok(mem.every(Number.isFinite), 'eval outputs are finite');
      const bytes = exportOnnx({ model: h.model, state: h.state, inputShape: inputSize, forward: (m, x) => defaultForward(h.info, m, { input: x }) });
      const sess = await ort.InferenceSession.create(bytes);
      const x = feeds.input!;
      const out = await sess.run({ input: new ort.Tensor('float32', x.data as Float32Array, [...x.shape]) });
      const exp = out[sess.outputNames[0]!]!.data as Float32Array;
      assert.equal(exp.length, mem.length);
      for (let i = 0; i < exp.length; i++) assert.ok(Math.abs(exp[i]! - mem[i]!) <= 1e-4 * (1 + Math.abs(mem[i]!)), `export differs at ${i}: ${exp[i]} vs ${mem[i]}`);
      await sess.release();
    }
  });
}
