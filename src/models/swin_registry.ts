/**
 * Registry entries for Swin Transformer (Liu et al. 2021), one table row per model: the paper's
 * Swin-T/S/B and small variants sized for CPU training, with the paper's patch embedding or a
 * convolutional stem (Xiao et al. 2021). Options accepted by `createModel` beyond numClasses/inputSize:
 * any `SwinConfig` field (`embedDim`, `depths`, `numHeads`, `windowSize`, `patchSize`, `mlpRatio`,
 * `dropPathRate`, `returnAttention`, `stem`), e.g. to rebuild a small torchvision `SwinTransformer`.
 */
import type { Tensor } from '../graph/graph.js';
import type { Module } from '../nn/module.js';
import { registerModel } from './registry.js';
import { SwinTransformer, swinMapKey, type SwinConfig } from './swin.js';

const CONFIG_KEYS = ['patchSize', 'embedDim', 'depths', 'numHeads', 'windowSize', 'mlpRatio', 'dropPathRate', 'returnAttention', 'stem'] as const;

interface SwinEntry {
  name: string;
  description: string;
  config: SwinConfig;
  inputSize: number[];
  testInputSize: number[];
  /** The paper's parameter count and GFLOPs, where the paper has the model. */
  paper?: { params: number; gflops: number };
}

function register({ name, description, config: base, inputSize, testInputSize, paper }: SwinEntry): void {
  registerModel({
    name,
    description,
    family: 'swin',
    defaultInputSize: inputSize,
    testInputSize,
    defaultNumClasses: 1000,
    classifier: ['head'],
    options: CONFIG_KEYS,
    create: (opts) => {
      const cfg: SwinConfig = { ...base, inChannels: opts.inputSize[0]!, numClasses: opts.numClasses };
      for (const k of CONFIG_KEYS) if (opts[k] !== undefined) (cfg as Record<string, unknown>)[k] = opts[k];
      return new SwinTransformer(cfg);
    },
    // With returnAttention, every block's attention probabilities become extra named outputs.
    forward: (model: Module, inputs: Record<string, Tensor>) => {
      const m = model as SwinTransformer;
      const logits = m.call(inputs.input!);
      return { logits, ...m.attentionMaps() };
    },
    mapKey: swinMapKey,
    ...(paper ? { paper: { ...paper, source: 'Liu et al. 2021, Table 1 (ImageNet-1K, 224x224)' } } : {}),
  });
}

const ENTRIES: SwinEntry[] = [
  {
    name: 'swin_tiny_patch4_window7_224',
    description: 'Swin-T: C=96, depths 2-2-6-2, heads 3-6-12-24, window 7 (Liu et al. 2021)',
    config: { embedDim: 96, depths: [2, 2, 6, 2], numHeads: [3, 6, 12, 24], windowSize: 7, dropPathRate: 0.2 },
    inputSize: [3, 224, 224],
    testInputSize: [3, 64, 64],
    paper: { params: 28.3e6, gflops: 4.5 },
  },
  {
    name: 'swin_small_patch4_window7_224',
    description: 'Swin-S: C=96, depths 2-2-18-2, heads 3-6-12-24, window 7 (Liu et al. 2021)',
    config: { embedDim: 96, depths: [2, 2, 18, 2], numHeads: [3, 6, 12, 24], windowSize: 7, dropPathRate: 0.3 },
    inputSize: [3, 224, 224],
    testInputSize: [3, 64, 64],
    paper: { params: 49.6e6, gflops: 8.7 },
  },
  {
    name: 'swin_base_patch4_window7_224',
    description: 'Swin-B: C=128, depths 2-2-18-2, heads 4-8-16-32, window 7 (Liu et al. 2021)',
    config: { embedDim: 128, depths: [2, 2, 18, 2], numHeads: [4, 8, 16, 32], windowSize: 7, dropPathRate: 0.5 },
    inputSize: [3, 224, 224],
    testInputSize: [3, 64, 64],
    paper: { params: 87.8e6, gflops: 15.4 },
  },
  {
    name: 'swin_nano_patch4_window7_224',
    description: 'small Swin for CPU training at 224 px: C=32, depths 2-2-2-2, heads 1-2-4-8, window 7 (2.5M params, 0.37 GFLOPs)',
    config: { embedDim: 32, depths: [2, 2, 2, 2], numHeads: [1, 2, 4, 8], windowSize: 7, dropPathRate: 0.1 },
    inputSize: [3, 224, 224],
    testInputSize: [3, 64, 64],
  },
  {
    name: 'swin_micro_patch2_window4_96',
    description: 'small Swin for CPU training at 96 px: patch 2, C=32, depths 2-2-2-2, heads 1-2-4-8, window 4 (2.5M params, 0.27 GFLOPs)',
    config: { patchSize: 2, embedDim: 32, depths: [2, 2, 2, 2], numHeads: [1, 2, 4, 8], windowSize: 4, dropPathRate: 0.1 },
    inputSize: [3, 96, 96],
    testInputSize: [3, 32, 32],
  },
  {
    name: 'swin_nano_convstem_224',
    description: 'swin_nano with a convolutional stem (two 3x3 stride-2 convs, Xiao et al. 2021) instead of the 4x4 patch embedding',
    config: { embedDim: 32, depths: [2, 2, 2, 2], numHeads: [1, 2, 4, 8], windowSize: 7, dropPathRate: 0.1, stem: 'conv' },
    inputSize: [3, 224, 224],
    testInputSize: [3, 64, 64],
  },
  {
    name: 'swin_mini_convstem_224',
    description: 'wider, deeper swin_nano_convstem for the inspector: C=48, depths 2-2-6-2, heads 2-4-8-16, window 7, convolutional stem',
    config: { embedDim: 48, depths: [2, 2, 6, 2], numHeads: [2, 4, 8, 16], windowSize: 7, dropPathRate: 0.1, stem: 'conv' },
    inputSize: [3, 224, 224],
    testInputSize: [3, 64, 64],
  },
];

for (const e of ENTRIES) register(e);
