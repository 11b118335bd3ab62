import { DTYPES, dtypeOfStorage } from './dtypes.js';
import { PthError } from './errors.js';
import { PyCallable, describe, unpickle, type UnpickleOptions } from './pickle-reader.js';
import { gatherStrided } from './strided.js';
import { PyBytes, PyDict, PyFloat, PyTuple, type DType, type PyValue, type RawTensor } from './types.js';

/** A storage as referenced by a persistent id: `numel` elements of `dtype` from element `elemOffset` of record `key`. */
export class StorageRef {
  constructor(
    readonly dtype: DType,
    readonly key: string,
    readonly elemOffset: number,
    readonly numel: number | undefined,
  ) {}
}

/** A tensor whose storage bytes may not have been read yet (legacy files store them after the pickle). */
export class PendingTensor {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
    public requiresGrad: boolean,
  ) {}
}

class Marker {
  constructor(readonly qualname: string) {}
}

function int(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  throw new Error(`${what} is ${describe(v)} ${String(v)}, expected an int`);
}

function ints(v: unknown, what: string): number[] {
  if (!(v instanceof PyTuple) && !Array.isArray(v)) throw new Error(`${what} is ${describe(v)}, expected a tuple`);
  const items = v instanceof PyTuple ? v.items : v;
  return items.map((x, i) => int(x, `${what}[${i}]`));
}

function storageArg(v: unknown): StorageRef {
  if (!(v instanceof StorageRef)) throw new Error(`expected a storage, got ${describe(v)}`);
  return v;
}

function tensorArg(v: unknown): PendingTensor {
  if (!(v instanceof PendingTensor)) throw new Error(`expected a tensor, got ${describe(v)}`);
  return v;
}

function argc(args: unknown[], min: number, max: number): void {
  if (args.length < min || args.length > max) {
    throw new Error(`takes ${min === max ? min : `${min}–${max}`} arguments, got ${args.length}`);
  }
}

/** The classes and functions a torch checkpoint may name; anything else is rejected by name. */
export function torchFindClass(module: string, name: string): unknown {
  if (module === '__builtin__') module = 'builtins';
  const q = `${module}.${name}`;
  const fn = (call: (args: unknown[]) => unknown): PyCallable => new PyCallable(module, name, call);

  if (module === 'torch' && dtypeOfStorage(name)) {
    return fn(() => {
      throw new Error('constructing a storage directly is not supported');
    });
  }
  switch (q) {
    case 'collections.OrderedDict':
    case 'builtins.dict':
      return fn((args) => {
        argc(args, 0, 1);
        const d = new PyDict(null, { ordered: q === 'collections.OrderedDict' });
        const src = args[0];
        if (src instanceof PyDict) for (const [k, v] of src) d.set(k, v);
        else if (src !== undefined) {
          const items = src instanceof PyTuple ? src.items : src;
          if (!Array.isArray(items)) throw new Error(`cannot build a dict from ${describe(src)}`);
          for (const item of items) {
            // Pairs as tuples, or as two-element lists: Python 2's OrderedDict pickles itself as
            // OrderedDict([[k, v], …]) (so do state dicts saved by PyTorch ≤ 0.3 from Python 2).
            const pair = item instanceof PyTuple ? item.items : Array.isArray(item) ? item : null;
            if (!pair || pair.length !== 2) throw new Error('dict items must be pairs');
            const k = pair[0];
            if (typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'bigint') {
              throw new Error(`unsupported dict key type ${describe(k)}`);
            }
            d.set(k, pair[1]!);
          }
        }
        return d;
      });
    case 'builtins.set':
    case 'builtins.frozenset':
    case 'builtins.list':
      return fn((args) => {
        argc(args, 0, 1);
        const src = args[0];
        if (src === undefined) return [];
        if (Array.isArray(src)) return [...src];
        if (src instanceof PyTuple) return [...src.items];
        throw new Error(`cannot build a ${name} from ${describe(src)}`);
      });
    case '_codecs.encode':
      return fn((args) => {
        argc(args, 1, 2);
        const [s, enc] = args;
        if (typeof s !== 'string') throw new Error('expects a str');
        const e = String(enc ?? 'utf-8').toLowerCase().replace('_', '-');
        if (e === 'latin1' || e === 'latin-1' || e === 'iso-8859-1') {
          const b = new Uint8Array(s.length);
          for (let i = 0; i < s.length; i++) {
            const c = s.charCodeAt(i);
            if (c > 255) throw new Error('character outside latin-1');
            b[i] = c;
          }
          return new PyBytes(b);
        }
        if (e === 'utf-8' || e === 'utf8') return new PyBytes(new TextEncoder().encode(s));
        throw new Error(`unsupported encoding ${String(enc)}`);
      });
    case 'torch.device':
      return fn((args) => {
        argc(args, 1, 2);
        if (typeof args[0] !== 'string') throw new Error('expects a str');
        return args.length === 2 && args[1] !== null ? `${args[0]}:${int(args[1], 'index')}` : args[0];
      });
    case 'torch._utils._rebuild_tensor':
      return fn((args) => {
        argc(args, 4, 4);
        return new PendingTensor(storageArg(args[0]), int(args[1], 'storage_offset'), ints(args[2], 'size'), ints(args[3], 'stride'), false);
      });
    case 'torch._utils._rebuild_tensor_v2':
      return fn((args) => {
        argc(args, 4, 7);
        const rg = args[4] ?? false;
        if (typeof rg !== 'boolean') throw new Error('requires_grad must be a bool');
        return new PendingTensor(storageArg(args[0]), int(args[1], 'storage_offset'), ints(args[2], 'size'), ints(args[3], 'stride'), rg);
      });
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      return fn((args) => {
        argc(args, 2, 4);
        const t = tensorArg(args[0]);
        const rg = args[1];
        if (typeof rg !== 'boolean') throw new Error('requires_grad must be a bool');
        return new PendingTensor(t.storage, t.offset, t.shape, t.stride, rg);
      });
    case 'torch._tensor._rebuild_from_type_v2':
      return fn((args) => {
        argc(args, 3, 4);
        const [func, type, fargs] = args;
        if (!(func instanceof PyCallable)) throw new Error(`expected a function, got ${describe(func)}`);
        if (!(type instanceof Marker)) throw new Error(`unsupported tensor type ${describe(type)}`);
        if (!(fargs instanceof PyTuple)) throw new Error('arguments must be a tuple');
        return func.call(fargs.items);
      });
    case 'torch.Tensor':
    case 'torch._tensor.Tensor':
    case 'torch.nn.parameter.Parameter':
      return new Marker(q);
    default:
      throw new Error(`unsupported class '${q}' in pickle`);
  }
}

/** BUILD on a tensor (state of a Parameter/Tensor subclass): accept an empty or absent state. */
export function torchBuild(obj: unknown, state: unknown): boolean {
  if (obj instanceof PendingTensor) {
    if (state === null || (state instanceof PyDict && state.size === 0)) return true;
    if (state instanceof PyTuple && state.items.every((s) => s === null || (s instanceof PyDict && s.size === 0))) {
      return true;
    }
    throw new Error('BUILD with a non-empty state on a tensor is not supported');
  }
  return false;
}

export interface TorchUnpickleOptions extends UnpickleOptions {
  persistentLoad(pid: unknown): unknown;
}

/** Unpickle a torch object pickle (tensors stay PendingTensor until `materialize`). */
export function unpickleTorch(bytes: Uint8Array, start: number, file: string, options: TorchUnpickleOptions) {
  return unpickle(bytes, start, file, {
    findClass: torchFindClass,
    persistentLoad: options.persistentLoad,
    build: torchBuild,
  }, options);
}

/** Check a persistent id tuple `('storage', <torch.XStorage>, key, location, numel, ...)`; returns its parts. */
export function parseStoragePid(pid: unknown, arity: number[]): { dtype: DType; key: string; location: string; numel: number; rest: unknown[] } {
  if (!(pid instanceof PyTuple)) throw new Error(`persistent id is ${describe(pid)}, expected a tuple`);
  const items = pid.items;
  if (items[0] !== 'storage') {
    throw new Error(`unsupported persistent id type '${String(items[0])}' (only tensor storages are supported)`);
  }
  if (!arity.includes(items.length)) throw new Error(`storage persistent id has ${items.length} fields`);
  const type = items[1];
  let dtype: DType | undefined;
  if (type instanceof PyCallable && type.module === 'torch') dtype = dtypeOfStorage(type.name);
  if (!dtype) throw new Error(`unsupported storage type ${describe(type)}`);
  const key = items[2];
  if (typeof key !== 'string' && typeof key !== 'number') throw new Error('storage key must be a str');
  const location = items[3];
  if (typeof location !== 'string') throw new Error('storage location must be a str');
  return { dtype, key: String(key), location, numel: int(items[4], 'storage size'), rest: items.slice(5) };
}

/**
 * Replace every PendingTensor in the unpickled value by a RawTensor (in place), reading storage
 * bytes through `storageBytes(key)`. Shared objects stay shared; the same tensor object met twice
 * gives the same RawTensor.
 */
export function materialize(value: unknown, file: string, storageBytes: (key: string) => Uint8Array): PyValue {
  const done = new Map<object, PyValue>();

  const tensor = (t: PendingTensor): RawTensor => {
    const info = DTYPES[t.storage.dtype];
    const es = info.size;
    let bytes = storageBytes(t.storage.key);
    const start = t.storage.elemOffset * es;
    const avail = Math.floor((bytes.length - start) / es);
    const numel = t.storage.numel ?? avail;
    if (start > bytes.length || numel > avail) {
      throw new PthError(
        file,
        `storage '${t.storage.key}' has ${bytes.length} bytes, too few for ${numel} ${t.storage.dtype} elements at element ${t.storage.elemOffset}`,
      );
    }
    bytes = bytes.subarray(start, start + numel * es);
    let out: Uint8Array;
    try {
      out = gatherStrided(bytes, es, t.offset, t.shape, t.stride);
    } catch (e) {
      throw new PthError(file, `tensor in storage '${t.storage.key}': ${(e as Error).message}`);
    }
    // A typed array over the bytes in place where they are aligned (torch.save aligns its records
    // to 64 bytes), a copy where not.
    if (out.byteOffset % es !== 0) out = out.slice();
    const data = new info.array(out.buffer as ArrayBuffer, out.byteOffset, out.length / es);
    const raw: RawTensor = { kind: 'tensor', dtype: t.storage.dtype, shape: [...t.shape], data };
    if (t.requiresGrad) raw.requiresGrad = true;
    return raw;
  };

  const walk = (v: unknown): PyValue => {
    if (v === null || typeof v !== 'object') return v as PyValue;
    const seen = done.get(v);
    if (seen !== undefined) return seen;
    if (v instanceof PendingTensor) {
      const r = tensor(v);
      done.set(v, r);
      return r;
    }
    if (Array.isArray(v)) {
      done.set(v, v as PyValue[]);
      for (let i = 0; i < v.length; i++) v[i] = walk(v[i]);
      return v as PyValue[];
    }
    if (v instanceof PyTuple) {
      done.set(v, v);
      for (let i = 0; i < v.items.length; i++) v.items[i] = walk(v.items[i]);
      return v;
    }
    if (v instanceof PyDict) {
      done.set(v, v);
      for (const [k, x] of v) v.set(k, walk(x));
      if (v.attrs) for (const [k, x] of v.attrs) v.attrs.set(k, walk(x));
      return v;
    }
    if (v instanceof PyBytes || v instanceof PyFloat) return v;
    if (v instanceof StorageRef) throw new PthError(file, 'a bare storage (not inside a tensor) is not supported');
    throw new PthError(file, `unsupported object in checkpoint: ${describe(v)}`);
  };

  try {
    return walk(value);
  } catch (e) {
    if (e instanceof RangeError) throw new PthError(file, `checkpoint is nested too deeply or too large: ${e.message}`);
    throw e;
  }
}
