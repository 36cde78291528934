/**
 * Finite-difference gradient checking for graph ops.
 *
 * For a function f of float inputs, builds L = sum(f(x) * R) with a fixed random R, computes the
 * analytic gradient through `grad`, and compares directional derivatives <dL/dx, v> with central
 * differences (L(x + h v) - L(x - h v)) / 2h along random directions v (and along every coordinate
 * for small inputs). All runs go through ONNX Runtime, forward and backward.
 */
import assert from 'node:assert/strict';
import { Graph, type Tensor } from '../../src/graph/index.js';
import * as F from '../../src/graph/index.js';
import { grad } from '../../src/autodiff/index.js';
import { CompiledGraph, type HostTensor } from '../../src/runtime/index.js';
import { Rng } from './rng.js';

export interface GradCheckInput {
  shape: number[];
  /** Initial values (default: normal * scale). */
  data?: Float32Array;
  /** Not differentiated (e.g. integer or fixed inputs): data fed as given. */
  fixed?: boolean;
  dtype?: 'float32' | 'int64' | 'bool';
  int64?: BigInt64Array;
  bool?: Uint8Array;
}

export interface GradCheckOptions {
  seed?: number;
  h?: number;
  rtol?: number;
  atol?: number;
  directions?: number;
  /** Check each coordinate when an input has at most this many elements. */
  fullBelow?: number;
}

export async function gradCheck(name: string, inputs: GradCheckInput[], fn: (...xs: Tensor[]) => Tensor, opts: GradCheckOptions = {}): Promise<void> {
  const rng = new Rng(opts.seed ?? 1);
  const h = opts.h ?? 1e-2;
  const rtol = opts.rtol ?? 2e-2;
  const atol = opts.atol ?? 2e-3;
  const values = inputs.map((inp) => inp.data ?? rng.normalArray(inp.shape.reduce((p, d) => p * d, 1)));

  const { graph, result } = Graph.trace((g) => {
    const xs = inputs.map((inp, i) => g.input(`x${i}`, inp.shape, inp.dtype ?? 'float32'));
    const y = fn(...xs);
    const r = g.input('r', y.shape, 'float32');
    const loss = F.reduceSum(F.mul(y, r));
    const diffInputs = xs.filter((_, i) => !inputs[i]!.fixed);
    const grads = grad(loss, diffInputs);
    return { loss, grads, rShape: y.shape };
  });
  const rData = rng.normalArray(result.rShape.reduce((p, d) => p * d, 1));
  const lossOnly = await CompiledGraph.compile(graph, [result.loss], { outputNames: ['loss'] });
  const withGrads = await CompiledGraph.compile(graph, [result.loss, ...(result.grads as Tensor[])], {
    outputNames: ['loss', ...result.grads.map((_, i) => `g${i}`)],
  });
  const feedsFor = (vals: Float32Array[]): Record<string, HostTensor> => {
    const f: Record<string, HostTensor> = { r: { data: rData, shape: result.rShape, dtype: 'float32' } };
    inputs.forEach((inp, i) => {
      if (inp.dtype === 'int64') f[`x${i}`] = { data: inp.int64!, shape: inp.shape, dtype: 'int64' };
      else if (inp.dtype === 'bool') f[`x${i}`] = { data: inp.bool!, shape: inp.shape, dtype: 'bool' };
      else f[`x${i}`] = { data: vals[i]!, shape: inp.shape, dtype: 'float32' };
    });
    return f;
  };
  const base = await withGrads.run(feedsFor(values));
  const lossAt = async (vals: Float32Array[]) => (await lossOnly.run(feedsFor(vals))).loss!.data[0] as number;

  let gi = 0;
  for (let i = 0; i < inputs.length; i++) {
    if (inputs[i]!.fixed) continue;
    const g = base[`g${gi++}`]!.data as Float32Array;
    const n = values[i]!.length;
    const dirs: Float32Array[] = [];
    for (let d = 0; d < (opts.directions ?? 3); d++) dirs.push(rng.normalArray(n));
    if (n <= (opts.fullBelow ?? 12)) {
      for (let k = 0; k < n; k++) {
        const e = new Float32Array(n);
        e[k] = 1;
        dirs.push(e);
      }
    }
    for (const v of dirs) {
      const plus = values.map((a) => a.slice());
      const minus = values.map((a) => a.slice());
      for (let k = 0; k < n; k++) {
        plus[i]![k] += h * v[k]!;
        minus[i]![k] -= h * v[k]!;
      }
      const numeric = ((await lossAt(plus)) - (await lossAt(minus))) / (2 * h);
      let analytic = 0;
      for (let k = 0; k < n; k++) analytic += g[k]! * v[k]!;
      const tol = atol + rtol * Math.max(Math.abs(numeric), Math.abs(analytic));
      assert.ok(
        Math.abs(numeric - analytic) <= tol,
        `${name}: input ${i} directional derivative analytic ${analytic.toFixed(6)} vs numeric ${numeric.toFixed(6)} (tol ${tol.toExponential(2)})`,
      );
    }
  }
}
