/**
 * Tensor-graph API: trace TypeScript functions over symbolic tensors into a graph of standard ONNX ops.
 */
export { Graph, Tensor, Node, type GraphInput, type TensorSource } from './graph.js';
export { defineOp, applyOp, apply1, fail, listOps, getOp, type OpDef, type TensorInfo } from './op.js';
export { lowerGraph, liveNodes, type LowerOptions } from './lower.js';
export { OPSET } from './emitter.js';
export type { DType, AnyTypedArray } from './dtype.js';
export { sizeOf, broadcastShapes, fmtShape, type Shape } from './shape.js';
export * from './ops/index.js';
