/**
 * safetensors reader and writer (https://github.com/huggingface/safetensors format):
 * 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
 * then the raw little-endian tensor bytes. Files we write open in Python's `safetensors`.
 * Writes are atomic (temp file + rename).
 */
import { promises as fs } from 'node:fs';
import { AttnvisionError } from '../util/errors.js';

export type SafeDType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I8' | 'U8' | 'BOOL';

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  /** Raw little-endian bytes. */
  bytes: Uint8Array;
}

export class SafetensorsError extends AttnvisionError {}

const ITEM_SIZE: Record<SafeDType, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I8: 1, U8: 1, BOOL: 1 };

/** Serialises tensors (in the given order) plus optional string metadata. */
export function encodeSafetensors(tensors: ReadonlyMap<string, SafeTensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) {
    // The format's metadata is a string -> string map (other readers parse it as such).
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new SafetensorsError(`metadata "${k}": expected a string value but received ${typeof v} (JSON.stringify it)`);
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new SafetensorsError('a tensor cannot be named "__metadata__" (the header key of the metadata)');
    if (!Object.prototype.hasOwnProperty.call(ITEM_SIZE, t.dtype)) throw new SafetensorsError(`tensor "${name}": unsupported dtype ${String(t.dtype)}`);
    const expected = t.shape.reduce((p, d) => p * d, 1) * ITEM_SIZE[t.dtype];
    if (expected !== t.bytes.byteLength) throw new SafetensorsError(`tensor "${name}": ${t.bytes.byteLength} bytes for ${t.dtype}[${t.shape}] (expected ${expected})`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.byteLength] };
    offset += t.bytes.byteLength;
  }
  let json = JSON.stringify(header);
  const pad = (8 - ((Buffer.byteLength(json) + 8) % 8)) % 8;
  json += ' '.repeat(pad);
  const hbytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + hbytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let pos = 8 + hbytes.length;
  for (const t of tensors.values()) {
    out.set(t.bytes, pos);
    pos += t.bytes.byteLength;
  }
  return out;
}

/** Parses a safetensors buffer; `source` names the file in errors. */
/** The header length stored in a file's first 8 bytes, checked against the file size. */
function headerLength(first8: Uint8Array, fileSize: number, source: string): number {
  if (fileSize < 8 || first8.byteLength < 8) throw new SafetensorsError(`${source}: too short for a safetensors file (${fileSize} bytes)`);
  const hlen = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (hlen > fileSize - 8 || hlen > 100_000_000) throw new SafetensorsError(`${source}: header length ${hlen} exceeds file size ${fileSize} (not a safetensors file, or a truncated one)`);
  return hlen;
}

/** The JSON header (tensor entries and `__metadata__`). */
function parseHeader(bytes: Uint8Array, source: string): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (e) {
    throw new SafetensorsError(`${source}: header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new SafetensorsError(`${source}: header is not a JSON object`);
  return header as Record<string, unknown>;
}

export function decodeSafetensors(buf: Uint8Array, source = 'buffer'): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  const hlen = headerLength(buf.subarray(0, 8), buf.byteLength, source);
  const header = parseHeader(buf.subarray(8, 8 + hlen), source) as Record<string, { dtype: SafeDType; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  const dataStart = 8 + hlen;
  const tensors = new Map<string, SafeTensor>();
  const spans: [number, number, string][] = [];
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) throw new SafetensorsError(`${source}: __metadata__ must map names to strings`);
      metadata = v as Record<string, string>;
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SafetensorsError(`${source}: tensor "${name}" is not described by an object`);
    const info = v as { dtype: SafeDType; shape: number[]; data_offsets: [number, number] };
    if (!Object.prototype.hasOwnProperty.call(ITEM_SIZE, info.dtype)) throw new SafetensorsError(`${source}: tensor "${name}" has unsupported dtype ${String(info.dtype)}`);
    if (!Array.isArray(info.shape) || !info.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new SafetensorsError(`${source}: tensor "${name}" has an invalid shape ${JSON.stringify(info.shape)}`);
    const [s, e] = Array.isArray(info.data_offsets) ? info.data_offsets : [];
    const n = info.shape.reduce((p, d) => p * d, 1);
    if (!Number.isInteger(s) || !Number.isInteger(e) || s! < 0 || e! < s! || dataStart + e! > buf.byteLength || e! - s! !== n * ITEM_SIZE[info.dtype]) {
      throw new SafetensorsError(`${source}: tensor "${name}" has invalid data offsets [${s}, ${e}] for ${info.dtype}[${info.shape}]`);
    }
    if (e! > s!) spans.push([s!, e!, name]); // empty tensors occupy no bytes
    tensors.set(name, { dtype: info.dtype, shape: info.shape, bytes: buf.subarray(dataStart + s!, dataStart + e!) });
  }
  // Tensors may not share bytes.
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1]) throw new SafetensorsError(`${source}: tensors "${spans[i - 1]![2]}" and "${spans[i]![2]}" overlap in the data`);
  }
  return { tensors, metadata };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Converts any floating tensor (F32/F16/BF16/F64) to a Float32Array (copy). */
export function toFloat32(t: SafeTensor, name = 'tensor'): Float32Array {
  const n = t.shape.reduce((p, d) => p * d, 1);
  const size = Object.prototype.hasOwnProperty.call(ITEM_SIZE, t.dtype) ? ITEM_SIZE[t.dtype] : 0;
  if (size && t.bytes.byteLength !== n * size) throw new SafetensorsError(`${name}: ${t.bytes.byteLength} bytes for ${t.dtype}[${t.shape}] (expected ${n * size})`);
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
      return out;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true));
      return out;
    case 'BF16': {
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        tmp.setUint32(0, dv.getUint16(i * 2, true) << 16);
        out[i] = tmp.getFloat32(0);
      }
      return out;
    }
    default:
      throw new SafetensorsError(`${name}: expected a floating dtype, got ${t.dtype}`);
  }
}

export function fromFloat32(data: Float32Array, shape: readonly number[]): SafeTensor {
  const copy = new Float32Array(data); // little-endian on all supported platforms
  return { dtype: 'F32', shape: [...shape], bytes: new Uint8Array(copy.buffer) };
}


export async function readSafetensors(file: string): Promise<{ tensors: Map<string, SafeTensor>; metadata: Record<string, string> }> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (e) {
    throw new SafetensorsError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), file);
}

/**
 * The `__metadata__` of a safetensors file from its header alone (the tensors are not read), for
 * callers that need a checkpoint's model name, classes or input size before loading its weights.
 */
export async function readSafetensorsMetadata(file: string): Promise<Record<string, string>> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(file, 'r');
    const size = (await fh.stat()).size;
    const head = new Uint8Array(8);
    const got = (await fh.read(head, 0, 8, 0)).bytesRead;
    const hlen = headerLength(head.subarray(0, got), size, file);
    const text = new Uint8Array(hlen);
    await fh.read(text, 0, hlen, 8);
    return (parseHeader(text, file).__metadata__ as Record<string, string> | undefined) ?? {};
  } catch (e) {
    if (e instanceof SafetensorsError) throw e;
    throw new SafetensorsError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  } finally {
    await fh?.close();
  }
}
