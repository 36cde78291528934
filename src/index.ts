/**
 * attnvision: attention-based computer vision on ONNX Runtime. Subpath exports give each layer:
 * attnvision/graph, /autodiff, /runtime, /nn, /optim, /train, /io, /image, /degrade.
 */
export * as graph from './graph/index.js';
export * as autodiff from './autodiff/index.js';
export * as runtime from './runtime/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as train from './train/index.js';
export * as io from './io/index.js';
