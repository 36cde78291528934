/**
 * Golden-fixture checks against PyTorch. Fixtures are safetensors files written by
 * scripts/fixtures/*.py (convention in scripts/fixtures/st.py): inputs, parameters and buffers
 * under PyTorch state-dict names, the cotangent `seed`, the output, and gradients of
 * sum(output * seed) w.r.t. inputs and parameters. Tests never need Python.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Graph, type Tensor } from '../../src/graph/index.js';
import * as F from '../../src/graph/index.js';
import { grad } from '../../src/autodiff/index.js';
import { FlatBinding, ModelState, withBinding, type Module, type NamedArray } from '../../src/nn/index.js';
import { CompiledGraph, type HostTensor } from '../../src/runtime/index.js';
import { readSafetensors, toFloat32 } from '../../src/io/safetensors.js';
import { flatWeightFeeds } from '../../src/train/infer.js';

/** Absolute path of test/fixtures/<rel> (works from dist/ too). */
export function fixturePath(rel: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url)); // dist/test/helpers or test/helpers
  const root = here.includes(`${path.sep}dist${path.sep}`) ? path.resolve(here, '../../..') : path.resolve(here, '../..');
  return path.join(root, 'test', 'fixtures', rel);
}

export interface GoldenOptions {
  /** Trace in train mode (BN batch statistics, running-stat updates). Default false. */
  train?: boolean;
  rtol?: number;
  atol?: number;
  /** Forward: defaults to `model.call(...inputs in fixture order)`. */
  forward?: (model: Module, inputs: Record<string, Tensor>) => Tensor;
  /** Maps PyTorch state-dict names to ours (default identity). */
  mapKey?: (k: string) => string;
}

export interface GoldenReport {
  checked: string[];
  maxAbsErr: number;
}

function compare(name: string, got: Float32Array, want: Float32Array, rtol: number, atol: number): number {
  assert.equal(got.length, want.length, `${name}: ${got.length} values vs ${want.length} in fixture`);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    worst = Math.max(worst, err);
    assert.ok(err <= atol + rtol * Math.max(Math.abs(want[i]!), 0.1 * scale), `${name}[${i}]: got ${got[i]} want ${want[i]} (|err| ${err.toExponential(2)})`);
  }
  return worst;
}

export async function checkGolden(fixture: string, model: Module, opts: GoldenOptions = {}): Promise<GoldenReport> {
  const { tensors } = await readSafetensors(fixturePath(fixture));
  const rtol = opts.rtol ?? 1e-4;
  const atol = opts.atol ?? 1e-5;
  const mapKey = opts.mapKey ?? ((k: string) => k);
  const state = new ModelState(model);
  const entries = new Map<string, NamedArray>();
  const inputs: { name: string; shape: number[]; dtype: 'float32' | 'int64'; data: Float32Array | BigInt64Array }[] = [];
  for (const [k, t] of tensors) {
    if (k.startsWith('param.')) entries.set(mapKey(k.slice(6)), { data: toFloat32(t, k), shape: t.shape });
    if (k.startsWith('input.')) {
      inputs.push(
        t.dtype === 'I64'
          ? { name: k.slice(6), shape: t.shape, dtype: 'int64', data: new BigInt64Array(t.bytes.slice().buffer) }
          : { name: k.slice(6), shape: t.shape, dtype: 'float32', data: toFloat32(t, k) },
      );
    }
  }
  state.loadStateDict(entries, { source: fixture });
  const seed = tensors.get('seed')!;
  model.train(opts.train ?? false);
  const graph = new Graph();
  const names: string[] = [];
  const outs: Tensor[] = [];
  graph.run(() => {
    const binding = new FlatBinding(graph, state);
    const ins: Record<string, Tensor> = {};
    for (const i of inputs) ins[i.name] = graph.input(i.name, i.shape, i.dtype);
    const y = withBinding(binding, () =>
      opts.forward ? opts.forward(model, ins) : (model as unknown as { call(...a: Tensor[]): Tensor }).call(...Object.values(ins)),
    );
    const s = graph.input('seed', seed.shape, 'float32');
    const loss = F.reduceSum(F.mul(y, s));
    outs.push(y);
    names.push('output');
    const wrt: Tensor[] = [];
    for (const i of inputs) {
      if (i.dtype === 'float32' && tensors.has(`grad.input.${i.name}`)) {
        wrt.push(ins[i.name]!);
        names.push(`grad.input.${i.name}`);
      }
    }
    const paramNames: string[] = [];
    for (const slot of state.paramSlots) {
      const pt = binding.paramTensors.get(slot.item);
      const torchName = [...tensors.keys()].find((k) => k.startsWith('grad.param.') && mapKey(k.slice(11)) === slot.name);
      if (pt && torchName) {
        wrt.push(pt);
        paramNames.push(torchName);
      }
    }
    names.push(...paramNames);
    const gs = grad(loss, wrt, { allowUnused: true });
    gs.forEach((g, i) => outs.push(g ?? F.zeros(wrt[i]!.shape)));
    for (const slot of state.bufferSlots) {
      const u = binding.bufferUpdates.get(slot.item);
      const torchName = [...tensors.keys()].find((k) => k.startsWith('buffer_out.') && mapKey(k.slice(11)) === slot.name);
      if (u && torchName) {
        outs.push(u);
        names.push(torchName);
      }
    }
  });
  const compiled = await CompiledGraph.compile(graph, outs, { outputNames: names });
  const feeds: Record<string, HostTensor> = {
    ...flatWeightFeeds(compiled, state),
    seed: { data: toFloat32(seed), shape: seed.shape, dtype: 'float32' },
  };
  for (const i of inputs) feeds[i.name] = { data: i.data, shape: i.shape, dtype: i.dtype };
  const res = await compiled.run(feeds);
  let maxAbsErr = 0;
  for (const n of names) {
    const want = tensors.get(n);
    assert.ok(want, `fixture ${fixture} has no ${n}`);
    maxAbsErr = Math.max(maxAbsErr, compare(`${fixture}: ${n}`, res[n]!.data as Float32Array, toFloat32(want), rtol, atol));
  }
  // Every gradient in the fixture must have been checked.
  const expected = [...tensors.keys()].filter((k) => k.startsWith('grad.')).sort();
  assert.deepEqual(names.filter((n) => n.startsWith('grad.')).sort(), expected, 'every fixture gradient is compared');
  return { checked: names, maxAbsErr };
}
