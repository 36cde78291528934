import { test } from 'node:test';
import * as F from '../../src/graph/index.js';
import { gradCheck } from '../helpers/gradcheck.js';

test('matmul + softmax + conv gradients (smoke)', async () => {
  await gradCheck('matmul', [{ shape: [2, 3, 4] }, { shape: [4, 5] }], (a, b) => F.matmul(a, b));
  await gradCheck('softmax', [{ shape: [2, 5] }], (x) => F.softmax(x, -1));
  await gradCheck('conv', [{ shape: [2, 4, 6, 6] }, { shape: [6, 2, 3, 3] }], (x, w) => F.conv(x, w, null, { stride: 2, padding: 1, groups: 2 }));
});
