/**
 * Reverse-mode autodiff (`grad`, `vjp`): exact gradient values for small closed forms, fan-out
 * accumulation, seeds, unused inputs, and the error for ops without a gradient.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../src/graph/index.js';
import { Graph, type Tensor } from '../../src/graph/index.js';
import { grad, valueAndGrad, vjp } from '../../src/autodiff/index.js';
import { assertClose, evaluate, f32 } from './util.js';

test('grad: exact values, fan-out accumulation and non-scalar outputs', async () => {
  // L = sum(x * x * y + exp(y)) -> dL/dx = 2 x y, dL/dy = x^2 + exp(y)
  const x = [1, -2, 0.5];
  const y = [0.3, 2, -1];
  const outs = await evaluate([f32([3], x), f32([3], y)], (xt, yt) => {
    const { value, grads } = valueAndGrad(F.reduceSum(F.add(F.mul(F.mul(xt, xt), yt), F.exp(yt))), [xt, yt]);
    // non-scalar output: gradient of sum(out)
    const [gNonScalar] = grad(F.mul(xt, 3), [xt]);
    return [value, ...(grads as Tensor[]), gNonScalar!];
  });
  assertClose(outs[0]!, [x.reduce((s, v, i) => s + v * v * y[i]! + Math.exp(y[i]!), 0)], 'value', 1e-5);
  assertClose(outs[1]!, x.map((v, i) => 2 * v * y[i]!), 'dL/dx', 1e-5);
  assertClose(outs[2]!, x.map((v, i) => v * v + Math.exp(y[i]!)), 'dL/dy', 1e-5);
  assertClose(outs[3]!, [3, 3, 3], 'd sum(3x)/dx');
});

test('vjp: seeds the output gradient; unused inputs give null', async () => {
  const outs = await evaluate([f32([2, 2], [1, 2, 3, 4]), f32([2, 2], [1, 0, -1, 2])], (xt, seed) => {
    const y = F.matmul(xt, xt); // d<seed, x x>/dx = seed x^T + x^T seed
    const unused = F.reshape(xt, [4]);
    const [gx, gu] = vjp(y, seed, [xt, unused]);
    assert.equal(gu, null);
    return [gx!];
  });
  // x = [[1,2],[3,4]], s = [[1,0],[-1,2]]: s x^T = [[1,3],[3,5]], x^T s = [[-2,6],[-2,8]]
  assertClose(outs[0]!, [-1, 9, 1, 13], 'vjp matmul');
});

test('grad errors: unused input, op without gradient', () => {
  Graph.trace((g) => {
    const x = g.input('x', [2]);
    const z = g.input('z', [2]);
    assert.throws(() => grad(F.reduceSum(x), [z]), /tensor z does not influence the output/);
    assert.deepEqual(grad(F.reduceSum(x), [z], { allowUnused: true }), [null]);
    g.withScope('stages.0.act', () => {
      const y = F.reduceSum(F.floor(x));
      assert.throws(() => grad(y, [x]), /stages\.0\.act: op floor has no gradient/);
    });
  });
});
