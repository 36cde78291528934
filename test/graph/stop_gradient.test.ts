import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/graph/index.js';
import * as F from '../../src/graph/index.js';
import { grad } from '../../src/autodiff/index.js';
import { CompiledGraph } from '../../src/runtime/index.js';

test('stop_gradient: identity forward, no gradient through it', async () => {
  const { graph, result } = Graph.trace((g) => {
    const x = g.input('x', [3]);
    const y = F.mul(F.stopGradient(x), x); // d/dx sum(sg(x) * x) = sg(x) = x
    return [y, grad(F.reduceSum(y), [x])[0]!];
  });
  const r = await (await CompiledGraph.compile(graph, result)).run({ x: Float32Array.of(1, -2, 3) });
  assert.deepEqual([...(r.out0!.data as Float32Array)], [1, 4, 9]);
  assert.deepEqual([...(r.out1!.data as Float32Array)], [1, -2, 3]);
});
