/**
 * Weights back out of an exported ONNX model: the initializers that carry state-dict entries
 * (`name` as float32, or `name.f16` as float16 when exported with half-precision weights, see
 * graph/lower.ts), as float32 arrays under their state-dict names. With it a shipped model (say
 * models/inspector.onnx) can be fine-tuned: `attnvision train --weights model.onnx`.
 */
import { promises as fs } from 'node:fs';
import onnxProto from 'onnx-proto';
import type { NamedArray } from '../nn/state.js';
import { ArgumentError } from '../util/errors.js';
import { toFloat32 } from './safetensors.js';

const { onnx } = onnxProto;
const FLOAT = 1;
const FLOAT16 = 10;

/** State-dict entries found among the initializers of the ONNX file (other initializers are constants of the graph). */
export async function readOnnxWeights(file: string, names: Iterable<string>): Promise<Map<string, NamedArray>> {
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(await fs.readFile(file));
  } catch (e) {
    throw new ArgumentError(`${file}: cannot read as an ONNX model (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const inits = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  const out = new Map<string, NamedArray>();
  for (const name of names) {
    const t = inits.get(name) ?? inits.get(`${name}.f16`);
    if (!t) continue;
    const shape = (t.dims ?? []).map(Number);
    const n = shape.reduce((p, d) => p * d, 1);
    let data: Float32Array;
    if (t.dataType === FLOAT) {
      data = t.rawData?.length ? toFloat32({ dtype: 'F32', shape, bytes: t.rawData }, `${file}: ${name}`) : Float32Array.from(t.floatData ?? []);
    } else if (t.dataType === FLOAT16 && t.rawData?.length) {
      data = toFloat32({ dtype: 'F16', shape, bytes: t.rawData }, `${file}: ${name}`);
    } else {
      throw new ArgumentError(`${file}: initializer ${t.name} has element type ${t.dataType} (expected float32 or float16 raw data)`);
    }
    if (data.length !== n) throw new ArgumentError(`${file}: initializer ${t.name} holds ${data.length} values for shape [${shape}]`);
    out.set(name, { data, shape });
  }
  return out;
}
