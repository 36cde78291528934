/**
 * attnvision: attention-based computer vision on ONNX Runtime. The main job, the image-quality
 * inspector, is exported here as `Inspector`; each layer is a namespace here and a subpath export:
 * attnvision/graph, /autodiff, /runtime, /nn, /optim, /train, /io, /image, /degrade, /models,
 * /quality, /server, /browser (the browser inspector; not re-exported here: it needs onnxruntime-web).
 *
 * ```ts
 * import { Inspector } from 'attnvision';
 * const inspector = await Inspector.load();
 * const { clean, labels } = await inspector.inspect('photo.jpg');
 * ```
 */
export { Inspector } from './quality/inspector.js';
export * as graph from './graph/index.js';
export * as autodiff from './autodiff/index.js';
export * as runtime from './runtime/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as train from './train/index.js';
export * as io from './io/index.js';
export * as image from './image/index.js';
export * as degrade from './degrade/index.js';
export * as models from './models/index.js';
export * as quality from './quality/index.js';
export * as server from './server/index.js';
