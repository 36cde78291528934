/**
 * `attnvision export`: writes a model's forward pass as a standalone ONNX file.
 */
import type { Command } from '../command.js';
import { parseArgs, flagString, flagNumber } from '../command.js';
import { createModel, defaultForward } from '../../models/index.js';
import { exportOnnxFile } from '../../io/export.js';
import { ArgumentError } from '../../util/errors.js';
import { parseInputSize } from './models.js';
import { readSafetensorsMetadata } from '../../io/safetensors.js';

export const exportCommand: Command = {
  name: 'export',
  summary: 'export a model (optionally with weights) to a standalone ONNX file',
  usage: `Usage: attnvision export <model> --out model.onnx [--weights file.safetensors] [--classes N] [--input CxHxW] [--static-batch N] [--fp16-weights]

The file's first input is the normalised NCHW float image batch ("input", dynamic batch size) and
its first output the logits. Weights are stored as initializers under their state-dict names.
  --weights F        safetensors weights (ours, or torchvision/timm names where supported)
  --classes N        number of classes (default: the model's, or the weights')
  --input CxHxW      input size (default: the model's default)
  --static-batch N   fix the batch size to N instead of a dynamic batch
  --fp16-weights     store weights as float16 (half the file size; computation stays float32)`,
  async run(argv) {
    const args = parseArgs(argv, { values: ['out', 'weights', 'classes', 'input', 'static-batch'], booleans: ['fp16-weights'], positional: 1 }, 'export');
    const name = args.positional[0];
    if (!name) throw new ArgumentError('export: expected a model name (see attnvision models)');
    const out = flagString(args, 'out');
    if (!out) throw new ArgumentError('export: --out model.onnx is required');
    let classes = args.flags.has('classes') ? flagNumber(args, 'classes', 0, 'export', { int: true, min: 1 }) : undefined;
    const weights = flagString(args, 'weights');
    let inputSize = parseInputSize(flagString(args, 'input'), 'export');
    // An attnvision trainer checkpoint says which model, head size and input size it was trained with.
    const meta = weights?.endsWith('.safetensors') ? await readSafetensorsMetadata(weights) : {};
    if (meta.model && meta.model !== name) throw new ArgumentError(`export: ${weights} holds a ${meta.model}, not a ${name}`);
    if (meta.numOutputs) {
      const n = Number(meta.numOutputs);
      if (classes !== undefined && classes !== n) throw new ArgumentError(`export: --classes ${classes} but ${weights} has a head of ${n} outputs`);
      classes = n;
      inputSize ??= meta.imageSize ? [3, Number(meta.imageSize), Number(meta.imageSize)] : undefined;
    }
    const h = await createModel(name, { weights, numClasses: classes, inputSize });
    const staticBatch = args.flags.has('static-batch') ? flagNumber(args, 'static-batch', 1, 'export', { int: true, min: 1 }) : undefined;
    if ((h.info.inputs?.(1, h.inputSize, h.numClasses).length ?? 1) !== 1) throw new ArgumentError(`export: ${name} takes several inputs; export it from the library API`);
    await exportOnnxFile(out, {
      model: h.model,
      state: h.state,
      inputShape: h.inputSize,
      forward: (m, x) => defaultForward(h.info, m, { input: x }),
      dynamicBatch: staticBatch === undefined,
      batch: staticBatch,
      halfPrecisionWeights: args.flags.has('fp16-weights'),
      docString: JSON.stringify({ model: name, numClasses: h.numClasses, inputSize: h.inputSize }),
    });
    console.log(`wrote ${out} (${name}, ${h.state.numParams.toLocaleString('en-US')} parameters, input [${staticBatch ?? 'batch'},${h.inputSize.join(',')}])`);
    return 0;
  },
};
