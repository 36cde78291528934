/**
 * FLOP counting on a traced graph, as the papers count them: one multiply-add = one FLOP, counting
 * convolutions, transposed convolutions and matrix multiplies (linear layers and attention
 * products). Elementwise ops, norms and softmax are not counted (they are < 1% for these models).
 */
import type { Graph, Node } from '../graph/graph.js';

const prod = (xs: readonly number[]) => xs.reduce((p, d) => p * d, 1);

/** Multiply-adds of one node. */
export function nodeFlops(node: Node): number {
  const out = node.outputs[0];
  if (!out) return 0;
  switch (node.op.name) {
    case 'matmul': {
      const a = node.inputs[0]!;
      return prod(out.shape) * a.shape[a.rank - 1]!;
    }
    case 'conv': {
      const w = node.inputs[1]!;
      return prod(out.shape) * prod(w.shape.slice(1));
    }
    case 'conv_transpose': {
      const x = node.inputs[0]!;
      const w = node.inputs[1]!;
      return prod(x.shape) * prod(w.shape.slice(1));
    }
    default:
      return 0;
  }
}

/** Total multiply-adds of all nodes of the graph. */
export function countFlops(graph: Graph): number {
  return graph.nodes.reduce((s, n) => s + nodeFlops(n), 0);
}

/** Multiply-adds per module path (each node counted for its scope and every ancestor scope). */
export function flopsByScope(graph: Graph): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of graph.nodes) {
    const f = nodeFlops(n);
    if (!f) continue;
    const parts = n.scope ? n.scope.split('.') : [];
    out.set('', (out.get('') ?? 0) + f);
    for (let i = 1; i <= parts.length; i++) {
      const key = parts.slice(0, i).join('.');
      out.set(key, (out.get(key) ?? 0) + f);
    }
  }
  return out;
}
