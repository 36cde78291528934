/**
 * The model zoo: registry, summaries and FLOP counting. Importing this module registers every model.
 */
import './zoo.js';
export { registerModel, listModels, modelInfo, createModel, loadWeights, defaultInputs, defaultForward, type ModelInfo, type ModelHandle, type CreateOptions } from './registry.js';
export { summarize, type ModelSummary, type LayerRow } from './summary.js';
export { countFlops, flopsByScope, nodeFlops } from './flops.js';
