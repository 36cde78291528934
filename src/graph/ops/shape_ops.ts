/**
 * Shape and indexing ops: reshape, transpose, concat, slice, split, pad (constant / reflect),
 * expand, squeeze/unsqueeze, flatten, gather, roll, tile.
 */
import { defineOp, apply1, applyOp, fail } from '../op.js';
import { Graph, type Tensor } from '../graph.js';
import { A } from '../emitter.js';
import { broadcastShapes, fmtShape, isShape, normAxis, sizeOf } from '../shape.js';
import { add, less, where } from './elementwise.js';
import { reduceSum } from './reduce.js';
import { shapeError, sumTo } from './common.js';

// ---------------------------------------------------------------------------------------------
// reshape

const reshapeOp = defineOp<{ shape: number[] }>({
  name: 'reshape',
  infer(ins, { shape }) {
    const x = ins[0]!;
    const known = shape.filter((d) => d !== -1);
    const minus = shape.length - known.length;
    if (minus > 1) fail(`at most one -1 allowed in ${fmtShape(shape)}`);
    if (known.some((d) => !Number.isInteger(d) || d < 0)) fail(`invalid target shape ${fmtShape(shape)}`);
    const prod = sizeOf(known);
    let out = shape;
    if (minus === 1) {
      if (prod === 0 || x.size % prod !== 0) fail(`cannot infer -1 in ${fmtShape(shape)} for ${x.size} elements`);
      out = shape.map((d) => (d === -1 ? x.size / prod : d));
    } else if (prod !== x.size) fail(`cannot reshape ${x.size} elements to ${fmtShape(shape)}`);
    return [{ shape: out, dtype: x.dtype }];
  },
  lower: (e, ins, outs, _a, node) => void e.node('Reshape', [ins[0]!, e.i64(node.outputs[0]!.shape)], outs),
  grad: (node, [g]) => [g && reshape(g, node.inputs[0]!.shape)],
});

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  if (shape.length === x.rank && shape.every((d, i) => d === x.shape[i])) return x;
  return apply1(reshapeOp, [x], { shape: [...shape] });
}

export const flatten = (x: Tensor, startAxis = 1): Tensor => reshape(x, [...x.shape.slice(0, startAxis), -1]);

/** Inserts a size-1 axis at `axis` (in [-rank-1, rank]). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis(axis, x.rank + 1);
  if (a === null) shapeError('unsqueeze', [x], `axis ${axis} out of range for rank ${x.rank} (expected ${-x.rank - 1}..${x.rank})`);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/** Removes axis `axis` (which must have size 1), or every size-1 axis when omitted. */
export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = normAxis(axis, x.rank);
  if (a === null) shapeError('squeeze', [x], `axis ${axis} out of range for rank ${x.rank}`);
  if (x.shape[a] !== 1) shapeError('squeeze', [x], `axis ${axis} has size ${x.shape[a]}, expected 1`);
  return reshape(x, x.shape.filter((_, i) => i !== a));
}

// ---------------------------------------------------------------------------------------------
// transpose

const transposeOp = defineOp<{ perm: number[] }>({
  name: 'transpose',
  infer(ins, { perm }) {
    const x = ins[0]!;
    if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
      fail(`perm ${fmtShape(perm)} is not a permutation of ${x.rank} axes`);
    }
    return [{ shape: perm.map((p) => x.shape[p]!), dtype: x.dtype }];
  },
  lower: (e, ins, outs, { perm }) => void e.node('Transpose', ins, outs, { perm: A.ints(perm) }),
  grad(_node, [g], { perm }) {
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return [g && transpose(g, inv)];
  },
});

export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  const norm = perm.map((p) => (p < 0 ? p + x.rank : p));
  if (norm.every((p, i) => p === i) && norm.length === x.rank) return x;
  return apply1(transposeOp, [x], { perm: norm });
}

/** Swaps two axes. */
export function swapAxes(x: Tensor, a: number, b: number): Tensor {
  const perm = x.shape.map((_, i) => i);
  const na = normAxis(a, x.rank);
  const nb = normAxis(b, x.rank);
  if (na === null || nb === null) shapeError('swap_axes', [x], `axes ${a} and ${b} must lie in ${-x.rank}..${x.rank - 1}`);
  perm[na] = nb;
  perm[nb] = na;
  return transpose(x, perm);
}

// ---------------------------------------------------------------------------------------------
// concat / split

const concatOp = defineOp<{ axis: number }>({
  name: 'concat',
  infer(ins, { axis }) {
    const first = ins[0]!;
    const a = normAxis(axis, first.rank);
    if (a === null) fail(`axis ${axis} out of range for rank ${first.rank}`);
    let total = 0;
    for (const t of ins) {
      if (t.dtype !== first.dtype) fail(`dtypes differ: ${first.dtype} vs ${t.dtype}`);
      if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
        fail(`shapes differ outside axis ${a}`);
      }
      total += t.shape[a]!;
    }
    const shape = [...first.shape];
    shape[a] = total;
    return [{ shape, dtype: first.dtype }];
  },
  lower: (e, ins, outs, { axis }, node) => void e.node('Concat', ins, outs, { axis: A.i(normAxis(axis, node.inputs[0]!.rank)!) }),
  grad(node, [g], { axis }) {
    if (!g) return node.inputs.map(() => null);
    const a = normAxis(axis, g.rank)!;
    return split(g, node.inputs.map((t) => t.shape[a]!), a);
  },
});

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) shapeError('concat', [], 'needs at least one tensor');
  if (xs.length === 1) {
    if (normAxis(axis, xs[0]!.rank) === null) shapeError('concat', xs, `axis ${axis} out of range for rank ${xs[0]!.rank}`);
    return xs[0]!;
  }
  return apply1(concatOp, xs, { axis });
}

const splitOp = defineOp<{ sizes: number[]; axis: number }>({
  name: 'split',
  infer(ins, { sizes, axis }) {
    const x = ins[0]!;
    const a = normAxis(axis, x.rank);
    if (a === null) fail(`axis ${axis} out of range for rank ${x.rank}`);
    if (sizes.some((v) => !Number.isInteger(v) || v < 1)) fail(`sizes ${fmtShape(sizes)} must be positive integers (axis ${a} has size ${x.shape[a]})`);
    if (sizes.reduce((s, v) => s + v, 0) !== x.shape[a]) fail(`sizes ${fmtShape(sizes)} do not sum to ${x.shape[a]}`);
    return sizes.map((s) => ({ shape: x.shape.map((d, i) => (i === a ? s : d)), dtype: x.dtype }));
  },
  lower: (e, ins, outs, { sizes, axis }, node) =>
    void e.node('Split', [ins[0]!, e.i64(sizes)], outs, { axis: A.i(normAxis(axis, node.inputs[0]!.rank)!) }),
  grad(node, gs, { axis }) {
    const parts = gs.map((g, i) => g ?? zerosLike(node.outputs[i]!));
    return [concat(parts, axis)];
  },
});

/** Splits along `axis` into pieces of the given sizes (or `n` equal pieces). */
export function split(x: Tensor, sizes: number | readonly number[], axis: number): Tensor[] {
  const a = normAxis(axis, x.rank) ?? axis;
  if (typeof sizes === 'number' && !(Number.isInteger(sizes) && sizes >= 1)) shapeError('split', [x], `the number of parts must be an integer >= 1; got ${sizes}`);
  const list = typeof sizes === 'number' ? new Array<number>(sizes).fill((x.shape[a] ?? 0) / sizes) : [...sizes];
  return applyOp(splitOp, [x], { sizes: list, axis });
}

// ---------------------------------------------------------------------------------------------
// slice

interface SliceAttrs {
  starts: number[];
  ends: number[];
  axes: number[];
  steps: number[];
}

function resolveSlice(x: Tensor, { starts, ends, axes, steps }: SliceAttrs) {
  const out = [...x.shape];
  const seen = new Set<number>();
  const norm = axes.map((ax, i) => {
    const a = normAxis(ax, x.rank);
    if (a === null) fail(`axis ${ax} out of range for rank ${x.rank}`);
    if (seen.has(a)) fail(`axis ${ax} is given twice in ${fmtShape(axes)}`);
    seen.add(a);
    const d = x.shape[a]!;
    const step = steps[i] ?? 1;
    if (!Number.isInteger(step) || step < 1) fail(`step ${step} must be a positive integer`);
    for (const v of [starts[i]!, ends[i]!]) if (!(Number.isInteger(v) || v === Infinity || v === -Infinity)) fail(`start/end ${v} must be an integer`);
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const s = clamp(starts[i]!);
    const e = clamp(ends[i]!);
    const len = Math.max(0, Math.ceil((e - s) / step));
    out[a] = len;
    return { axis: a, start: s, end: e, step, len };
  });
  return { out, norm };
}

const sliceOp = defineOp<SliceAttrs>({
  name: 'slice',
  infer(ins, attrs) {
    const x = ins[0]!;
    if (attrs.starts.length !== attrs.axes.length || attrs.ends.length !== attrs.axes.length) fail('starts/ends/axes lengths differ');
    return [{ shape: resolveSlice(x, attrs).out, dtype: x.dtype }];
  },
  lower(e, ins, outs, attrs, node) {
    const { norm } = resolveSlice(node.inputs[0]!, attrs);
    e.node('Slice', [ins[0]!, e.i64(norm.map((n) => n.start)), e.i64(norm.map((n) => n.end)), e.i64(norm.map((n) => n.axis)), e.i64(norm.map((n) => n.step))], outs);
  },
  grad(node, [g], attrs) {
    if (!g) return [null];
    const x = node.inputs[0]!;
    let cur = g;
    for (const { axis, start, step, len } of resolveSlice(x, attrs).norm) {
      if (step > 1) {
        // Interleave zeros: [.., len, ..] -> [.., len, step, ..] -> [.., len*step, ..]
        const withStep = unsqueeze(cur, axis + 1);
        const pads = new Array<number>(withStep.rank * 2).fill(0);
        pads[withStep.rank + axis + 1] = step - 1;
        const padded = pad(withStep, pads);
        const merged = [...cur.shape];
        merged[axis] = len * step;
        cur = reshape(padded, merged);
      }
      const before = start;
      const after = x.shape[axis]! - start - cur.shape[axis]!;
      const pads = new Array<number>(cur.rank * 2).fill(0);
      pads[axis] = before;
      if (after >= 0) pads[cur.rank + axis] = after;
      cur = pad(cur, pads);
      if (after < 0) cur = slice(cur, [0], [x.shape[axis]!], [axis]);
    }
    return [cur];
  },
});

/** Slices `x[starts:ends:steps]` along `axes` (default: the first axes). Negative indices count from the end. */
export function slice(x: Tensor, starts: readonly number[], ends: readonly number[], axes?: readonly number[], steps?: readonly number[]): Tensor {
  return apply1(sliceOp, [x], {
    starts: [...starts],
    ends: [...ends],
    axes: axes ? [...axes] : starts.map((_, i) => i),
    steps: steps ? [...steps] : starts.map(() => 1),
  });
}

/** Narrows one axis to [start, start + length). */
/** `length` elements from `start` (negative: from the end) along `axis`; unlike slice, nothing is clamped (as torch.narrow). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = normAxis(axis, x.rank);
  if (a === null) shapeError('narrow', [x], `axis ${axis} out of range for rank ${x.rank}`);
  const d = x.shape[a]!;
  const s = start < 0 ? start + d : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > d) shapeError('narrow', [x], `start ${start} and length ${length} do not fit in axis ${axis} of size ${d}`);
  return slice(x, [s], [s + length], [a]);
}

// ---------------------------------------------------------------------------------------------
// flip (reverse one axis; Slice with step -1)

const flipOp = defineOp<{ axis: number }>({
  name: 'flip',
  infer(ins, { axis }) {
    if (normAxis(axis, ins[0]!.rank) === null) fail(`axis ${axis} out of range for rank ${ins[0]!.rank}`);
    return [{ shape: ins[0]!.shape, dtype: ins[0]!.dtype }];
  },
  lower(e, ins, outs, { axis }, node) {
    const a = normAxis(axis, node.inputs[0]!.rank)!;
    e.node('Slice', [ins[0]!, e.i64([-1]), e.i64([-(2 ** 53)]), e.i64([a]), e.i64([-1])], outs);
  },
  grad: (_node, [g], { axis }) => [g && flip(g, axis)],
});

/** Reverses `x` along `axis`. */
export const flip = (x: Tensor, axis: number): Tensor => apply1(flipOp, [x], { axis });

// ---------------------------------------------------------------------------------------------
// pad

interface PadAttrs {
  /** ONNX order: [x1_begin, x2_begin, ..., x1_end, x2_end, ...], non-negative. */
  pads: number[];
  mode: 'constant' | 'reflect';
  value: number;
}

const padOp = defineOp<PadAttrs>({
  name: 'pad',
  infer(ins, { pads, mode, value }) {
    const x = ins[0]!;
    const r = x.rank;
    if (mode !== 'constant' && mode !== 'reflect') fail(`mode ${JSON.stringify(mode)} is not supported (expected 'constant' or 'reflect')`);
    if (typeof value !== 'number' || (x.dtype !== 'float32' && !Number.isInteger(value))) fail(`pad value must be a number${x.dtype === 'float32' ? '' : ` and an integer for ${x.dtype}`}; got ${String(value)}`);
    if (pads.length !== 2 * r) fail(`expected ${2 * r} pads, got ${pads.length}`);
    if (pads.some((p) => !Number.isInteger(p) || p < 0)) fail(`pads must be non-negative integers: ${fmtShape(pads)}`);
    if (mode === 'reflect') {
      for (let i = 0; i < r; i++) {
        if (pads[i]! >= x.shape[i]! || pads[r + i]! >= x.shape[i]!) fail(`reflect padding ${pads[i]}/${pads[r + i]} must be < dim ${x.shape[i]} on axis ${i}`);
      }
    }
    return [{ shape: x.shape.map((d, i) => d + pads[i]! + pads[r + i]!), dtype: x.dtype }];
  },
  lower(e, ins, outs, { pads, mode, value }, node) {
    const x = node.inputs[0]!;
    const v =
      x.dtype === 'float32'
        ? e.f32(value)
        : x.dtype === 'int64'
          ? e.initializer(BigInt64Array.of(BigInt(value)), [], 'int64')
          : x.dtype === 'int32'
            ? e.initializer(Int32Array.of(value), [], 'int32')
            : e.initializer(Uint8Array.of(value ? 1 : 0), [], 'bool');
    e.node('Pad', mode === 'constant' ? [ins[0]!, e.i64(pads), v] : [ins[0]!, e.i64(pads)], outs, { mode: A.s(mode) });
  },
  grad(node, [g], { pads, mode }) {
    if (!g) return [null];
    const x = node.inputs[0]!;
    const r = x.rank;
    if (mode === 'constant') return [slice(g, pads.slice(0, r), x.shape.map((d, i) => pads[i]! + d), x.shape.map((_, i) => i))];
    // reflect: fold the mirrored borders back onto the interior, one axis at a time.
    let cur = g;
    for (let a = 0; a < r; a++) {
      const b = pads[a]!;
      const n = x.shape[a]!;
      const af = pads[r + a]!;
      if (b === 0 && af === 0) continue;
      let center = narrow(cur, a, b, n);
      if (b > 0) {
        // padded[b - 1 - k] = x[k + 1]  =>  grad to x[1..b] from the reversed left border
        const left = flip(narrow(cur, a, 0, b), a);
        center = add(center, padAxis(left, a, 1, n - 1 - b));
      }
      if (af > 0) {
        // padded[b + n + k] = x[n - 2 - k]  =>  grad to x[n-1-af..n-2]
        const right = flip(narrow(cur, a, b + n, af), a);
        center = add(center, padAxis(right, a, n - 1 - af, 1));
      }
      cur = center;
    }
    return [cur];
  },
});

function padAxis(x: Tensor, axis: number, before: number, after: number): Tensor {
  const pads = new Array<number>(2 * x.rank).fill(0);
  pads[axis] = before;
  pads[x.rank + axis] = after;
  return pad(x, pads);
}

/** Pads with ONNX-order pads `[b1..bn, e1..en]`. */
export function pad(x: Tensor, pads: readonly number[], mode: 'constant' | 'reflect' = 'constant', value = 0): Tensor {
  if (pads.length === 2 * x.rank && pads.every((p) => p === 0)) return x;
  return apply1(padOp, [x], { pads: [...pads], mode, value });
}

/** Pads the last two axes (H, W) by [top, bottom, left, right] (PyTorch F.pad order is [l, r, t, b]). */
export function pad2d(x: Tensor, top: number, bottom: number, left: number, right: number, mode: 'constant' | 'reflect' = 'constant', value = 0): Tensor {
  if (x.rank < 2) shapeError('pad2d', [x], 'input must have rank >= 2 (pads the last two axes)');
  const pads = new Array<number>(2 * x.rank).fill(0);
  pads[x.rank - 2] = top;
  pads[x.rank - 1] = left;
  pads[2 * x.rank - 2] = bottom;
  pads[2 * x.rank - 1] = right;
  return pad(x, pads, mode, value);
}

// ---------------------------------------------------------------------------------------------
// expand / tile

const expandOp = defineOp<{ shape: number[] }>({
  name: 'expand',
  infer(ins, { shape }) {
    const x = ins[0]!;
    if (!isShape(shape)) fail(`cannot expand to ${fmtShape(shape)}: dimensions must be integers >= 0`);
    const out = broadcastShapes(x.shape, shape);
    if (!out || out.length !== shape.length || out.some((d, i) => d !== shape[i])) fail(`cannot expand to ${fmtShape(shape)}`);
    return [{ shape, dtype: x.dtype }];
  },
  lower: (e, ins, outs, { shape }) => void e.node('Expand', [ins[0]!, e.i64(shape)], outs),
  grad: (node, [g]) => [g && sumTo(g, node.inputs[0]!.shape)],
});

export function expand(x: Tensor, shape: readonly number[]): Tensor {
  if (shape.length === x.rank && shape.every((d, i) => d === x.shape[i])) return x;
  return apply1(expandOp, [x], { shape: [...shape] });
}

const tileOp = defineOp<{ reps: number[] }>({
  name: 'tile',
  infer(ins, { reps }) {
    const x = ins[0]!;
    if (reps.length !== x.rank || reps.some((r) => !Number.isInteger(r) || r < 1)) fail(`reps ${fmtShape(reps)} must be ${x.rank} positive integers`);
    return [{ shape: x.shape.map((d, i) => d * reps[i]!), dtype: x.dtype }];
  },
  lower: (e, ins, outs, { reps }) => void e.node('Tile', [ins[0]!, e.i64(reps)], outs),
  grad(node, [g], { reps }) {
    if (!g) return [null];
    const x = node.inputs[0]!;
    // [r0*d0, r1*d1, ...] -> [r0, d0, r1, d1, ...] -> sum over the r axes
    const split2 = x.shape.flatMap((d, i) => [reps[i]!, d]);
    return [reshape(reduceSum(reshape(g, split2), x.shape.map((_, i) => 2 * i)), x.shape)];
  },
});

export const tile = (x: Tensor, reps: readonly number[]): Tensor => apply1(tileOp, [x], { reps: [...reps] });

// ---------------------------------------------------------------------------------------------
// gather (take along one axis with an integer index tensor)

const gatherOp = defineOp<{ axis: number }>({
  name: 'gather',
  infer(ins, { axis }) {
    const [x, idx] = ins as [Tensor, Tensor];
    const a = normAxis(axis, x.rank);
    if (a === null) fail(`axis ${axis} out of range for rank ${x.rank}`);
    if (idx.dtype !== 'int64' && idx.dtype !== 'int32') fail(`indices must be int64/int32, got ${idx.dtype}`);
    if (idx.source.kind === 'const') {
      const d = x.shape[a]!;
      for (const v of Array.from(idx.source.data as ArrayLike<number | bigint>)) {
        const n = Number(v);
        if (n < -d || n >= d) fail(`index ${n} out of range for axis ${a} of size ${d}`);
      }
    }
    return [{ shape: [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)], dtype: x.dtype }];
  },
  lower: (e, ins, outs, { axis }, node) => void e.node('Gather', ins, outs, { axis: A.i(normAxis(axis, node.inputs[0]!.rank)!) }),
  grad(node, [g], { axis }) {
    if (!g) return [null, null];
    const [x, idx] = node.inputs as [Tensor, Tensor];
    const a = normAxis(axis, x.rank)!;
    // Move the gathered axis first: x' [n, rest], g' [k, rest], then scatter-add rows.
    const perm = [a, ...x.shape.map((_, i) => i).filter((i) => i !== a)];
    const xt = x.shape.map((_, i) => x.shape[perm[i]!]!);
    const k = idx.size;
    const rest = xt.slice(1);
    const gPerm = [...Array(idx.rank).keys()].map((i) => a + i);
    const gOther = [...Array(g.rank).keys()].filter((i) => i < a || i >= a + idx.rank);
    const gt = reshape(transpose(g, [...gPerm, ...gOther]), [k, ...rest]); // [k, rest]
    const idx64 = idx.dtype === 'int64' ? idx : castIdx(idx);
    // Negative indices count from the end; ScatterND needs them in [0, n).
    const rows = reshape(where(less(idx64, 0), add(idx64, xt[0]!), idx64), [k, 1]); // [k, 1]
    const scattered = apply1(scatterAddRowsOp, [gt, rows], { rows: xt[0]! }); // [n, rest]
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return [transpose(scattered, inv), null];
  },
});

function castIdx(t: Tensor): Tensor {
  return apply1(castI64Op, [t], {});
}
const castI64Op = defineOp<Record<string, never>>({
  name: 'cast_index',
  infer: (ins) => [{ shape: ins[0]!.shape, dtype: 'int64' }],
  lower: (e, ins, outs) => void e.node('Cast', ins, outs, { to: A.i(7) }),
});

/** out = zeros([rows, ...rest]); out[idx[i]] += updates[i] (ScatterND with reduction add). */
const scatterAddRowsOp = defineOp<{ rows: number }>({
  name: 'scatter_add_rows',
  infer: (ins, { rows }) => [{ shape: [rows, ...ins[0]!.shape.slice(1)], dtype: ins[0]!.dtype }],
  lower(e, ins, outs, { rows }, node) {
    const shape = [rows, ...node.inputs[0]!.shape.slice(1)];
    const zeros = e.op('ConstantOfShape', [e.i64(shape)], { value: { t: { data: new Float32Array(1), shape: [1], dtype: 'float32' } } });
    e.node('ScatterND', [zeros, ins[1]!, ins[0]!], outs, { reduction: A.s('add') });
  },
  grad: (node, [g]) => [g && gather(g, reshape(node.inputs[1]!, [node.inputs[1]!.shape[0]!]), 0), null],
});

/** Takes entries along `axis` at integer `indices` (any shape). */
export const gather = (x: Tensor, indices: Tensor, axis = 0): Tensor => apply1(gatherOp, [x, indices], { axis });

/** An int64 constant tensor. */
export function constantI64(values: readonly number[], shape: readonly number[] = [values.length]): Tensor {
  return Graph.current().constant(BigInt64Array.from(values.map((v) => BigInt(v))), shape, 'int64');
}

/** A float32 constant tensor. */
export function constantF32(values: ArrayLike<number>, shape: readonly number[]): Tensor {
  return Graph.current().constant(Float32Array.from(values), shape, 'float32');
}

export function zerosLike(t: Tensor): Tensor {
  return expand(t.graph.scalar(0, t.dtype), t.shape);
}

export function zeros(shape: readonly number[]): Tensor {
  return expand(Graph.current().scalar(0), shape);
}

export function ones(shape: readonly number[]): Tensor {
  return expand(Graph.current().scalar(1), shape);
}

// ---------------------------------------------------------------------------------------------
// roll (cyclic shift, as torch.roll)

/** Cyclically shifts `x` by `shifts[i]` along `axes[i]` (positive = towards higher indices). */
export function roll(x: Tensor, shifts: readonly number[], axes: readonly number[]): Tensor {
  if (shifts.length !== axes.length) shapeError('roll', [x], `${shifts.length} shifts for ${axes.length} axes`);
  let cur = x;
  shifts.forEach((s, i) => {
    const a = normAxis(axes[i]!, x.rank);
    if (a === null) shapeError('roll', [x], `axis ${axes[i]} out of range for rank ${x.rank}`);
    if (!Number.isInteger(s)) shapeError('roll', [x], `shift ${s} must be an integer`);
    const n = x.shape[a]!;
    const k = ((s % n) + n) % n;
    if (k === 0) return;
    // roll by k: [x[n-k:], x[:n-k]]
    cur = concat([narrow(cur, a, n - k, k), narrow(cur, a, 0, n - k)], a);
  });
  return cur;
}
