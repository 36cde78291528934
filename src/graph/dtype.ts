/**
 * Tensor element types supported by the graph API and their ONNX / typed-array counterparts.
 */

export type DType = 'float32' | 'int64' | 'int32' | 'bool';

/** ONNX TensorProto.DataType codes. */
export const ONNX_DTYPE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };

export const ONNX_TO_DTYPE: Record<number, DType> = { 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool' };

export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'int64'
    ? BigInt64Array
    : D extends 'int32'
      ? Int32Array
      : Uint8Array;

export type AnyTypedArray = Float32Array | BigInt64Array | Int32Array | Uint8Array;

/** Whether `d` is one of the element types the graph API supports. */
export function isDType(d: unknown): d is DType {
  return d === 'float32' || d === 'int64' || d === 'int32' || d === 'bool';
}

/** The typed array that holds `dtype` values. */
export function typedArrayName(dtype: DType): string {
  return dtype === 'float32' ? 'Float32Array' : dtype === 'int64' ? 'BigInt64Array' : dtype === 'int32' ? 'Int32Array' : 'Uint8Array';
}

/** Whether `data` is the typed array that holds `dtype` values. */
export function holdsDType(data: unknown, dtype: DType): boolean {
  return dtype === 'float32' ? data instanceof Float32Array : dtype === 'int64' ? data instanceof BigInt64Array : dtype === 'int32' ? data instanceof Int32Array : data instanceof Uint8Array;
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'float32' || dtype === 'int32' ? 4 : dtype === 'int64' ? 8 : 1;
}

export function allocTyped(dtype: DType, size: number): AnyTypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'int64':
      return new BigInt64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
  }
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32';
}
