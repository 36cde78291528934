#!/usr/bin/env node
// Uniform weight average ("model soup", Wortsman et al. ICML 2022) of a training checkpoint and an
// exported ONNX model of the same architecture, e.g. a fine-tune and the model it started from.
// Every state-dict entry of the checkpoint is averaged with the ONNX initializer of the same name
// (float16 weights are read as float32); optimizer state is dropped. Writes a checkpoint that
// `attnvision package-inspector --checkpoint` takes. Needs `npm run build`.
//   node scripts/average_weights.mjs RUN/best.safetensors models/inspector.onnx OUT.safetensors
import { readSafetensors, encodeSafetensors, toFloat32, fromFloat32 } from '../dist/src/io/safetensors.js';
import { readOnnxWeights } from '../dist/src/io/onnx_weights.js';
import { writeFileAtomic } from '../dist/src/util/fs.js';

const [checkpoint, onnxFile, out] = process.argv.slice(2);
if (!checkpoint || !onnxFile || !out) throw new Error('usage: average_weights.mjs CHECKPOINT.safetensors MODEL.onnx OUT.safetensors');
const { tensors, metadata } = await readSafetensors(checkpoint);
const names = [...tensors.keys()].filter((n) => !n.startsWith('optimizer.'));
const other = await readOnnxWeights(onnxFile, names);
const missing = names.filter((n) => !other.has(n));
if (missing.length) throw new Error(`${onnxFile}: no weights for ${missing.length} entries of ${checkpoint} (${missing.slice(0, 5).join(', ')}...): not the same architecture`);
const averaged = new Map(names.map((n) => {
  const a = toFloat32(tensors.get(n), n);
  const b = other.get(n).data;
  if (a.length !== b.length) throw new Error(`${n}: ${a.length} values in ${checkpoint}, ${b.length} in ${onnxFile}`);
  return [n, fromFloat32(Float32Array.from(a, (v, i) => (v + b[i]) / 2), tensors.get(n).shape)];
}));
await writeFileAtomic(out, encodeSafetensors(averaged, metadata));
console.log(`${out}: ${averaged.size} entries averaged (${tensors.size - names.length} optimizer entries dropped)`);
