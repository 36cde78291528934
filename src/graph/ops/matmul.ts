/**
 * Batched matrix multiply with numpy batch broadcasting: [..., n, k] x [..., k, m] -> [..., n, m].
 */
import { defineOp, apply1, fail } from '../op.js';
import type { Tensor } from '../graph.js';
import { broadcastShapes, fmtShape } from '../shape.js';
import { sumTo } from './common.js';
import { reshape, swapAxes } from './shape_ops.js';

const matmulOp = defineOp<Record<string, never>>({
  name: 'matmul',
  infer(ins) {
    const [a, b] = ins as [Tensor, Tensor];
    if (a.dtype !== 'float32' || b.dtype !== 'float32') fail(`expected float32 operands, got ${a.dtype} and ${b.dtype}`);
    if (a.rank < 2 || b.rank < 2) fail('operands must have rank >= 2 (reshape vectors to [1, k] or [k, 1])');
    const k1 = a.shape[a.rank - 1]!;
    const k2 = b.shape[b.rank - 2]!;
    if (k1 !== k2) fail(`inner dims ${k1} != ${k2}`);
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    if (!batch) fail(`batch dims ${fmtShape(a.shape.slice(0, -2))} and ${fmtShape(b.shape.slice(0, -2))} do not broadcast`);
    return [{ shape: [...batch, a.shape[a.rank - 2]!, b.shape[b.rank - 1]!], dtype: 'float32' }];
  },
  lower: (e, ins, outs) => void e.node('MatMul', ins, outs),
  grad(node, [g]) {
    if (!g) return [null, null];
    const [a, b] = node.inputs as [Tensor, Tensor];
    const ga = sumTo(matmul(g, swapAxes(b, -1, -2)), a.shape);
    if (b.rank === 2 && a.rank > 2) {
      // Shared weight (linear layers): one GEMM over all rows, [k, rows] x [rows, m], instead of a
      // batched matmul followed by a reduction over the batch.
      const k = a.shape[a.rank - 1]!;
      const m = g.shape[g.rank - 1]!;
      return [ga, matmul(swapAxes(reshape(a, [-1, k]), 0, 1), reshape(g, [-1, m]))];
    }
    return [ga, sumTo(matmul(swapAxes(a, -1, -2), g), b.shape)];
  },
});

export const matmul = (a: Tensor, b: Tensor): Tensor => apply1(matmulOp, [a, b], {});
