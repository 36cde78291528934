/**
 * Convolution and transposed convolution over 1-3 spatial dims: forward values against naive loops,
 * FD gradients for input, weight and bias over stride / padding / dilation / groups (incl.
 * depthwise, 1-d and 3-d, asymmetric padding, output padding), and shape errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../src/graph/index.js';
import { gradCheck } from '../helpers/gradcheck.js';
import { Rng } from '../helpers/rng.js';
import { assertClose, assertShapeError, evaluate, f32, refConv, refConvTranspose, sizeOf } from './util.js';

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  bias: boolean;
  stride: number[];
  /** [begin..., end...] */
  pads: number[];
  dilation: number[];
  groups: number;
}

const CONV_CASES: ConvCase[] = [
  { name: '2d stride 2 pad 1 groups 2', x: [2, 4, 5, 5], w: [6, 2, 3, 3], bias: true, stride: [2, 2], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 2 },
  { name: '2d dilation 2 asymmetric pad', x: [1, 2, 6, 5], w: [3, 2, 3, 2], bias: false, stride: [1, 2], pads: [2, 0, 1, 1], dilation: [2, 1], groups: 1 },
  { name: '2d depthwise', x: [1, 3, 4, 4], w: [3, 1, 3, 3], bias: true, stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 3 },
  { name: '2d depthwise multiplier 2 stride 3 dilation 2', x: [1, 2, 7, 7], w: [4, 1, 2, 2], bias: false, stride: [3, 3], pads: [1, 1, 0, 0], dilation: [2, 2], groups: 2 },
  { name: '1d stride 2 dilation 3', x: [2, 3, 11], w: [2, 3, 3], bias: true, stride: [2], pads: [2, 1], dilation: [3], groups: 1 },
  { name: '3d stride 2 pad 1', x: [1, 2, 4, 3, 4], w: [2, 2, 2, 3, 2], bias: true, stride: [2, 1, 2], pads: [1, 1, 0, 0, 1, 1], dilation: [1, 1, 1], groups: 1 },
];

test('conv: forward values against a naive loop (1-d, 2-d, 3-d)', async () => {
  const rng = new Rng(21);
  for (const c of CONV_CASES) {
    const x = rng.normalArray(sizeOf(c.x));
    const w = rng.normalArray(sizeOf(c.w));
    const b = rng.normalArray(c.w[0]!);
    const feeds = [f32(c.x, x), f32(c.w, w), f32([c.w[0]!], b)];
    const [y] = await evaluate(feeds, (xt, wt, bt) => F.conv(xt, wt, c.bias ? bt : null, { stride: c.stride, padding: c.pads, dilation: c.dilation, groups: c.groups }));
    const ref = refConv(x, c.x, w, c.w, c.bias ? b : null, { stride: c.stride, pads: c.pads, dilation: c.dilation, groups: c.groups });
    assert.deepEqual([...y!.shape], ref.shape, c.name);
    assertClose(y!, ref.data, `conv ${c.name}`, 1e-4);
  }
});

test('conv: gradients w.r.t. input, weight and bias', async () => {
  for (const [i, c] of CONV_CASES.entries()) {
    const ins = [{ shape: c.x }, { shape: c.w }, ...(c.bias ? [{ shape: [c.w[0]!] }] : [])];
    await gradCheck(`conv ${c.name}`, ins, (x, w, b) => F.conv(x, w, b, { stride: c.stride, padding: c.pads, dilation: c.dilation, groups: c.groups }), { seed: 30 + i, directions: 2, fullBelow: 0 });
  }
});

/** A seeded random conv configuration: 1-3 spatial dims, stride, padding, dilation and groups. */
function randomConvCase(rng: Rng, k: number): ConvCase {
  const n = 1 + (k % 3);
  const groups = [1, 2][rng.int(2)]!;
  const cin = groups * (1 + rng.int(2));
  const cout = groups * (1 + rng.int(2));
  const kernel = Array.from({ length: n }, () => 1 + rng.int(n === 3 ? 2 : 3));
  const dilation = Array.from({ length: n }, () => 1 + rng.int(2));
  const stride = Array.from({ length: n }, () => 1 + rng.int(2));
  const pads = Array.from({ length: 2 * n }, () => rng.int(2));
  const spatial = kernel.map((kk, i) => dilation[i]! * (kk - 1) + 1 + rng.int(n === 3 ? 2 : 4));
  return { name: `random #${k} (${n}-d)`, x: [1 + rng.int(2), cin, ...spatial], w: [cout, cin / groups, ...kernel], bias: rng.next() < 0.5, stride, pads, dilation, groups };
}

test('conv: seeded random configurations, forward against the naive loop and gradients', async () => {
  const rng = new Rng(77);
  for (let k = 0; k < 4; k++) {
    const c = randomConvCase(rng, k);
    const opts = { stride: c.stride, padding: c.pads, dilation: c.dilation, groups: c.groups };
    const x = rng.normalArray(sizeOf(c.x));
    const w = rng.normalArray(sizeOf(c.w));
    const [y] = await evaluate([f32(c.x, x), f32(c.w, w)], (xt, wt) => F.conv(xt, wt, null, opts));
    const ref = refConv(x, c.x, w, c.w, null, { ...opts, pads: c.pads, dilation: c.dilation });
    assert.deepEqual([...y!.shape], ref.shape, `${c.name} ${JSON.stringify(c)}`);
    assertClose(y!, ref.data, `conv ${c.name}`, 1e-4);
    const ins = [{ shape: c.x }, { shape: c.w }, ...(c.bias ? [{ shape: [c.w[0]!] }] : [])];
    await gradCheck(`conv ${c.name} ${JSON.stringify(opts)}`, ins, (xt, wt, bt) => F.conv(xt, wt, bt, opts), { seed: k, directions: 2, fullBelow: 0 });
  }
});

interface ConvTCase extends ConvCase {
  outputPadding: number[];
}

const CONVT_CASES: ConvTCase[] = [
  { name: '2d stride 2 pad 1 output padding 1 groups 2', x: [1, 4, 3, 3], w: [4, 1, 3, 3], bias: true, stride: [2, 2], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 2, outputPadding: [1, 1] },
  { name: '2d stride (2,3) dilation 2 no pad', x: [2, 2, 2, 3], w: [2, 3, 2, 2], bias: false, stride: [2, 3], pads: [0, 0, 0, 0], dilation: [2, 2], groups: 1, outputPadding: [1, 2] },
  { name: '1d stride 3 dilation 3 output padding 2', x: [1, 2, 4], w: [2, 2, 2], bias: true, stride: [3], pads: [1, 0], dilation: [3], groups: 1, outputPadding: [2] },
  { name: '3d stride 2', x: [1, 2, 2, 2, 2], w: [2, 1, 2, 3, 2], bias: true, stride: [2, 2, 1], pads: [0, 1, 0, 0, 1, 1], dilation: [1, 1, 1], groups: 1, outputPadding: [1, 0, 0] },
];

test('conv_transpose: forward values against a naive scatter loop', async () => {
  const rng = new Rng(22);
  for (const c of CONVT_CASES) {
    const x = rng.normalArray(sizeOf(c.x));
    const w = rng.normalArray(sizeOf(c.w));
    const cout = c.w[1]! * c.groups;
    const b = rng.normalArray(cout);
    const opts = { stride: c.stride, padding: c.pads, dilation: c.dilation, groups: c.groups, outputPadding: c.outputPadding };
    const [y] = await evaluate([f32(c.x, x), f32(c.w, w), f32([cout], b)], (xt, wt, bt) => F.convTranspose(xt, wt, c.bias ? bt : null, opts));
    const ref = refConvTranspose(x, c.x, w, c.w, { stride: c.stride, pads: c.pads, dilation: c.dilation, groups: c.groups, outputPadding: c.outputPadding });
    const per = sizeOf(ref.shape.slice(2));
    if (c.bias) ref.data.forEach((v, k) => (ref.data[k] = v + b[Math.floor(k / per) % cout]!));
    assert.deepEqual([...y!.shape], ref.shape, c.name);
    assertClose(y!, ref.data, `conv_transpose ${c.name}`, 1e-4);
  }
});

test('conv_transpose: gradients w.r.t. input, weight and bias', async () => {
  for (const [i, c] of CONVT_CASES.entries()) {
    const cout = c.w[1]! * c.groups;
    const ins = [{ shape: c.x }, { shape: c.w }, ...(c.bias ? [{ shape: [cout] }] : [])];
    const opts = { stride: c.stride, padding: c.pads, dilation: c.dilation, groups: c.groups, outputPadding: c.outputPadding };
    await gradCheck(`conv_transpose ${c.name}`, ins, (x, w, b) => F.convTranspose(x, w, b, opts), { seed: 40 + i, directions: 2, fullBelow: 0 });
  }
});

test('conv shape errors name the op, the shapes and the module path', () => {
  assertShapeError((g) => F.conv(g.input('x', [1, 3, 8, 8]), g.input('w', [4, 2, 3, 3]), null), ['conv [1,3,8,8] x [4,2,3,3]', 'weight expects 2 input channels, input has 3']);
  assertShapeError((g) => F.conv(g.input('x', [1, 4, 8, 8]), g.input('w', [6, 1, 3, 3]), null, { groups: 4 }), ['conv [1,4,8,8] x [6,1,3,3]', 'channels 4->6 not divisible by groups 4']);
  assertShapeError((g) => F.conv(g.input('x', [1, 4, 8, 8]), g.input('w', [6, 4, 3, 3]), g.input('b', [4])), ['conv [1,4,8,8] x [6,4,3,3] x [4]', 'bias shape [4] != [6]']);
  assertShapeError((g) => F.conv(g.input('x', [1, 2, 2, 2]), g.input('w', [1, 2, 3, 3]), null), ['conv [1,2,2,2] x [1,2,3,3]', 'is empty']);
  assertShapeError((g) => F.conv(g.input('x', [1, 2, 8]), g.input('w', [1, 2, 3, 3]), null), ['conv [1,2,8] x [1,2,3,3]', 'weight rank 4 != input rank 3']);
  assertShapeError((g) => F.conv(g.input('x', [1, 2, 8, 8]), g.input('w', [1, 2, 3, 3]), null, { stride: 0 }), ['conv', 'stride and dilation must be positive integers']);
  assertShapeError((g) => F.conv(g.input('x', [1, 2, 8], 'int64'), g.input('w', [1, 2, 3]), null), ['conv [1,2,8] x [1,2,3]', 'expected float32 operands, got int64, float32']);
  assertShapeError((g) => F.convTranspose(g.input('x', [1, 3, 4, 4]), g.input('w', [2, 2, 3, 3]), null), ['conv_transpose [1,3,4,4] x [2,2,3,3]', 'weight expects 2 input channels, input has 3']);
  assertShapeError((g) => F.convTranspose(g.input('x', [1, 2, 4, 4]), g.input('w', [2, 2, 3, 3]), null, { stride: 2, outputPadding: 2 }), ['conv_transpose', 'output padding [2,2] must be integers in [0, stride), one per spatial dim (stride [2,2])']);
  assertShapeError((g) => F.convTranspose(g.input('x', [1, 2, 4]), g.input('w', [2, 2, 3]), null, { dilation: 3, outputPadding: 1 }), ['conv_transpose [1,2,4] x [2,2,3]', 'output padding [1] must be integers in [0, stride), one per spatial dim (stride [1])']);
});
