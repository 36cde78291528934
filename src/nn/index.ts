/**
 * Neural-network building blocks: Module tree, parameters, flat model state, layers.
 */
export { Module, Parameter, Buffer, withBinding, type Binding } from './module.js';
export { ModelState, formatLoadReport, type LoadReport, type NamedArray, type SlotLayout } from './state.js';
export { FlatBinding, ConstantBinding } from './binding.js';
export * as init from './init.js';
export { Linear, type LinearOptions } from './layers/linear.js';
export { Conv, Conv2d, Conv3d, ConvTranspose2d, type ConvLayerOptions } from './layers/conv.js';
export { BatchNorm, BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm, GroupNorm, type BatchNormOptions } from './layers/norm.js';
export * from './layers/basic.js';
