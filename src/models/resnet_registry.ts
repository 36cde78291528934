/**
 * Registry entries for the ResNet family: SAN's baselines (ResNet-26/38/50), SE-, GC-, NL- and
 * LESA-ResNet-50 and LESA-WRN-50. Model options (`createModel(name, {...})`): `zeroInitResidual`.
 */
import { registerModel, type ModelInfo } from './registry.js';
import { ResNet, resnetMapKey, type ResNetOptions } from './resnet.js';

type Four<T> = [T, T, T, T];

function resnetEntry(
  name: string,
  description: string,
  cfg: Omit<ResNetOptions, 'numClasses' | 'inChannels' | 'inputSize'>,
  extra: Partial<ModelInfo> = {},
): ModelInfo {
  return {
    name,
    description,
    family: 'resnet',
    defaultInputSize: [3, 224, 224],
    testInputSize: [3, 64, 64],
    defaultNumClasses: 1000,
    classifier: ['fc'],
    options: ['zeroInitResidual'],
    create: ({ numClasses, inputSize, zeroInitResidual }) =>
      new ResNet({
        ...cfg,
        numClasses,
        inChannels: inputSize[0]!,
        inputSize: [inputSize[1]!, inputSize[2]!],
        zeroInitResidual: zeroInitResidual === undefined ? undefined : Boolean(zeroInitResidual),
      }),
    mapKey: resnetMapKey,
    ...extra,
  };
}

const R50: Four<number> = [3, 4, 6, 3];
const SAN = 'Zhao et al. 2020, Exploring Self-attention for Image Recognition, Table 1/2';

registerModel(resnetEntry('resnet26', 'ResNet-26, bottleneck blocks [1, 2, 4, 1] (SAN baseline, Zhao et al. 2020)', { layers: [1, 2, 4, 1] }, { paper: { params: 13.7e6, gflops: 2.4, source: SAN } }));
registerModel(resnetEntry('resnet38', 'ResNet-38, bottleneck blocks [2, 3, 5, 2] (SAN baseline, Zhao et al. 2020)', { layers: [2, 3, 5, 2] }, { paper: { params: 19.6e6, gflops: 3.2, source: SAN } }));
registerModel(resnetEntry('resnet50', 'ResNet-50 (He et al. 2016), torchvision v1.5 layout and names', { layers: R50 }, { paper: { params: 25.6e6, gflops: 4.1, source: SAN } }));
registerModel(
  resnetEntry('seresnet50', 'SE-ResNet-50: Squeeze-Excite (r = 16) in every bottleneck (Hu et al. 2018); timm names', { layers: R50, attn: { type: 'se', stages: [true, true, true, true], rdRatio: 16 } }, { paper: { params: 28.1e6, source: 'Hu et al. 2018, SENet, Table 2' } }),
);
registerModel(resnetEntry('gcresnet50', 'GC-ResNet-50: Global Context (r = 16) in layer2-layer4 bottlenecks (Cao et al. 2019)', { layers: R50, attn: { type: 'gc', stages: [false, true, true, true], rdRatio: 16 } }));
registerModel(
  resnetEntry('nlresnet50', 'NL-ResNet-50: 5 embedded-Gaussian non-local blocks, every other block of res3 and res4 (Wang et al. 2018)', {
    layers: R50,
    nonLocal: { blocks: [[], [1, 3], [1, 3, 5], []] },
  }),
);
const LESA = 'Yang et al. 2021, Locally Enhanced Self-Attention, Table 1';
registerModel(
  resnetEntry('lesa_resnet50', 'LESA-ResNet-50: LESA replaces the 3x3 convs of the last two stages (Yang et al. 2021)', { layers: R50, strides: [1, 2, 2, 1], lesa: { stages: [false, false, true, true] } }, { paper: { params: 23.8e6, source: LESA } }),
);
registerModel(
  resnetEntry('lesa_wrn50', 'LESA-WRN-50: wide ResNet-50 (2x bottleneck width) with LESA in the last two stages (Yang et al. 2021)', {
    layers: R50,
    baseWidth: 128,
    strides: [1, 2, 2, 1],
    lesa: { stages: [false, false, true, true] },
  }),
);
