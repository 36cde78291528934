/**
 * Reverse-mode automatic differentiation over a traced graph.
 *
 * `grad(loss, wrt)` walks the graph backwards from a scalar loss, calls each op's gradient rule,
 * and accumulates gradients with `add`. The gradient nodes are appended to the same graph, so the
 * forward and backward passes compile to one ONNX model of standard ops.
 */
import { Tensor, type Node } from '../graph/graph.js';
import { add } from '../graph/ops/elementwise.js';
import { expand } from '../graph/ops/shape_ops.js';
import { ArgumentError, AttnvisionError } from '../util/errors.js';
import { sameShape, fmtShape } from '../graph/shape.js';

export interface GradOptions {
  /** Seed gradient for a non-scalar output (default: ones, i.e. d(sum(out))). */
  seed?: Tensor;
  /** Return null instead of throwing for `wrt` tensors the output does not depend on. */
  allowUnused?: boolean;
}

/** Gradients of `output` (summed if not scalar) with respect to each tensor of `wrt`. */
export function grad(output: Tensor, wrt: readonly Tensor[], opts: GradOptions = {}): (Tensor | null)[] {
  if (!(output instanceof Tensor)) throw new ArgumentError(`grad: expected a Tensor as the output but received ${output === null ? 'null' : typeof output}`);
  if (!Array.isArray(wrt)) throw new ArgumentError('grad: expected an array of tensors to differentiate with respect to (wrt)');
  const g = output.graph;
  wrt.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new ArgumentError(`grad: wrt[${i}] is not a Tensor (${t === null ? 'null' : typeof t})`);
    if (t.graph !== g) throw new ArgumentError(`grad: wrt[${i}] ${fmtShape(t.shape)} belongs to a different graph than the output`);
  });
  if (output.dtype !== 'float32') throw new ArgumentError(`grad: the output is ${output.dtype}; only a float32 output has gradients`);
  if (opts.seed !== undefined && (!(opts.seed instanceof Tensor) || !sameShape(opts.seed.shape, output.shape) || opts.seed.dtype !== 'float32')) {
    throw new ArgumentError(`grad: the seed must be a float32 tensor of the output's shape ${fmtShape(output.shape)}`);
  }
  // Which nodes lie between wrt and output? Only those need gradients.
  const wrtIds = new Set(wrt.map((t) => t.id));
  const nodes = g.nodes.slice(0, output.source.kind === 'node' ? output.source.node.index + 1 : 0);
  const dependsOnWrt = new Uint8Array(g.nodes.length);
  const tensorNeeds = (t: Tensor) => wrtIds.has(t.id) || (t.source.kind === 'node' && dependsOnWrt[t.source.node.index] === 1);
  for (const n of nodes) if (n.inputs.some(tensorNeeds)) dependsOnWrt[n.index] = 1;

  const grads = new Map<number, Tensor>();
  const accumulate = (t: Tensor, gt: Tensor) => {
    if (!sameShape(t.shape, gt.shape)) {
      throw new AttnvisionError(`gradient shape ${fmtShape(gt.shape)} does not match tensor ${fmtShape(t.shape)}`);
    }
    const prev = grads.get(t.id);
    grads.set(t.id, prev ? add(prev, gt) : gt);
  };
  return g.withScope('grad', () => {
    accumulate(output, opts.seed ?? expand(g.scalar(1), output.shape));
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node: Node = nodes[i]!;
      if (!dependsOnWrt[node.index]) continue;
      const outGrads = node.outputs.map((t) => grads.get(t.id) ?? null);
      if (outGrads.every((x) => x === null)) continue;
      if (!node.op.grad) {
        if (node.outputs.some((t) => t.dtype === 'float32') && node.inputs.some((t) => t.dtype === 'float32' && tensorNeeds(t))) {
          throw new AttnvisionError(`${node.scope ? node.scope + ': ' : ''}op ${node.op.name} has no gradient`);
        }
        continue;
      }
      const inGrads = g.withScope(`grad/${node.scope}`, () => node.op.grad!(node, outGrads, node.attrs as never));
      node.inputs.forEach((t, k) => {
        const gt = inGrads[k];
        if (gt && tensorNeeds(t) && t.dtype === 'float32') accumulate(t, gt);
      });
    }
    return wrt.map((t) => {
      const gt = grads.get(t.id);
      if (!gt && !opts.allowUnused) throw new AttnvisionError(`tensor ${t.name ?? t.toString()} does not influence the output`);
      return gt ?? null;
    });
  });
}

/** The output together with its gradients. */
export function valueAndGrad(output: Tensor, wrt: readonly Tensor[], opts: GradOptions = {}): { value: Tensor; grads: (Tensor | null)[] } {
  return { value: output, grads: grad(output, wrt, opts) };
}

/** Vector-Jacobian product helper: d(sum(output * seed))/d(wrt). */
export function vjp(output: Tensor, seed: Tensor, wrt: readonly Tensor[]): (Tensor | null)[] {
  return grad(output, wrt, { seed, allowUnused: true });
}

