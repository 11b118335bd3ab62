// Creating tensors: from JS arrays and typed arrays, constants, ranges and random values.
import { native, type DType, type TypedArray } from './native.js';
import { callOp, isDType, Tensor, type Shape } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  device?: string;
}

function inferDType(data: TypedArray | readonly number[] | readonly boolean[]): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Uint16Array) throw new Error('tensor(): a Uint16Array is ambiguous; pass dtype float16 or bfloat16');
  return 'float32';
}

function packed(values: readonly (number | boolean)[], dtype: DType): TypedArray {
  const nums = values.map(Number);
  switch (dtype) {
    case 'float32': return Float32Array.from(nums);
    case 'float64': return Float64Array.from(nums);
    case 'int64': return BigInt64Array.from(nums, (v) => BigInt(Math.trunc(v)));
    case 'int32': return Int32Array.from(nums);
    case 'int16': return Int16Array.from(nums);
    case 'int8': return Int8Array.from(nums);
    case 'uint8': case 'bool': return Uint8Array.from(nums);
    default: throw new Error(`tensor(): cannot build ${dtype} from JS numbers; give a Uint16Array of raw bits`);
  }
}

/** Conversions that keep every value exactly (small integers to int64 or float64, float32 to float64). */
function widensExactly(source: DType, target: DType): boolean {
  if (source === 'float32') return target === 'float64';
  return (source === 'int8' || source === 'int16' || source === 'int32' || source === 'uint8') && (target === 'int64' || target === 'float64');
}

/**
 * A tensor holding a copy of `data`. Plain arrays are float32 unless dtype says otherwise;
 * typed arrays keep their type. shape defaults to [data.length].
 */
export function tensor(
  data: TypedArray | readonly number[] | readonly boolean[],
  shape?: Shape,
  opts: CreateOptions = {},
): Tensor {
  if (opts.dtype !== undefined && !isDType(opts.dtype)) {
    throw new Error(`tensor(): unknown dtype '${String(opts.dtype)}' (expected float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8 or bool)`);
  }
  const dtype = opts.dtype ?? (Array.isArray(data) && typeof data[0] === 'boolean' ? 'bool' : inferDType(data as TypedArray));
  let arr: TypedArray;
  if (Array.isArray(data)) arr = packed(data as (number | boolean)[], dtype);
  else if (opts.dtype !== undefined && !(data instanceof Uint16Array) && inferDType(data as TypedArray) !== dtype && !(dtype === 'bool' && data instanceof Uint8Array)) {
    const source = inferDType(data as TypedArray);
    if (widensExactly(source, dtype)) {
      // Copied as they are and widened by libtorch: the editor's and test's label maps (Int32Array
      // → int64) went through JS numbers and BigInts, ~35 ms per 512×256 map.
      const asGiven = new Tensor(native.fromArray(data as TypedArray, [...(shape ?? [(data as TypedArray).length])], source, opts.device));
      const widened = asGiven.to(opts.device ?? asGiven.device, { dtype });
      asGiven.dispose();
      return widened;
    }
    arr = packed(Array.from(data as ArrayLike<number | bigint>, Number), dtype);
  } else arr = data as TypedArray;
  return new Tensor(native.fromArray(arr, [...(shape ?? [arr.length])], dtype, opts.device));
}

/** A 0-dimensional tensor. */
export function scalarTensor(value: number, opts: CreateOptions = {}): Tensor {
  return tensor([value], [], opts);
}

function factory(op: string, lead: unknown[], shape: Shape, opts: CreateOptions): Tensor {
  return callOp(op, [...lead, [...shape], opts.dtype ?? null, null, opts.device ?? null, null]) as Tensor;
}

export function zeros(shape: Shape, opts: CreateOptions = {}): Tensor { return factory('zeros', [], shape, opts); }
export function ones(shape: Shape, opts: CreateOptions = {}): Tensor { return factory('ones', [], shape, opts); }
export function empty(shape: Shape, opts: CreateOptions = {}): Tensor {
  return callOp('empty.memory_format', [[...shape], opts.dtype ?? null, null, opts.device ?? null, null, null]) as Tensor;
}
export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  return callOp('full', [[...shape], value, opts.dtype ?? 'float32', null, opts.device ?? null, null]) as Tensor;
}
/** Standard normal samples from the global generator (seeded by manualSeed). */
export function randn(shape: Shape, opts: CreateOptions = {}): Tensor { return factory('randn', [], shape, opts); }
/** Uniform [0, 1) samples. */
export function rand(shape: Shape, opts: CreateOptions = {}): Tensor { return factory('rand', [], shape, opts); }
/** Integers uniform in [low, high), int64 by default. */
export function randint(low: number, high: number, shape: Shape, opts: CreateOptions = {}): Tensor {
  return callOp('randint.low', [low, high, [...shape], opts.dtype ?? 'int64', null, opts.device ?? null, null]) as Tensor;
}
/** A random permutation of 0..n-1 (int64). */
export function randperm(n: number): Tensor {
  return callOp('randperm', [n, 'int64', null, null, null]) as Tensor;
}
/** start, start+step, … below end; int64 when all are integers, else float32 (as torch.arange). */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (end === undefined) { end = start; start = 0; }
  return callOp('arange.start_step', [start, end, step, opts.dtype ?? null, null, opts.device ?? null, null]) as Tensor;
}
export function zerosLike(t: Tensor): Tensor { return callOp('zeros_like', [t, null, null, null, null, null]) as Tensor; }
export function onesLike(t: Tensor): Tensor { return callOp('ones_like', [t, null, null, null, null, null]) as Tensor; }
export function fullLike(t: Tensor, value: number): Tensor {
  return callOp('full_like', [t, value, null, null, null, null, null]) as Tensor;
}
export function randnLike(t: Tensor): Tensor { return callOp('randn_like', [t, null, null, null, null, null]) as Tensor; }

/** Concatenates along an existing dimension. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor { return callOp('cat', [[...tensors], dim]) as Tensor; }
/** Stacks along a new dimension. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor { return callOp('stack', [[...tensors], dim]) as Tensor; }
/** x where condition holds, y elsewhere. */
export function where(condition: Tensor, x: Tensor, y: Tensor): Tensor { return callOp('where.self', [condition, x, y]) as Tensor; }
