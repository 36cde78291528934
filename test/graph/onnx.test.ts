/**
 * Emitted models use only standard ONNX ops of the default domain, forward and backward: lowers the
 * forward + backward graph of a moderately complex function, decodes the ModelProto and walks every
 * node; then runs it on ONNX Runtime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../src/graph/index.js';
import { Graph, lowerGraph, OPSET, type Tensor } from '../../src/graph/index.js';
import { onnx } from '../../src/graph/emitter.js';
import { grad } from '../../src/autodiff/index.js';
import { CompiledGraph } from '../../src/runtime/index.js';
import { Rng } from '../helpers/rng.js';

/** Standard ONNX operators (default domain) the lowering may emit. */
const STANDARD_OPS = new Set(
  (
    'Abs Add And ArgMax AveragePool Cast Clip Concat ConstantOfShape Conv ConvTranspose Div Equal Erf Exp Expand Flatten Floor Gather ' +
    'Greater GreaterOrEqual Identity LayerNormalization Less LessOrEqual Log LogSoftmax MatMul Max MaxPool Min Mul Neg Not Or Pad Pow ' +
    'Reciprocal ReduceMax ReduceMean ReduceSum Relu Reshape ScatterElements ScatterND Shape Sigmoid Sign Slice Softmax Split Sqrt Sub ' +
    'Tanh Tile Transpose Where'
  ).split(' '),
);

function model(g: Graph) {
  const x = g.input('x', [2, 3, 6, 6]);
  const w = g.input('w', [4, 3, 3, 3]);
  const dw = g.input('dw', [4, 1, 3, 3]);
  const wt = g.input('wt', [4, 8, 2, 2]);
  const lnw = g.input('lnw', [8]);
  const lnb = g.input('lnb', [8]);
  const proj = g.input('proj', [8, 5]);
  const labels = g.input('labels', [2], 'int64');
  let h = F.conv(F.pad2d(x, 1, 1, 1, 1, 'reflect'), w, null, { stride: 1 }); // [2,4,6,6]
  h = F.batchNorm(h, null, null, F.zeros([4]), F.ones([4]), { training: true }).y;
  h = F.gelu(F.conv(F.relu(h), dw, null, { padding: 1, groups: 4 }));
  h = F.add(F.maxPool(h, { kernel: 3, stride: 2, padding: 1 }), F.avgPool(h, { kernel: 2, stride: 2, ceilMode: true })); // [2,4,3,3]
  h = F.convTranspose(h, wt, null, { stride: 2, outputPadding: 1 }); // [2,8,7,7]
  h = F.slice(F.roll(h, [1], [-1]), [0, 0], [7, 7], [2, 3], [2, 3]); // [2,8,4,3]
  const tokens = F.transpose(F.reshape(h, [2, 8, 12]), [0, 2, 1]); // [2,12,8]
  const normed = F.layerNorm(tokens, lnw, lnb);
  const attn = F.softmax(F.div(F.matmul(normed, F.swapAxes(normed, -1, -2)), Math.sqrt(8)), -1); // [2,12,12]
  const mixed = F.matmul(attn, F.tile(F.gather(normed, F.constantI64([0, -1, 3, 3, 11, 5]), 1), [1, 2, 1])); // [2,12,8]
  const pooled = F.reduceMean(F.concat(F.split(mixed, [5, 7], 1), 1), 1); // [2,8]
  const logits = F.matmul(F.dropout(pooled, 0.1, true), proj); // [2,5]
  const loss = F.add(F.crossEntropy(logits, labels, 0.1), F.mul(F.reduceMax(F.clip(F.abs(logits), 0, 3)), 0.01));
  return { loss, params: [x, w, dw, wt, lnw, lnb, proj] };
}

test('forward + backward graphs contain only default-domain standard ONNX ops and run on ORT', async () => {
  const { graph, result } = Graph.trace((g) => {
    const { loss, params } = model(g);
    return [loss, ...(grad(loss, params) as Tensor[])];
  });
  const names = result.map((_, i) => `out${i}`);
  const bytes = lowerGraph(graph, result, { outputNames: names });
  const decoded = onnx.ModelProto.decode(bytes);
  assert.deepEqual(
    decoded.opsetImport.map((o) => [o.domain ?? '', Number(o.version)]),
    [['', OPSET]],
  );
  const nodes = decoded.graph?.node ?? [];
  assert.ok(nodes.length > 100, `expected a sizeable backward graph, got ${nodes.length} nodes`);
  const types = new Set<string>();
  for (const n of nodes) {
    assert.equal(n.domain ?? '', '', `node ${n.name} (${n.opType}) has domain "${n.domain}"`);
    assert.ok(STANDARD_OPS.has(n.opType!), `node ${n.name} uses non-standard op ${n.opType}`);
    types.add(n.opType!);
  }
  for (const t of ['ConvTranspose', 'ScatterND', 'ScatterElements', 'LayerNormalization', 'MaxPool', 'AveragePool', 'Gather']) {
    assert.ok(types.has(t), `the test model should exercise ${t}`);
  }
  const compiled = await CompiledGraph.compile(graph, result);
  const rng = new Rng(5);
  const feeds: Record<string, Float32Array | BigInt64Array> = { labels: BigInt64Array.of(1n, 4n) };
  for (const inp of compiled.inputs) if (inp.dtype === 'float32' && !inp.name.startsWith('rng_')) feeds[inp.name] = rng.normalArray(inp.shape.reduce((p, d) => p * d, 1), 0.5);
  const out = await compiled.run(feeds, { seed: 1, step: 0 });
  for (const name of names) assert.ok(Array.from(out[name]!.data as Float32Array).every(Number.isFinite), `${name} is finite`);
});
