/**
 * All graph ops, one flat namespace (`import * as F from 'attnvision/graph'` style).
 */
export * from './elementwise.js';
export * from './reduce.js';
export * from './shape_ops.js';
export * from './matmul.js';
export * from './conv.js';
export * from './pool.js';
export * from './nn_functional.js';
export { randomUniform, randomNormal, listRandomInputs, fillRandom, type RandomInput, type RandomKind } from './random.js';
export { sumTo, type TensorLike } from './common.js';
