/**
 * Local footprint helpers of SAN (Zhao, Jia, Koltun 2020, "Exploring Self-attention for Image
 * Recognition", https://arxiv.org/abs/2004.13621): reflection padding, the k x k neighbours of every
 * position, and the weighted aggregation of eq. 1/4
 *
 *   y_i = sum_{j in R(i)} alpha(x)_{i,j} (.) beta(x_j)
 *
 * where the weight vector alpha has C / share channels and weight channel c % (C / share) scales
 * feature channel c (the sharing of the official CUDA kernel, hszhao/SAN `aggregation_refpad`).
 *
 * The official code uses custom CUDA kernels ("subtraction", "aggregation") that never materialise
 * the neighbours. Here they are standard ops:
 *   - neighbours: ONE Gather over the flattened map with a constant index that folds in reflection
 *     padding (the reflection repeats periodically when the footprint is wider than the map;
 *     identical to PyTorch's ReflectionPad2d whenever pad < size, which PyTorch requires; a 1-pixel
 *     map is replicated). Its gradient is one ScatterND-add. (Shifted slices of a padded map, or a
 *     depthwise conv with one-hot kernels, do the same with k*k nodes, or with k*k-fold counted FLOPs.)
 *   - aggregation (memory-aware): one footprint ROW at a time. For row kh the k neighbours of
 *     beta(x) are gathered ([B, C, k, H, W]), multiplied with the k matching weights and summed, and
 *     added to the running output. The full unfolded [B, C, k*k, H, W] tensor is never built in the
 *     forward pass: the peak extra memory is one row, B*C*k*H*W floats (k times less than unfold),
 *     plus the padded input and the accumulator. Caveat: in a training graph the autodiff keeps each
 *     row's stacked slices for the weight gradient, so training still stores k*k*B*C*H*W floats per
 *     block (the CUDA kernel recomputes them instead); only inference gets the k-fold saving.
 *
 * FLOPs: the aggregation is elementwise, which `countFlops` does not see; `aggregationMacs` gives its
 * multiply-adds (B*C*H*W*k*k, as the paper's counter `util/complexity.py` counts it).
 */
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { invalidArg } from '../util/errors.js';

/** Source index of padded position q (0 <= q < n + 2p) under periodic reflection. */
export function reflectIndex(q: number, n: number, p: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let i = (((q - p) % period) + period) % period;
  if (i >= n) i = period - i;
  return i;
}

/**
 * Flat source indices of the footprint rows [rowStart, rowEnd) of every position of an H x W map:
 * idx[(jh - rowStart) * k + jw][h * W + w] = reflect(h + jh - p) * W + reflect(w + jw - p), p = k // 2.
 * Reflection padding is folded into the index, so one Gather gathers a whole footprint (row).
 */
export function footprintIndex(H: number, W: number, k: number, rowStart = 0, rowEnd = k): number[] {
  const p = Math.floor(k / 2);
  const out: number[] = [];
  for (let jh = rowStart; jh < rowEnd; jh++) {
    for (let jw = 0; jw < k; jw++) {
      for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) out.push(reflectIndex(h + jh, H, p) * W + reflectIndex(w + jw, W, p));
    }
  }
  return out;
}

/** Gathers footprint rows [r0, r1): [B, C, H, W] -> [B, C, (r1 - r0) * k, H, W]. */
function gatherRows(x: Tensor, k: number, r0: number, r1: number): Tensor {
  const [B, C, H, W] = x.shape as [number, number, number, number];
  const n = (r1 - r0) * k;
  const idx = F.constantI64(footprintIndex(H, W, k, r0, r1), [n, H * W]);
  return F.reshape(F.gather(F.reshape(x, [B, C, H * W]), idx, 2), [B, C, n, H, W]); // [B, C, n, H, W]
}

/** All k*k neighbours of every position (reflection padded): [B, C, H, W] -> [B, C, k*k, H, W], row-major footprint. */
export function neighbours(x: Tensor, k: number): Tensor {
  return gatherRows(x, k, 0, k);
}

/**
 * y[b, c, h, w] = sum_j w[b, c % Cw, j, h, w] * x_reflectpad[b, c, h + jh, w + jw] over the k*k
 * footprint j = (jh, jw). x: [B, C, H, W], w: [B, Cw, k*k, H, W] with C % Cw == 0.
 */
export function aggregate(x: Tensor, w: Tensor, k: number): Tensor {
  const [B, C, H, W] = x.shape as [number, number, number, number];
  const Cw = w.shape[1]!;
  if (C % Cw || w.shape[2] !== k * k || w.shape[3] !== H || w.shape[4] !== W) {
    invalidArg('aggregate', 'weight shape', `[${B}, a divisor of ${C}, ${k * k}, ${H}, ${W}]`, `[${w.shape.join(', ')}]`);
  }
  const s = C / Cw;
  let acc: Tensor | null = null;
  for (let kh = 0; kh < k; kh++) {
    const xr = F.reshape(gatherRows(x, k, kh, kh + 1), [B, s, Cw, k, H, W]); // [B, s, Cw, k, H, W]
    const wr = F.unsqueeze(F.slice(w, [kh * k], [(kh + 1) * k], [2]), 1); // [B, 1, Cw, k, H, W]
    const part = F.reduceSum(F.mul(xr, wr), 3); // [B, s, Cw, H, W]
    acc = acc ? F.add(acc, part) : part;
  }
  return F.reshape(acc!, [B, C, H, W]); // [B, C, H, W]
}

/** Multiply-adds of `aggregate` on x [B, C, H, W] with a k x k footprint. */
export const aggregationMacs = (shape: readonly number[], k: number): number => shape.reduce((p, d) => p * d, 1) * k * k;
