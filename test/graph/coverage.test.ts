/**
 * Every registered differentiable op has a finite-difference gradient check. The lists below are
 * explicit: a new op fails this test until it is added to COVERED (with a gradCheck in the named
 * file, whose name starts with the op name) or, if it has no gradient, to NON_DIFFERENTIABLE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { getOp, listOps } from '../../src/graph/index.js';

/** Ops without a gradient rule: integer / boolean results, piecewise-constant functions. */
/** Ops whose gradient is zero by definition (tested in stop_gradient.test.ts, not by finite differences). */
const ZERO_GRADIENT = ['stop_gradient'];

const NON_DIFFERENTIABLE = [
  'argmax',
  'cast_index',
  'equal',
  'floor',
  'greater',
  'greater_equal',
  'less',
  'less_equal',
  'logical_and',
  'logical_not',
  'logical_or',
  'sign',
];

/** Differentiable op -> the test file holding its gradCheck. */
const COVERED: Record<string, string> = {
  abs: 'elementwise',
  add: 'elementwise',
  cast: 'elementwise',
  clip: 'elementwise',
  div: 'elementwise',
  erf: 'elementwise',
  exp: 'elementwise',
  log: 'elementwise',
  maximum: 'elementwise',
  minimum: 'elementwise',
  mul: 'elementwise',
  neg: 'elementwise',
  pow: 'elementwise',
  reciprocal: 'elementwise',
  relu: 'elementwise',
  sigmoid: 'elementwise',
  sqrt: 'elementwise',
  sub: 'elementwise',
  tanh: 'elementwise',
  where: 'elementwise',
  reduce_max: 'reduce',
  reduce_mean: 'reduce',
  reduce_sum: 'reduce',
  matmul: 'matmul',
  concat: 'shape_ops',
  expand: 'shape_ops',
  flip: 'shape_ops',
  gather: 'shape_ops',
  pad: 'shape_ops',
  reshape: 'shape_ops',
  scatter_add_rows: 'shape_ops',
  slice: 'shape_ops',
  split: 'shape_ops',
  tile: 'shape_ops',
  transpose: 'shape_ops',
  conv: 'conv',
  conv_transpose: 'conv',
  avg_pool: 'pool',
  max_pool: 'pool',
  scatter_add_flat: 'pool',
  layer_norm: 'nn_functional',
  batch_normalize: 'nn_functional',
  log_softmax: 'nn_functional',
  softmax: 'nn_functional',
};

test('every registered op is either gradient-checked or explicitly non-differentiable', () => {
  const ops = listOps();
  const expectedCovered = ops.filter((n) => !NON_DIFFERENTIABLE.includes(n) && !ZERO_GRADIENT.includes(n)).sort();
  for (const name of ZERO_GRADIENT) assert.ok(getOp(name)?.grad, `${name} must be registered with a (zero) gradient rule`);
  assert.deepEqual(Object.keys(COVERED).sort(), expectedCovered, 'COVERED must list exactly the registered ops minus NON_DIFFERENTIABLE');
  for (const name of NON_DIFFERENTIABLE) {
    assert.ok(getOp(name), `non-differentiable op ${name} is not registered`);
    assert.equal(getOp(name)!.grad, undefined, `${name} has a gradient rule: move it to COVERED and test it`);
  }
  for (const name of expectedCovered) assert.ok(getOp(name)!.grad, `${name} is listed as covered but has no gradient rule`);
});

test('each covered op has a gradCheck named after it in the listed test file', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const checked = new Map<string, Set<string>>();
  for (const file of new Set(Object.values(COVERED))) {
    const src = readFileSync(join(here, `${file}.test.js`), 'utf8');
    // gradCheck('<op> <variant...>' or gradCheck(`<op> ...`
    const names = [...src.matchAll(/gradCheck\(\s*['`"]([a-z_0-9]+)/g)].map((m) => m[1]!);
    checked.set(file, new Set(names));
  }
  for (const [op, file] of Object.entries(COVERED)) {
    assert.ok(checked.get(file)!.has(op), `no gradCheck('${op} ...') in ${file}.test`);
  }
});
