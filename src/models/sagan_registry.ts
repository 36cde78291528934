/**
 * Registry entries for the SAGAN generator and projection discriminator at 32, 64 and 128 px
 * (family 'sagan'). Generator inputs: z [B, 128] float32, y [B] int64 -> {images [B, 3, S, S]};
 * discriminator inputs: input [B, 3, S, S] float32, y [B] int64 -> {logits [B, 1]}.
 * Model options: `ch` (base width, default 64), `returnAttention` (keep the self-attention map on
 * `model.attn.lastAttention` while tracing, default false).
 */
import type { Tensor } from '../graph/graph.js';
import { registerModel } from './registry.js';
import { ArgumentError } from '../util/errors.js';
import { SaganDiscriminator, SaganGenerator, type SaganSize } from './sagan.js';

const Z_DIM = 128;
const SOURCE = 'Zhang et al. 2019, Self-Attention Generative Adversarial Networks';

for (const size of [32, 64, 128] as SaganSize[]) {
  registerModel({
    name: `sagan_generator_${size}`,
    description: `SAGAN class-conditional generator, ${size} px: ResNet up-blocks with conditional BN, self-attention at ${size === 128 ? 64 : 32}x${size === 128 ? 64 : 32}, spectral norm (${SOURCE})`,
    family: 'sagan',
    defaultInputSize: [3, size, size],
    defaultNumClasses: 1000,
    classifier: [],
    options: ['ch', 'returnAttention'],
    create: ({ numClasses, inputSize, ch, returnAttention }) => {
      // The generator's input is a latent; its image size is fixed by the model.
      if (inputSize && inputSize.join() !== [3, size, size].join()) {
        throw new ArgumentError(`sagan_generator_${size} makes 3 x ${size} x ${size} images from a ${Z_DIM}-d latent; an input size of ${inputSize.join(' x ')} does not apply (the generators are sagan_generator_32, _64 and _128)`);
      }
      return new SaganGenerator({ size, numClasses, zDim: Z_DIM, ch: ch === undefined ? undefined : Number(ch), returnAttention: Boolean(returnAttention) });
    },
    inputs: (batch) => [
      { name: 'z', shape: [batch, Z_DIM], dtype: 'float32' },
      { name: 'y', shape: [batch], dtype: 'int64' },
    ],
    forward: (model, ins) => ({ images: (model as SaganGenerator).call(ins.z as Tensor, ins.y as Tensor) }),
  });
  registerModel({
    name: `sagan_discriminator_${size}`,
    description: `SAGAN projection discriminator, ${size} px: ResNet down-blocks, self-attention at ${size === 128 ? 64 : 32}x${size === 128 ? 64 : 32}, spectral norm (${SOURCE})`,
    family: 'sagan',
    defaultInputSize: [3, size, size],
    defaultNumClasses: 1000,
    classifier: ['embed'],
    options: ['ch', 'returnAttention'],
    create: ({ numClasses, ch, returnAttention }) => new SaganDiscriminator({ size, numClasses, ch: ch === undefined ? undefined : Number(ch), returnAttention: Boolean(returnAttention) }),
    inputs: (batch, inputSize) => [
      { name: 'input', shape: [batch, ...inputSize], dtype: 'float32' },
      { name: 'y', shape: [batch], dtype: 'int64' },
    ],
    forward: (model, ins) => ({ logits: (model as SaganDiscriminator).call(ins.input as Tensor, ins.y as Tensor) }),
  });
}
