/**
 * Shape and indexing ops: forward values on iota inputs (closed forms written out), FD gradients
 * (strided and negative slices, reflect pad, gather with repeated and negative indices, split with
 * unused outputs, tile, roll, flip...), and build-time shape errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../src/graph/index.js';
import { grad } from '../../src/autodiff/index.js';
import { gradCheck } from '../helpers/gradcheck.js';
import { assertClose, assertShapeError, evaluate, f32, i64 } from './util.js';

const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('reshape, transpose, concat, split, flatten: forward values', async () => {
  const outs = await evaluate([f32([2, 3], iota(6)), f32([2, 1], [10, 11])], (x, y) => [
    F.reshape(x, [3, -1]),
    F.transpose(x, [1, 0]),
    F.concat([x, y, x], -1),
    ...F.split(x, [2, 1], 1),
    F.flatten(F.unsqueeze(x, -1), 0),
    F.swapAxes(F.reshape(x, [1, 2, 3]), 0, -1),
    F.squeeze(F.unsqueeze(x, 0), 0),
    F.concat(F.split(x, 2, 0).reverse(), 0), // reversing the returned list must not touch the node
  ]);
  const expected: [number[], number[]][] = [
    [[3, 2], [0, 1, 2, 3, 4, 5]],
    [[3, 2], [0, 3, 1, 4, 2, 5]],
    [[2, 7], [0, 1, 2, 10, 0, 1, 2, 3, 4, 5, 11, 3, 4, 5]],
    [[2, 2], [0, 1, 3, 4]],
    [[2, 1], [2, 5]],
    [[6], [0, 1, 2, 3, 4, 5]],
    [[3, 2, 1], [0, 3, 1, 4, 2, 5]],
    [[2, 3], [0, 1, 2, 3, 4, 5]],
    [[2, 3], [3, 4, 5, 0, 1, 2]],
  ];
  expected.forEach(([shape, data], i) => {
    assert.deepEqual([...outs[i]!.shape], shape, `output ${i} shape`);
    assertClose(outs[i]!, data, `output ${i}`);
  });
});

test('slice, flip, pad, expand, tile, roll, gather: forward values', async () => {
  // x = [[0..4], [5..9], [10..14]]
  const outs = await evaluate([f32([3, 5], iota(15))], (x) => [
    F.slice(x, [1, -4], [Infinity, -1], [0, 1], [1, 2]), // rows 1.., cols 1,3
    F.slice(x, [0], [5], [1], [3]), // cols 0,3
    F.flip(x, -1),
    F.pad(F.narrow(x, 0, 0, 1), [0, 1, 0, 2], 'constant', -1), // [1,5] -> [1,8]
    F.pad(F.narrow(x, 0, 0, 1), [0, 2, 0, 1], 'reflect'), // [0..4] -> [2,1,0,1,2,3,4,3]
    F.pad2d(F.reshape(F.narrow(x, 1, 0, 2), [1, 3, 2]), 1, 0, 0, 1, 'reflect'), // [1,4,3]
    F.expand(F.narrow(x, 1, 0, 1), [2, 3, 2]),
    F.tile(F.narrow(x, 0, 0, 1), [2, 2]),
    F.roll(x, [1, -2], [0, 1]),
    F.gather(x, F.constantI64([2, 0, 2, -1], [2, 2]), 0), // [2,2,5]
    F.gather(x, F.constantI64([4, -5, 4]), -1), // [3,3]
  ]);
  const row = (r: number) => iota(5).map((c) => 5 * r + c);
  const expected: [number[], number[]][] = [
    [[2, 2], [6, 8, 11, 13]],
    [[3, 2], [0, 3, 5, 8, 10, 13]],
    [[3, 5], [...row(0).reverse(), ...row(1).reverse(), ...row(2).reverse()]],
    [[1, 8], [-1, 0, 1, 2, 3, 4, -1, -1]],
    [[1, 8], [2, 1, 0, 1, 2, 3, 4, 3]],
    // [[0,1],[5,6],[10,11]] -> top reflect 1 row, right reflect 1 col
    [[1, 4, 3], [5, 6, 5, 0, 1, 0, 5, 6, 5, 10, 11, 10]],
    [[2, 3, 2], [0, 0, 5, 5, 10, 10, 0, 0, 5, 5, 10, 10]],
    [[2, 10], [...row(0), ...row(0), ...row(0), ...row(0)]],
    [[3, 5], [12, 13, 14, 10, 11, 2, 3, 4, 0, 1, 7, 8, 9, 5, 6]],
    [[2, 2, 5], [...row(2), ...row(0), ...row(2), ...row(2)]],
    [[3, 3], [4, 0, 4, 9, 5, 9, 14, 10, 14]],
  ];
  expected.forEach(([shape, data], i) => {
    assert.deepEqual([...outs[i]!.shape], shape, `output ${i} shape`);
    assertClose(outs[i]!, data, `output ${i}`);
  });
});

test('gather: runtime int64 / int32 index inputs, including negative indices', async () => {
  const [a, b] = await evaluate([f32([4, 2], iota(8)), i64([3], [-1, 1, -1])], (x, idx) => [F.gather(x, idx, 0), F.gather(x, F.cast(idx, 'int32'), 0)]);
  assertClose(a!, [6, 7, 2, 3, 6, 7], 'gather int64');
  assertClose(b!, [6, 7, 2, 3, 6, 7], 'gather int32');
});

test('reshape, transpose, concat, split, expand, tile, flip: gradients', async () => {
  await gradCheck('reshape [2,3,4]->[4,-1]', [{ shape: [2, 3, 4] }], (x) => F.reshape(x, [4, -1]));
  await gradCheck('reshape unsqueeze/squeeze', [{ shape: [3, 1, 2] }], (x) => F.unsqueeze(F.squeeze(x, 1), -1));
  await gradCheck('transpose [2,0,1]', [{ shape: [2, 3, 4] }], (x) => F.transpose(x, [2, 0, 1]));
  await gradCheck('transpose negative perm', [{ shape: [2, 3, 4] }], (x) => F.transpose(x, [-1, 0, -2]));
  await gradCheck('concat axis -1', [{ shape: [2, 3] }, { shape: [2, 1] }, { shape: [2, 2] }], (a, b, c) => F.concat([a, b, c], -1));
  await gradCheck('concat axis 0 same input twice', [{ shape: [2, 3] }, { shape: [1, 3] }], (a, b) => F.concat([a, b, a], 0));
  // split with partial use of the outputs: the unused middle piece gets a zero gradient
  await gradCheck('split partial use', [{ shape: [2, 6] }], (x) => {
    const [p, , r] = F.split(x, [1, 3, 2], -1);
    return F.concat([F.mul(p!, 2), r!], 1);
  });
  await gradCheck('split equal all used', [{ shape: [4, 3] }], (x) => {
    const [p, q] = F.split(x, 2, 0);
    return F.mul(p!, q!);
  });
  await gradCheck('expand [3,1]->[2,3,4]', [{ shape: [3, 1] }], (x) => F.expand(x, [2, 3, 4]));
  await gradCheck('tile [2,1,3] reps [2,3,1]', [{ shape: [2, 1, 3] }], (x) => F.tile(x, [2, 3, 1]));
  await gradCheck('flip axis -1 and 0', [{ shape: [3, 4] }], (x) => F.flip(F.flip(x, -1), 0));
  await gradCheck('roll [2,-3] on axes [0,-1]', [{ shape: [3, 5] }], (x) => F.roll(x, [2, -3], [0, -1]));
});

test('slice and pad: gradients (strides, negative indices, reflect)', async () => {
  await gradCheck('slice strided negative', [{ shape: [5, 7] }], (x) => F.slice(x, [-4, 1], [100, -1], [0, 1], [2, 3]));
  await gradCheck('slice step 3 overshooting end', [{ shape: [2, 8] }], (x) => F.slice(x, [1], [8], [1], [3]));
  await gradCheck('slice default axes', [{ shape: [4, 3, 2] }], (x) => F.slice(x, [1, 0], [3, 2]));
  await gradCheck('pad constant asymmetric', [{ shape: [2, 3] }], (x) => F.pad(x, [1, 0, 0, 2], 'constant', 0.5));
  await gradCheck('pad reflect two axes', [{ shape: [3, 4] }], (x) => F.pad(x, [2, 1, 1, 3], 'reflect'));
  await gradCheck('pad reflect nchw', [{ shape: [1, 2, 3, 3] }], (x) => F.pad2d(x, 1, 2, 2, 0, 'reflect'));
});

test('gather: gradients with repeated, negative and multi-dimensional indices', async () => {
  await gradCheck('gather repeated rows', [{ shape: [4, 3] }], (x) => F.gather(x, F.constantI64([1, 3, 1, 1]), 0));
  await gradCheck('gather negative indices axis -1', [{ shape: [2, 5] }], (x) => F.gather(x, F.constantI64([-1, 0, -1, 2, -5, 4], [2, 3]), -1));
  await gradCheck('gather 3d middle axis', [{ shape: [2, 4, 3] }], (x) => F.gather(x, F.constantI64([3, -2, 3], [3]), 1));
  await gradCheck('gather int32 negative indices', [{ shape: [3, 2] }], (x) => F.gather(x, F.cast(F.constantI64([-1, 0, -1]), 'int32'), 0));
  await gradCheck('gather scalar index', [{ shape: [3, 2] }], (x) => F.gather(x, F.constantI64([-1], []), 0));
  await gradCheck(
    'gather runtime indices',
    [{ shape: [4, 2] }, { shape: [5], fixed: true, dtype: 'int64', int64: BigInt64Array.from([0n, -1n, 3n, 0n, 2n]) }],
    (x, idx) => F.gather(x, idx, 0),
  );
  // scatter_add_rows is the gather gradient; its own gradient (a gather) shows up in double backward:
  // d/dw of grad_x <x-independent> sum(gather(x, idx) * w) = scatter_add_rows(w).
  await gradCheck('scatter_add_rows (gather double backward)', [{ shape: [4, 3], fixed: true }, { shape: [5, 3] }], (x, w) => {
    const [gx] = grad(F.reduceSum(F.mul(F.gather(x, F.constantI64([2, -1, 2, 0, 1]), 0), w)), [x]);
    return F.mul(gx!, gx!);
  });
});

test('shape-op errors name the op, the shapes and the module path', () => {
  assertShapeError((g) => F.reshape(g.input('x', [2, 3]), [4, 2]), ['reshape [2,3]', 'cannot reshape 6 elements to [4,2]']);
  assertShapeError((g) => F.reshape(g.input('x', [2, 3]), [4, -1]), ['reshape [2,3]', 'cannot infer -1 in [4,-1] for 6 elements']);
  assertShapeError((g) => F.concat([g.input('a', [2, 3]), g.input('b', [3, 3])], 1), ['concat [2,3] x [3,3]', 'shapes differ outside axis 1']);
  assertShapeError((g) => F.concat([g.input('a', [2, 3]), g.input('b', [2, 3])], 2), ['concat [2,3] x [2,3]', 'axis 2 out of range']);
  assertShapeError((g) => F.concat([g.input('a', [2, 3])], -3), ['concat [2,3]', 'axis -3 out of range']);
  assertShapeError(() => F.concat([], 0), ['concat', 'needs at least one tensor']);
  assertShapeError((g) => F.squeeze(g.input('x', [2, 3]), 1), ['squeeze [2,3]', 'axis 1 has size 3, expected 1']);
  assertShapeError((g) => F.squeeze(g.input('x', [2, 1]), 2), ['squeeze [2,1]', 'axis 2 out of range for rank 2']);
  assertShapeError((g) => F.unsqueeze(g.input('x', [2, 1]), 4), ['unsqueeze [2,1]', 'axis 4 out of range']);
  assertShapeError((g) => F.transpose(g.input('x', [2, 3, 4]), [0, 0, 1]), ['transpose [2,3,4]', 'not a permutation']);
  assertShapeError((g) => F.split(g.input('x', [2, 5]), 2, 1), ['split [2,5]', 'must be positive integers']);
  assertShapeError((g) => F.split(g.input('x', [2, 5]), [2, 2], 1), ['split [2,5]', 'do not sum to 5']);
  assertShapeError((g) => F.slice(g.input('x', [4]), [0], [4], [0], [0]), ['slice [4]', 'step 0 must be a positive integer']);
  assertShapeError((g) => F.slice(g.input('x', [4]), [0.5], [4]), ['slice [4]', 'start/end 0.5 must be an integer']);
  assertShapeError((g) => F.pad(g.input('x', [2, 3]), [0, 3, 0, 0], 'reflect'), ['pad [2,3]', 'reflect padding 3/0 must be < dim 3 on axis 1']);
  assertShapeError((g) => F.expand(g.input('x', [2, 3]), [4, 3]), ['expand [2,3]', 'cannot expand to [4,3]']);
  assertShapeError((g) => F.tile(g.input('x', [2, 3]), [2]), ['tile [2,3]', 'reps [2] must be 2 positive integers']);
  assertShapeError((g) => F.gather(g.input('x', [4, 3]), F.constantI64([1, 4]), 0), ['gather [4,3] x [2]', 'index 4 out of range for axis 0 of size 4']);
  assertShapeError((g) => F.gather(g.input('x', [4, 3]), g.input('i', [2]), 0), ['gather [4,3] x [2]', 'indices must be int64/int32']);
  assertShapeError((g) => F.roll(g.input('x', [4, 3]), [1], [2]), ['roll [4,3]', 'axis 2 out of range']);
  assertShapeError((g) => F.flip(g.input('x', [4, 3]), -3), ['flip [4,3]', 'axis -3 out of range']);
});
