/**
 * Gradient clipping by global L2 norm (torch.nn.utils.clip_grad_norm_), as graph code on the flat gradient.
 */
import type { Tensor } from '../graph/graph.js';
import { add, div, minimum, mul, sqrt } from '../graph/ops/elementwise.js';
import { reduceSum } from '../graph/ops/reduce.js';
import { invalidArg } from '../util/errors.js';

/** Returns the clipped gradient and the pre-clipping norm. */
export function clipByGlobalNorm(g: Tensor, maxNorm: number): { g: Tensor; norm: Tensor } {
  // A norm <= 0 would flip (negative) or zero every update: Infinity means no clipping.
  if (!(maxNorm > 0)) invalidArg('clipByGlobalNorm', 'maxNorm', 'a number > 0 (Infinity: no clipping)', maxNorm);
  const norm = sqrt(reduceSum(mul(g, g)));
  if (!Number.isFinite(maxNorm)) return { g, norm };
  const scale = minimum(div(maxNorm, add(norm, 1e-6)), 1);
  return { g: mul(g, scale), norm };
}
