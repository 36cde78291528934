/**
 * Registry entries for the tiny demo models.
 */
import { registerModel } from './registry.js';
import { TinyCNN, TinyViT } from './toy.js';
import { ArgumentError } from '../util/errors.js';

registerModel({
  name: 'tiny_cnn',
  description: 'two conv-BN-ReLU layers and a linear head (demo/test model)',
  family: 'toy',
  defaultInputSize: [1, 16, 16],
  defaultNumClasses: 4,
  classifier: ['head'],
  create: ({ numClasses, inputSize }) => new TinyCNN(inputSize[0]!, numClasses),
});

registerModel({
  name: 'tiny_vit',
  description: 'patch embedding, one multi-head self-attention block, linear head (demo/test model)',
  family: 'toy',
  defaultInputSize: [1, 16, 16],
  defaultNumClasses: 4,
  classifier: ['head'],
  create: ({ numClasses, inputSize }) => {
    const [, h, w] = inputSize as [number, number, number];
    if (h !== w || h % 4 !== 0) throw new ArgumentError(`tiny_vit: expected a square input whose side is a multiple of its 4 px patches but received ${inputSize.join('x')}`);
    return new TinyViT(inputSize[0]!, numClasses, h);
  },
});
