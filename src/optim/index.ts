export { SGD, AdamW, type Optimizer, type UpdateInputs, type SGDOptions, type AdamWOptions } from './optimizer.js';
export { cosineWithWarmup, stepDecay, constantLr, type Schedule, type CosineOptions } from './schedule.js';
export { clipByGlobalNorm } from './clip.js';
