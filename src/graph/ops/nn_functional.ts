/**
 * Neural-network functions over the primitive ops: softmax / log-softmax, layer norm, batch norm,
 * group norm, dropout and drop-path, one-hot, cross-entropy with label smoothing, BCE with logits,
 * linear.
 */
import { defineOp, applyOp, apply1, fail } from '../op.js';
import { invalidArg } from '../../util/errors.js';
import type { Tensor } from '../graph.js';
import { A } from '../emitter.js';
import { fmtShape, normAxis } from '../shape.js';
import { add, cast, div, equal, exp, greaterEqual, mul, neg, rsqrt, softplus, sub, where } from './elementwise.js';
import { reduceMean, reduceSum } from './reduce.js';
import { constantI64, expand, reshape, transpose, unsqueeze } from './shape_ops.js';
import { matmul } from './matmul.js';
import { randomUniform } from './random.js';
import { shapeError, sumTo } from './common.js';

// ---------------------------------------------------------------------------------------------
// softmax / log-softmax

function axisInfer(ins: readonly Tensor[], { axis }: { axis: number }) {
  const x = ins[0]!;
  if (x.dtype !== 'float32') fail(`expected float32, got ${x.dtype}`);
  if (normAxis(axis, x.rank) === null) fail(`axis ${axis} out of range for rank ${x.rank}`);
  return [{ shape: x.shape, dtype: x.dtype }];
}

const softmaxOp = defineOp<{ axis: number }>({
  name: 'softmax',
  infer: axisInfer,
  lower: (e, ins, outs, { axis }) => void e.node('Softmax', ins, outs, { axis: A.i(axis) }),
  grad(node, [g], { axis }) {
    if (!g) return [null];
    const y = node.outputs[0]!;
    // dx = y * (g - sum(g * y))
    return [mul(y, sub(g, reduceSum(mul(g, y), axis, true)))];
  },
});

const logSoftmaxOp = defineOp<{ axis: number }>({
  name: 'log_softmax',
  infer: axisInfer,
  lower: (e, ins, outs, { axis }) => void e.node('LogSoftmax', ins, outs, { axis: A.i(axis) }),
  grad(node, [g], { axis }) {
    if (!g) return [null];
    // dx = g - softmax(x) * sum(g)
    return [sub(g, mul(exp(node.outputs[0]!), reduceSum(g, axis, true)))];
  },
});

export const softmax = (x: Tensor, axis = -1): Tensor => apply1(softmaxOp, [x], { axis });
export const logSoftmax = (x: Tensor, axis = -1): Tensor => apply1(logSoftmaxOp, [x], { axis });

// ---------------------------------------------------------------------------------------------
// layer norm over the trailing dims (ONNX LayerNormalization, opset 17)

const layerNormOp = defineOp<{ axis: number; eps: number }>({
  name: 'layer_norm',
  infer(ins, { axis }) {
    const [x, w, b] = ins as [Tensor, Tensor, Tensor];
    if (x.dtype !== 'float32') fail(`expected float32, got ${x.dtype}`);
    const a = normAxis(axis, x.rank);
    if (a === null) fail(`axis ${axis} out of range for rank ${x.rank}`);
    const norm = x.shape.slice(a);
    const same = (t: Tensor) => t.rank === norm.length && t.shape.every((d, i) => d === norm[i]);
    if (!same(w) || !same(b)) fail(`weight/bias must have shape ${fmtShape(norm)}`);
    const stat = x.shape.map((d, i) => (i < a ? d : 1));
    return [
      { shape: x.shape, dtype: 'float32' },
      { shape: stat, dtype: 'float32' },
      { shape: stat, dtype: 'float32' },
    ];
  },
  lower: (e, ins, outs, { axis, eps }) => void e.node('LayerNormalization', ins, outs, { axis: A.i(axis), epsilon: A.f(eps) }),
  grad(node, [g], { axis }) {
    if (!g) return [null, null, null];
    const [x, w] = node.inputs as [Tensor, Tensor];
    const [, mean, rstd] = node.outputs as [Tensor, Tensor, Tensor];
    const a = normAxis(axis, x.rank)!;
    const normAxes = x.shape.map((_, i) => i).filter((i) => i >= a);
    const xhat = mul(sub(x, mean), rstd);
    const gxhat = mul(g, w);
    // dx = rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat))
    const gx = mul(rstd, sub(sub(gxhat, reduceMean(gxhat, normAxes, true)), mul(xhat, reduceMean(mul(gxhat, xhat), normAxes, true))));
    return [gx, sumTo(mul(g, xhat), w.shape), sumTo(g, w.shape)];
  },
});

/** A normalisation's epsilon: finite and >= 0 (NaN would make every output NaN). */
function checkEps(op: string, x: Tensor, eps: number): void {
  if (!(Number.isFinite(eps) && eps >= 0)) shapeError(op, [x], `eps must be a finite number >= 0; got ${eps}`);
}

/** LayerNorm over the last `weight.rank` dims. */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  checkEps('layer_norm', x, eps);
  return applyOp(layerNormOp, [x, weight, bias], { axis: x.rank - weight.rank, eps })[0]!;
}

// ---------------------------------------------------------------------------------------------
// batch norm (composite; train and eval)

export interface BatchNormResult {
  y: Tensor;
  /** Updated running mean / var (train mode only). */
  runningMean?: Tensor;
  runningVar?: Tensor;
}

/**
 * Batch norm over channel axis 1 of [N, C, *S]. In training, normalises with batch statistics
 * (biased variance) and returns running statistics updated with the unbiased variance and
 * `momentum` (PyTorch convention: new = (1 - m) * old + m * batch).
 */
export function batchNorm(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  runningMean: Tensor,
  runningVar: Tensor,
  opts: { training: boolean; momentum?: number; eps?: number },
): BatchNormResult {
  const eps = opts.eps ?? 1e-5;
  checkEps('batch_norm', x, eps);
  if (opts.momentum !== undefined && !(opts.momentum >= 0 && opts.momentum <= 1)) shapeError('batch_norm', [x], `momentum must be in [0, 1]; got ${opts.momentum}`);
  const C = x.shape[1]!;
  const params = [weight, bias, runningMean, runningVar].filter((t): t is Tensor => t !== null);
  if (x.rank < 2) shapeError('batch_norm', [x, ...params], 'input must be [N, C, *spatial]');
  if (params.some((t) => t.rank !== 1 || t.shape[0] !== C)) shapeError('batch_norm', [x, ...params], `weight, bias and running statistics must have shape [${C}]`);
  const bshape = x.shape.map((_, i) => (i === 1 ? C : 1)); // [1, C, 1, ...]
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const affine = (xhat: Tensor) => {
    let y = xhat;
    if (weight) y = mul(y, reshape(weight, bshape));
    if (bias) y = add(y, reshape(bias, bshape));
    return y;
  };
  if (!opts.training) {
    const scale = rsqrt(add(reshape(runningVar, bshape), eps));
    return { y: affine(mul(sub(x, reshape(runningMean, bshape)), scale)) };
  }
  const count = axes.reduce((p, a) => p * x.shape[a]!, 1);
  // One op normalises with batch statistics and has a closed-form gradient (far fewer full-size
  // elementwise ops in the backward pass than differentiating the composition).
  const [xhat, mean, varBiased] = applyOp(batchNormalizeOp, [x], { eps }) as [Tensor, Tensor, Tensor]; // mean/var [1, C, 1, ...]
  const y = affine(xhat);
  const m = opts.momentum ?? 0.1;
  const unbiased = mul(reshape(varBiased, [C]), count / Math.max(1, count - 1));
  return {
    y,
    runningMean: add(mul(runningMean, 1 - m), mul(reshape(mean, [C]), m)),
    runningVar: add(mul(runningVar, 1 - m), mul(unbiased, m)),
  };
}

/**
 * xhat = (x - mean) / sqrt(var + eps) with batch statistics over every axis but 1; outputs
 * [xhat, mean, biased var] (statistics shaped [1, C, 1, ...]). Gradient (Ioffe & Szegedy 2015):
 * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)).
 */
const batchNormalizeOp = defineOp<{ eps: number }>({
  name: 'batch_normalize',
  infer(ins) {
    const x = ins[0]!;
    if (x.dtype !== 'float32') fail(`expected float32, got ${x.dtype}`);
    if (x.rank < 2) fail('input must be [N, C, *spatial]');
    const stat = x.shape.map((d, i) => (i === 1 ? d : 1));
    return [
      { shape: x.shape, dtype: 'float32' },
      { shape: stat, dtype: 'float32' },
      { shape: stat, dtype: 'float32' },
    ];
  },
  lower(e, ins, outs, { eps }, node) {
    const axes = node.inputs[0]!.shape.map((_, i) => i).filter((i) => i !== 1);
    const attrs = { axes: A.ints(axes), keepdims: A.i(1) };
    e.node('ReduceMean', [ins[0]!], [outs[1]!], attrs);
    const xc = e.op('Sub', [ins[0]!, outs[1]!]);
    e.node('ReduceMean', [e.op('Mul', [xc, xc])], [outs[2]!], attrs);
    const rstd = e.op('Reciprocal', [e.op('Sqrt', [e.op('Add', [outs[2]!, e.f32(eps)])])]);
    e.node('Mul', [xc, rstd], [outs[0]!]);
  },
  grad(node, [g, gMean, gVar], { eps }) {
    const x = node.inputs[0]!;
    const [xhat, mean, v] = node.outputs as [Tensor, Tensor, Tensor];
    const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const count = axes.reduce((p, a) => p * x.shape[a]!, 1);
    let dx: Tensor | null = null;
    if (g) {
      const rstd = rsqrt(add(v, eps)); // [1, C, 1, ...]
      dx = mul(rstd, sub(sub(g, reduceMean(g, axes, true)), mul(xhat, reduceMean(mul(g, xhat), axes, true))));
    }
    // The statistics themselves (used for running averages): d mean = 1/n, d var = 2 (x - mean) / n.
    if (gMean) {
      const t = expand(div(gMean, count), x.shape);
      dx = dx ? add(dx, t) : t;
    }
    if (gVar) {
      const t = mul(sub(x, mean), div(mul(gVar, 2), count));
      dx = dx ? add(dx, t) : t;
    }
    return [dx];
  },
});

/** GroupNorm over [N, C, *S] with `groups` groups and per-channel affine. */
export function groupNorm(x: Tensor, groups: number, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  const [N, C] = [x.shape[0]!, x.shape[1]!];
  if (x.rank < 2) shapeError('group_norm', [x], 'input must be [N, C, ...]');
  checkEps('group_norm', x, eps);
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0) shapeError('group_norm', [x], `${C} channels are not divisible into ${groups} groups`);
  if ([weight, bias].some((t) => t.rank !== 1 || t.shape[0] !== C)) shapeError('group_norm', [x, weight, bias], `weight and bias must have shape [${C}]`);
  const sp = x.shape.slice(2);
  const xg = reshape(x, [N, groups, -1]); // [N, G, C/G * S]
  const mean = reduceMean(xg, 2, true);
  const centered = sub(xg, mean);
  const v = reduceMean(mul(centered, centered), 2, true);
  const normed = reshape(mul(centered, rsqrt(add(v, eps))), [N, C, ...sp]);
  const bshape = [1, C, ...sp.map(() => 1)];
  return add(mul(normed, reshape(weight, bshape)), reshape(bias, bshape));
}

// ---------------------------------------------------------------------------------------------
// dropout / drop path

/** Inverted dropout: zeroes with probability p and scales by 1/(1-p) in training. */
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  if (!(p >= 0 && p < 1)) invalidArg('dropout', 'p', 'a probability in [0, 1)', p);
  if (!training || p === 0) return x;
  const keep = greaterEqual(randomUniform(x.shape), p);
  return where(keep, div(x, 1 - p), 0);
}

/** Stochastic depth: drops whole samples (axis 0) of a residual branch with probability p. */
export function dropPath(x: Tensor, p: number, training: boolean): Tensor {
  if (!(p >= 0 && p < 1)) invalidArg('drop_path', 'p', 'a probability in [0, 1)', p);
  if (!training || p === 0) return x;
  const maskShape = x.shape.map((d, i) => (i === 0 ? d : 1));
  const keep = greaterEqual(randomUniform(maskShape), p);
  return where(keep, div(x, 1 - p), 0);
}

// ---------------------------------------------------------------------------------------------
// classification losses

/** One-hot float encoding of int64 labels [...] -> [..., numClasses]. */
export function oneHot(labels: Tensor, numClasses: number): Tensor {
  if (labels.dtype !== 'int64' && labels.dtype !== 'int32') shapeError('one_hot', [labels], `labels must be int64/int32, got ${labels.dtype}`);
  labels.graph.requireIndices(labels, numClasses, 'one_hot');
  const classes = constantI64([...Array(numClasses).keys()]);
  return cast(equal(unsqueeze(cast(labels, 'int64'), -1), classes), 'float32');
}

/**
 * Mean cross-entropy of logits [B, C] against int64 labels [B] or soft targets [B, C], with
 * label smoothing eps: target = (1 - eps) * onehot + eps / C (PyTorch convention).
 */
export function crossEntropy(logits: Tensor, target: Tensor, labelSmoothing = 0): Tensor {
  const C = logits.shape[logits.rank - 1]!;
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) shapeError('cross_entropy', [logits, target], `label smoothing must be in [0, 1]; got ${labelSmoothing}`);
  if (target.dtype !== 'float32') target.graph.requireIndices(target, C, 'cross_entropy');
  const probs = target.dtype === 'float32' ? target : oneHot(target, C);
  if (probs.rank !== logits.rank || probs.shape.some((d, i) => d !== logits.shape[i])) {
    shapeError('cross_entropy', [logits, target], `target must be int labels ${fmtShape(logits.shape.slice(0, -1))} or probabilities ${fmtShape(logits.shape)}`);
  }
  const smoothed = labelSmoothing > 0 ? add(mul(probs, 1 - labelSmoothing), labelSmoothing / C) : probs;
  const logp = logSoftmax(logits, -1);
  return neg(reduceMean(reduceSum(mul(smoothed, logp), -1)));
}

/** Mean binary cross-entropy with logits: max(x,0) - x*t + log(1 + exp(-|x|)). Optional per-element weights. */
export function bceWithLogits(logits: Tensor, targets: Tensor, weights?: Tensor): Tensor {
  if (targets.rank !== logits.rank || targets.shape.some((d, i) => d !== logits.shape[i])) {
    shapeError('bce_with_logits', [logits, targets], 'targets must have the shape of the logits');
  }
  const per = sub(softplus(logits), mul(logits, targets));
  return reduceMean(weights ? mul(per, weights) : per);
}

/** y = x W^T + b with W [out, in] (PyTorch layout). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const y = matmul(x, transpose(weight, [1, 0])); // [..., in] x [in, out]
  return bias ? add(y, bias) : y;
}
