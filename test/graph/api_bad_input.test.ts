/**
 * Bad input to the model-building API (graph ops, lowering, runtime, autodiff, layers, TrainStep):
 * errors that name the op or layer and the values, instead of a hang, an out-of-memory crash, a
 * TypeError far from the cause or a silently wrong result. From an audit of these modules (session 26).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../src/graph/index.js';
import { Graph } from '../../src/graph/index.js';
import { grad } from '../../src/autodiff/index.js';
import { CompiledGraph } from '../../src/runtime/index.js';
import { Conv, GroupNorm, LayerNorm, Module, ModelState } from '../../src/nn/index.js';
import { WindowAttention } from '../../src/attention/window_attention.js';
import { Lesa } from '../../src/attention/lesa.js';
import { SGD } from '../../src/optim/index.js';
import { TrainStep } from '../../src/train/step.js';
import { TinyCNN } from '../../src/models/toy.js';

const trace = (fn: (g: Graph) => unknown) => () => Graph.trace(fn);

test('lowering: an input named like a generated value (c<id>, t<id>, op temporaries) is its own value, not a constant or a duplicate', async () => {
  for (const nameOf of [(c: F.Tensor) => `c${c.id}`, () => 't3', () => 'add_0', () => 'init_0']) {
    const g = new Graph();
    const out = g.run(() => {
      const c = F.constantF32([10, 20], [2]);
      const x = g.input(nameOf(c), [2]);
      return F.add(F.add(x, c), 1);
    });
    const compiled = await CompiledGraph.compile(g, [out]);
    const y = await compiled.run({ [g.inputs[0]!.name]: Float32Array.of(100, 200) });
    assert.deepEqual(Array.from(y.out0!.data as Float32Array), [111, 221], g.inputs[0]!.name);
  }
  const g = new Graph();
  const out = g.run(() => F.add(g.input('x', [2]), 1));
  await assert.rejects(CompiledGraph.compile(g, [out, out], { outputNames: ['y', 'y'] }), /output name "y" is given twice/);
  await assert.rejects(CompiledGraph.compile(g, [out], { outputNames: ['x'] }), /output name "x" is also the name of a graph input/);
  await assert.rejects(CompiledGraph.compile(g, [undefined as never]), /compile: output 0 is not a Tensor/);
  await assert.rejects(CompiledGraph.compile(g, [out], { threads: 100000 }), /compile: threads must be an integer in \[1, 256\]; got 100000/);
  const compiled = await CompiledGraph.compile(g, [out]);
  await assert.rejects(compiled.run(null as never), /run: expected an object of feeds/);
  await assert.rejects(compiled.run({ x: null } as never), /feed "x": expected a typed array or \{ data, shape, dtype \} but received null/);
  await assert.rejects(compiled.run({ x: [1, 2] } as never), /feed "x": expected a typed array .* but received a plain array/);
  // A typo'd feed name is refused by name (it would have been ignored beside a correct one).
  await assert.rejects(compiled.run({ x: Float32Array.of(1, 2), lr: Float32Array.of(1) }), /run: unknown feed "lr" \(inputs: x\)/);
  // A declared input that these outputs do not use may still be fed (a shared feed object).
  const g2 = new Graph();
  const used = g2.run(() => {
    g2.input('unused', [3]);
    return F.add(g2.input('x', [2]), 1);
  });
  const partial = await CompiledGraph.compile(g2, [used]);
  assert.deepEqual(partial.feedNames, ['x']);
  const r = await partial.run({ x: Float32Array.of(1, 2), unused: Float32Array.of(0, 0, 0) });
  assert.deepEqual(Array.from(r.out0!.data as Float32Array), [2, 3]);
});

test('ops: pad modes and values, pooling windows, split counts, ranks and dims are checked where the op is written', () => {
  const cases: [string, (g: Graph) => unknown, RegExp][] = [
    ['pad mode', (g) => F.pad(g.input('x', [5, 3]), [1, 0, 0, 0], 'edge' as never), /pad \[5,3\]: mode "edge" is not supported/],
    ['pad int value', (g) => F.pad(g.input('x', [2], 'int64'), [1, 0], 'constant', 0.5), /pad \[2\]: pad value must be a number and an integer for int64; got 0\.5/],
    ['pad zeros, wrong count', (g) => F.pad(g.input('x', [5, 3]), [0, 0]), /pad \[5,3\]: expected 4 pads, got 2/],
    ['pad2d rank 1', (g) => F.pad2d(g.input('x', [7]), 1, 1, 1, 1), /pad2d \[7\]: input must have rank >= 2/],
    ['max pool kernel 2.5', (g) => F.maxPool(g.input('x', [1, 3, 8, 8]), { kernel: 2.5 }), /max_pool \[1,3,8,8\]: kernel and stride must be positive integers .* got kernel \[2\.5,2\.5\]/],
    ['max pool stride 0', (g) => F.maxPool(g.input('x', [1, 3, 8, 8]), { kernel: 2, stride: 0 }), /max_pool \[1,3,8,8\]: kernel and stride must be positive integers/],
    ['avg pool padding -1', (g) => F.avgPool(g.input('x', [1, 3, 8, 8]), { kernel: 2, padding: -1 }), /avg_pool \[1,3,8,8\]: .*padding \[-1,-1,-1,-1\]/],
    ['max pool rank 1', (g) => F.maxPool(g.input('x', [8]), { kernel: 2 }), /max_pool \[8\]: input must be \[N, C, \*spatial\]/],
    ['global pool rank 1', (g) => F.globalAvgPool(g.input('x', [8])), /global_avg_pool \[8\]: input must be \[N, C, \*spatial\]/],
    ['split 1.5 parts', (g) => F.split(g.input('x', [6, 3]), 1.5, 0), /split \[6,3\]: the number of parts must be an integer >= 1; got 1\.5/],
    ['group norm rank 1', (g) => F.groupNorm(g.input('x', [6]), 2, g.input('w', [6]), g.input('b', [6])), /group_norm \[6\]: input must be \[N, C, \.\.\.\]/],
    ['conv transpose groups', (g) => F.convTranspose(g.input('x', [1, 3, 8, 8]), g.input('w', [3, 2, 3, 3]), null, { groups: 2 }), /conv_transpose .*3 input channels are not divisible by groups 2/],
    ['conv empty kernel', (g) => F.conv(g.input('x', [1, 3, 8, 8]), g.input('w', [4, 3, 0, 3]), null), /conv .*kernel \[0,3\] has an empty dimension/],
    ['zeros [-3]', () => F.zeros([-3]), /expand \[\]: cannot expand to \[-3\]: dimensions must be integers >= 0/],
    ['ones [2.5]', () => F.ones([2.5]), /cannot expand to \[2\.5\]/],
    ['cast float16', (g) => F.cast(g.input('x', [2]), 'float16' as never), /cast \[2\]: unsupported dtype float16/],
    ['input float64', (g) => g.input('x', [2], 'float64' as never), /graph input "x": unsupported dtype float64/],
    ['constant dtype', (g) => g.constant(new Float32Array(2), [2], 'int64'), /constant: int64 values must come in a BigInt64Array; got Float32Array/],
    ['constant shape', (g) => g.constant(new Float32Array(1), [-1, -1], 'float32'), /constant: invalid shape \[-1,-1\]/],
    ['string operand', (g) => F.add(g.input('x', [2]), 'x' as never), /expected a Tensor or a number as an operand but received "x"/],
    ['array operand', (g) => F.mul(g.input('x', [2]), [2, 3] as never), /operand but received an array/],
    ['fraction on int64', (g) => F.add(g.input('x', [2], 'int64'), 1.5), /a number operand of a int64 tensor must be an integer it can hold; got 1\.5/],
    ['2^40 on int32', (g) => F.add(g.input('x', [2], 'int32'), 2 ** 40), /int32 tensor must be an integer it can hold; got 1099511627776/],
    ['relu(undefined)', () => F.relu(undefined as never), /relu: expected a Tensor as input 0 but received undefined/],
  ];
  for (const [name, fn, want] of cases) assert.throws(trace(fn), want, name);
  // Valid neighbours still build: -Infinity masks, zero pads of the right count, NaN-free float operands.
  Graph.trace((g) => F.add(F.pad(g.input('x', [5, 3]), [0, 0, 0, 0]), -Infinity));
});

test('layers and states: bad sizes are named by the layer, an initializer of the wrong length is refused, huge windows are refused before allocating', () => {
  assert.throws(() => new Conv(3, 4, 3, { groups: 0 }), /Conv: expected integer >= 1 for groups but received 0/);
  assert.throws(() => new Conv(3, 4, 0), /Conv: expected 2 positive integers \(or one for all dims\) for kernelSize but received 0/);
  assert.throws(() => new Conv(3, 4, [3]), /for kernelSize but received \[3\]/);
  assert.throws(() => new LayerNorm(-3), /LayerNorm: weight would have shape \[-3\]/);
  assert.throws(() => new LayerNorm(2.5), /LayerNorm: weight would have shape \[2\.5\]/);
  assert.throws(() => new GroupNorm(2, -4), /GroupNorm: weight would have shape \[-4\]/);
  assert.throws(() => new WindowAttention(16, 2, { windowSize: 200 }), /WindowAttention: expected integer in \[1, 64\] for windowSize but received 200/);
  assert.throws(() => new Lesa(16, undefined as never), /Lesa: expected \{ fmapSize, heads\?, \.\.\. \}/);
  assert.throws(() => new Lesa(16, { fmapSize: [8] as never, heads: 2 }), /Lesa: expected a size or \[height, width\] for fmapSize but received \[8\]/);
  assert.throws(() => new Lesa(16, { fmapSize: 8, heads: 2, kernelSize: 4 }), /Lesa: expected an odd size .* for kernelSize but received 4/);
  class Short extends Module {
    constructor(n: number) {
      super();
      this.addParam('w', [4], () => new Float32Array(n));
    }
    forward(x: F.Tensor): F.Tensor {
      return x;
    }
  }
  assert.throws(() => ModelState.init(new Short(3)), /w: its initializer gave 3 values for shape \[4\] \(4 values\)/);
  assert.throws(() => ModelState.init(new Short(5)), /w: its initializer gave 5 values/);
  assert.equal(ModelState.init(new Short(4)).params.length, 4);
});

test('grad: arguments that are not tensors of the graph, an integer output and a seed of another shape are named', () => {
  Graph.trace((g) => {
    const x = g.input('x', [3]);
    const y = F.reduceSum(F.mul(x, x));
    const other = new Graph().input('z', [3]);
    assert.throws(() => grad(y, undefined as never), /grad: expected an array of tensors/);
    assert.throws(() => grad(undefined as never, [x]), /grad: expected a Tensor as the output but received undefined/);
    assert.throws(() => grad(y, [other]), /grad: wrt\[0\] \[3\] belongs to a different graph than the output/);
    assert.throws(() => grad(F.cast(x, 'int64'), [x]), /grad: the output is int64; only a float32 output has gradients/);
    assert.throws(() => grad(F.mul(x, 2), [x], { seed: F.ones([2]) }), /grad: the seed must be a float32 tensor of the output's shape \[3\]/);
    assert.equal(grad(y, [x]).length, 1);
  });
});

test("TrainStep: the batch and extra outputs cannot take the step's own names; the loss must be { loss: float32 scalar }", async () => {
  const model = new TinyCNN(1, 4);
  const state = ModelState.init(model, 1);
  const x = { name: 'x', shape: [2, 1, 16, 16], dtype: 'float32' as const };
  const y = { name: 'y', shape: [2], dtype: 'int64' as const };
  const base = { model, state, optimizer: new SGD({}), inputs: [x, y], loss: (m: TinyCNN, ins: Record<string, F.Tensor>) => ({ loss: F.crossEntropy(m.call(ins.x!), ins.y!) }) };
  await assert.rejects(TrainStep.build({ ...base, inputs: [x, { ...y, name: 'lr' }] }), /TrainStep\.build: expected a name other than the step's own \(params, .*\) for input name but received "lr"/);
  await assert.rejects(TrainStep.build({ ...base, loss: (m, ins) => ({ loss: F.crossEntropy(m.call(ins.x!), ins.y!), outputs: { loss: m.call(ins.x!) } }) }), /extra output "loss" takes a name of the step's own/);
  await assert.rejects(TrainStep.build({ ...base, loss: ((m: TinyCNN, ins: Record<string, F.Tensor>) => F.crossEntropy(m.call(ins.x!), ins.y!)) as never }), /the loss function must return \{ loss: Tensor, outputs\? \}; got a bare Tensor/);
  await assert.rejects(TrainStep.build({ ...base, loss: (m, ins) => ({ loss: F.argmax(F.reduceSum(m.call(ins.x!), 0), 0) }) }), /loss must be float32 \(a int64 loss has no gradient\)/);
});

test('ops and layers, second round: narrow does not clamp, slices name repeated axes, norms check eps/momentum, losses their smoothing, Sequential its children, tensors their graph', async () => {
  const cases: [string, (g: Graph) => unknown, RegExp][] = [
    ['narrow past the end', (g) => F.narrow(g.input('x', [5, 3]), 0, 4, 3), /narrow \[5,3\]: start 4 and length 3 do not fit in axis 0 of size 5/],
    ['slice axis twice', (g) => F.slice(g.input('x', [5, 3]), [0, 1], [2, 3], [0, 0]), /slice \[5,3\]: axis 0 is given twice in \[0,0\]/],
    ['swapAxes out of range', (g) => F.swapAxes(g.input('x', [2, 3]), 0, 5), /swap_axes \[2,3\]: axes 0 and 5 must lie in -2\.\.1/],
    ['layer norm eps NaN', (g) => F.layerNorm(g.input('x', [2, 4]), g.input('w', [4]), g.input('b', [4]), Number.NaN), /layer_norm \[2,4\]: eps must be a finite number >= 0; got NaN/],
    ['batch norm momentum 7', (g) => F.batchNorm(g.input('x', [2, 3, 4, 4]), null, null, g.input('m', [3]), g.input('v', [3]), { training: true, momentum: 7 }), /batch_norm \[2,3,4,4\]: momentum must be in \[0, 1\]; got 7/],
    ['label smoothing 2', (g) => F.crossEntropy(g.input('x', [2, 3]), g.input('y', [2], 'int64'), 2), /cross_entropy \[2,3\] x \[2\]: label smoothing must be in \[0, 1\]; got 2/],
  ];
  for (const [name, fn, want] of cases) assert.throws(trace(fn), want, name);
  assert.equal(Graph.trace((g) => F.narrow(g.input('x', [5, 3]), 0, -2, 2)).result.shape.join(), '2,3', 'a negative start counts from the end');
  const { Linear, Sequential } = await import('../../src/nn/index.js');
  assert.throws(() => new Sequential(new Linear(2, 2), F.relu as never), /Sequential: child "1" is not a Module but a function \(wrap it: new Lambda\('name', fn\)\)/);
  const kept = Graph.trace((g) => g.input('x', [2])).result;
  assert.throws(trace((g) => F.add(g.input('y', [2]), kept)), /add \[2\] x \[2\]: input 1 belongs to another graph/);
});

test('runtime, optimizers and schedules, second round: typed arrays must match their dtype; unknown option keys, negative steps, growing decay and clip norms <= 0 are refused (a warm-up longer than the run is allowed)', async () => {
  const { hostTensor } = await import('../../src/runtime/session.js');
  const { AdamW, clipByGlobalNorm, cosineWithWarmup, stepDecay } = await import('../../src/optim/index.js');
  const { createModel } = await import('../../src/models/index.js');
  assert.throws(() => hostTensor(new Float32Array(2), [2], 'int64'), /hostTensor: int64 values must come in a BigInt64Array; got Float32Array/);
  assert.throws(() => hostTensor(new Float32Array(1), [-1, -1]), /hostTensor: invalid shape \[-1,-1\]/);
  const g = new Graph();
  const out = g.run(() => F.add(g.input('x', [2]), 1));
  const compiled = await CompiledGraph.compile(g, [out]);
  await assert.rejects(compiled.run({ x: { data: new Int32Array(2), shape: [2], dtype: 'float32' } }), /feed "x": float32 data must be a Float32Array; got Int32Array/);
  assert.throws(() => new AdamW({ betas: [0.9, 0.99] } as never), /AdamW: unknown option "betas" \(known: beta1, beta2, eps, weightDecay\)/);
  assert.throws(() => new SGD({ moment: 0.9 } as never), /SGD: unknown option "moment"/);
  assert.equal(cosineWithWarmup({ baseLr: 0.1, totalSteps: 10, warmupSteps: 20 })(9), 0.05, 'a warm-up longer than the run rises for the whole run');
  assert.throws(() => cosineWithWarmup({ baseLr: 0.1, totalSteps: 10 })(-5), /cosineWithWarmup: expected integer >= 0 for step but received -5/);
  assert.throws(() => stepDecay(0.1, 5, 10), /stepDecay: expected finite number in \[0, 1\] for gamma but received 10/);
  assert.equal(stepDecay(0.1, 5, 0.5)(10), 0.025);
  assert.throws(trace((gr) => clipByGlobalNorm(gr.input('g', [3]), -1)), /clipByGlobalNorm: expected a number > 0 \(Infinity: no clipping\) for maxNorm but received -1/);
  await assert.rejects(createModel('tiny_cnn', { seed: Number.NaN }), /tiny_cnn: expected integer for seed but received NaN/);
  await assert.rejects(createModel('tiny_cnn', { init: 'no' as never }), /tiny_cnn: expected true or false for init but received "no"/);
});
