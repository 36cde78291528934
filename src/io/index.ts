export * from './safetensors.js';
export * from './checkpoint.js';
export * from './export.js';
export * from './jsonl.js';
