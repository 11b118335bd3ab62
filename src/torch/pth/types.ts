/**
 * The value model for PyTorch `.pth` files: what `readPth` returns and what `writePth` accepts.
 *
 * Python → TypeScript:
 *  - int    → `number` when it is a safe integer, `bigint` otherwise
 *  - float  → `number` (or `PyFloat` when reading with `{ wrapFloats: true }`)
 *  - str    → `string`;  bool → `boolean`;  None → `null`
 *  - list   → `PyValue[]` (set / frozenset also read as arrays)
 *  - tuple  → `PyTuple`
 *  - dict / collections.OrderedDict → `PyDict` (a Map; `ordered` tells which)
 *  - bytes  → `PyBytes`
 *  - torch.Tensor / nn.Parameter → `RawTensor`
 *
 * Writing, int vs float: a `bigint` is always written as a Python int; a `number` is written
 * as an int when `Number.isSafeInteger(x)` (and it is not -0), and as a float otherwise
 * (fractions, NaN, ±Infinity, -0, integers beyond 2^53). Wrap a number in `PyFloat`
 * (`pyFloat(1)`) to force a float such as `1.0`.
 */

export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

export type TensorData =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array;

/**
 * A dense CPU tensor. `data` is contiguous, row-major, `shape.reduce(*)` elements long.
 * float16 / bfloat16 keep their raw bits in a Uint16Array; bool is a Uint8Array of 0/1.
 */
export interface RawTensor {
  kind: 'tensor';
  dtype: DType;
  shape: number[];
  data: TensorData;
  requiresGrad?: boolean;
}

/** A Python float, kept distinct from an int (see the module comment). */
export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
}

/** Force `x` to be written as a Python float (e.g. `pyFloat(1)` → `1.0`). */
export function pyFloat(x: number): PyFloat {
  return new PyFloat(x);
}

/** Python `bytes`. */
export class PyBytes {
  constructor(readonly bytes: Uint8Array) {}
}

/** Python tuple. */
export class PyTuple {
  readonly items: PyValue[];
  constructor(items: PyValue[] = []) {
    this.items = items;
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): PyValue | undefined {
    return this.items.at(i);
  }
  [Symbol.iterator](): IterableIterator<PyValue> {
    return this.items[Symbol.iterator]();
  }
}

/** Build a Python tuple. */
export function tuple(...items: PyValue[]): PyTuple {
  return new PyTuple(items);
}

/** Dict keys: Python str, int (number when safe, bigint otherwise) or float (number). */
export type PyKey = string | number | bigint;

/**
 * A Python `dict` (`ordered === false`) or `collections.OrderedDict` (`ordered === true`).
 * Keeps insertion order (it is a Map). `attrs` holds instance attributes set on an OrderedDict
 * by pickle BUILD — e.g. the `_metadata` that `nn.Module.state_dict()` attaches — and is
 * written back on save.
 */
export class PyDict extends Map<PyKey, PyValue> {
  ordered: boolean;
  attrs: Map<string, PyValue> | undefined;

  constructor(entries?: Iterable<readonly [PyKey, PyValue]> | null, options?: { ordered?: boolean }) {
    super(entries ?? undefined);
    this.ordered = options?.ordered ?? false;
    this.attrs = undefined;
  }

  /** A `collections.OrderedDict`, what `torch.load` returns for a state dict. */
  static ordered(entries?: Iterable<readonly [PyKey, PyValue]> | null): PyDict {
    return new PyDict(entries, { ordered: true });
  }

  /** Build from a plain object (string keys). */
  static fromObject(obj: Record<string, PyValue>, options?: { ordered?: boolean }): PyDict {
    return new PyDict(Object.entries(obj), options);
  }
}

export type PyValue =
  | RawTensor
  | number
  | bigint
  | string
  | boolean
  | null
  | PyValue[]
  | PyTuple
  | PyDict
  | PyFloat
  | PyBytes;

export function isRawTensor(v: unknown): v is RawTensor {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'tensor' &&
    !(v instanceof PyDict) && !Array.isArray(v);
}
