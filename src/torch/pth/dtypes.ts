import type { DType, TensorData } from './types.js';

interface DTypeInfo {
  /** `torch.<storage>` class name used in pickles. */
  storage: string;
  /** Bytes per element. */
  size: number;
  /** The TypedArray class that holds its data. */
  array: new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => TensorData;
}

export const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  float32: { storage: 'FloatStorage', size: 4, array: Float32Array },
  float64: { storage: 'DoubleStorage', size: 8, array: Float64Array },
  float16: { storage: 'HalfStorage', size: 2, array: Uint16Array },
  bfloat16: { storage: 'BFloat16Storage', size: 2, array: Uint16Array },
  int64: { storage: 'LongStorage', size: 8, array: BigInt64Array },
  int32: { storage: 'IntStorage', size: 4, array: Int32Array },
  int16: { storage: 'ShortStorage', size: 2, array: Int16Array },
  int8: { storage: 'CharStorage', size: 1, array: Int8Array },
  uint8: { storage: 'ByteStorage', size: 1, array: Uint8Array },
  bool: { storage: 'BoolStorage', size: 1, array: Uint8Array },
};

const BY_STORAGE = new Map<string, DType>(
  (Object.entries(DTYPES) as [DType, DTypeInfo][]).map(([d, i]) => [i.storage, d]),
);

/** `FloatStorage` → `float32`; undefined for anything else. */
export function dtypeOfStorage(name: string): DType | undefined {
  return BY_STORAGE.get(name);
}

export function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, s);
}

/** Whether `data` is the TypedArray class that `dtype` uses. */
export function dataMatchesDType(dtype: DType, data: unknown): boolean {
  return data instanceof DTYPES[dtype].array;
}
