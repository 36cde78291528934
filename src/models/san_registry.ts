/**
 * Registry entries for SAN (Zhao, Jia, Koltun 2020, Table 1): SAN10/15/19, pairwise (subtraction
 * relation with position encoding) and patchwise (concatenation), as the official models.
 * Options accepted by `createModel`: `relation`, `shareChannels`, `r1`, `r2`, `returnAttention`.
 */
import type { Tensor } from '../graph/graph.js';
import type { Module } from '../nn/module.js';
import { registerModel } from './registry.js';
import { SAN, sanMapKey, type SanConfig, type SanKind } from './san.js';

const LAYERS: Record<string, number[]> = { san10: [2, 1, 2, 4, 1], san15: [3, 2, 3, 5, 2], san19: [3, 3, 4, 6, 3] };
const PAPER: Record<string, { params: number; gflops: number }> = {
  san10_pairwise: { params: 10.5e6, gflops: 2.2 },
  san15_pairwise: { params: 14.1e6, gflops: 3.0 },
  san19_pairwise: { params: 17.6e6, gflops: 3.8 },
  san10_patchwise: { params: 11.8e6, gflops: 1.9 },
  san15_patchwise: { params: 16.2e6, gflops: 2.6 },
  san19_patchwise: { params: 20.5e6, gflops: 3.3 },
};
const OPTION_KEYS = ['relation', 'shareChannels', 'r1', 'r2', 'returnAttention'] as const;

for (const depth of ['san10', 'san15', 'san19']) {
  for (const kind of ['pairwise', 'patchwise'] as SanKind[]) {
    const name = `${depth}_${kind}`;
    registerModel({
      name,
      description: `${depth.toUpperCase()} ${kind} self-attention network, blocks ${LAYERS[depth]!.join('-')}, footprints 3-7-7-7-7 (Zhao et al. 2020)`,
      family: 'san',
      defaultInputSize: [3, 224, 224],
      testInputSize: [3, 32, 32],
      defaultNumClasses: 1000,
      classifier: ['fc'],
      options: OPTION_KEYS,
      create: (opts) => {
        const cfg: SanConfig = { kind, layers: LAYERS[depth], inChannels: opts.inputSize[0]!, numClasses: opts.numClasses };
        for (const k of OPTION_KEYS) if (opts[k] !== undefined) (cfg as Record<string, unknown>)[k] = opts[k];
        return new SAN(cfg);
      },
      // With returnAttention, every SA module's weights become extra named outputs.
      forward: (model: Module, inputs: Record<string, Tensor>) => {
        const m = model as SAN;
        const logits = m.call(inputs.input!);
        return { logits, ...m.attentionMaps() };
      },
      mapKey: sanMapKey,
      paper: { ...PAPER[name]!, source: 'Zhao et al. 2020, Table 2 (ImageNet, 224x224)' },
    });
  }
}
