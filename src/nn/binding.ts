/**
 * Bindings that supply parameter/buffer tensors while tracing:
 * - FlatBinding: slices of the flat `params` / `buffers` graph inputs (training and in-memory inference);
 * - ConstantBinding: parameters as constants (export: weights become ONNX initializers).
 */
import type { Graph, Tensor } from '../graph/graph.js';
import { reshape, slice } from '../graph/ops/shape_ops.js';
import { AttnvisionError } from '../util/errors.js';
import type { Binding, Parameter, Buffer } from './module.js';
import type { ModelState } from './state.js';

/** Names of FlatBinding's graph inputs: the flat parameter and buffer vectors. */
export const FLAT_INPUTS = { params: 'params', buffers: 'buffers' } as const;

export class FlatBinding implements Binding {
  private paramsInput: Tensor | null = null;
  private buffersInput: Tensor | null = null;
  /** Parameter tensors in the order they were first used. */
  readonly paramTensors = new Map<Parameter, Tensor>();
  private readonly bufferTensors = new Map<Buffer, Tensor>();
  /** New values of buffers written in training mode. */
  readonly bufferUpdates = new Map<Buffer, Tensor>();

  constructor(
    readonly graph: Graph,
    readonly state: ModelState,
  ) {}

  /** The flat parameter input [P] (declared on first use). */
  get params(): Tensor {
    return (this.paramsInput ??= this.graph.input(FLAT_INPUTS.params, [this.state.params.length], 'float32'));
  }

  get buffers(): Tensor {
    return (this.buffersInput ??= this.graph.input(FLAT_INPUTS.buffers, [Math.max(1, this.state.buffers.length)], 'float32'));
  }

  param(p: Parameter, path: string): Tensor {
    let t = this.paramTensors.get(p);
    if (!t) {
      const slot = this.state.paramSlot(p);
      if (!slot) throw new AttnvisionError(`${path}: parameter is not part of the model state (a module created after the state, or a child module stored without addChild?)`);
      // [P] -> [size] -> shape
      t = this.graph.withScope(path, () => reshape(slice(this.params, [slot.offset], [slot.offset + slot.size], [0]), slot.shape));
      this.paramTensors.set(p, t);
    }
    return t;
  }

  buffer(b: Buffer, path: string): Tensor {
    let t = this.bufferTensors.get(b);
    if (!t) {
      const slot = this.state.bufferSlot(b);
      if (!slot) throw new AttnvisionError(`${path}: buffer is not part of the model state`);
      t = this.graph.withScope(path, () => reshape(slice(this.buffers, [slot.offset], [slot.offset + slot.size], [0]), slot.shape));
      this.bufferTensors.set(b, t);
    }
    return t;
  }

  updateBuffer(b: Buffer, value: Tensor, path: string): void {
    if (value.shape.length !== b.shape.length || value.shape.some((d, i) => d !== b.shape[i])) {
      throw new AttnvisionError(`${path}: buffer update shape [${value.shape}] != [${b.shape}]`);
    }
    this.bufferUpdates.set(b, value);
  }
}

/** Parameters and buffers baked in as constants (for export and constant folding). */
export class ConstantBinding implements Binding {
  private readonly cache = new Map<Parameter | Buffer, Tensor>();
  constructor(
    readonly graph: Graph,
    readonly state: ModelState,
  ) {}

  param(p: Parameter, path: string): Tensor {
    let t = this.cache.get(p);
    if (!t) {
      const slot = this.state.paramSlot(p);
      if (!slot) throw new AttnvisionError(`${path}: parameter is not part of the model state`);
      t = this.graph.constant(this.state.params.slice(slot.offset, slot.offset + slot.size), slot.shape, 'float32');
      t.name = slot.name;
      this.cache.set(p, t);
    }
    return t;
  }

  buffer(b: Buffer, path: string): Tensor {
    let t = this.cache.get(b);
    if (!t) {
      const slot = this.state.bufferSlot(b);
      if (!slot) throw new AttnvisionError(`${path}: buffer is not part of the model state`);
      t = this.graph.constant(this.state.buffers.slice(slot.offset, slot.offset + slot.size), slot.shape, 'float32');
      t.name = slot.name;
      this.cache.set(b, t);
    }
    return t;
  }

  updateBuffer(): void {
    // Export traces in eval mode; buffer updates are ignored by design.
  }
}
