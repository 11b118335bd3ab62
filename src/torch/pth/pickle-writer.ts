import { DTYPES, dataMatchesDType, isDType } from './dtypes.js';
import { contiguousStrides } from './strided.js';
import { PyBytes, PyDict, PyFloat, PyTuple, isRawTensor, type PyKey, type PyValue, type RawTensor } from './types.js';

/** A growable byte buffer. */
class Bytes {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(k: number): void {
    if (this.length + k <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + k) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.length));
    this.buf = nb;
    this.view = new DataView(nb.buffer);
  }
  u8(v: number): void {
    this.reserve(1);
    this.buf[this.length++] = v;
  }
  u16(v: number): void {
    this.reserve(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }
  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }
  f64be(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, v, false);
    this.length += 8;
  }
  raw(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const enc = new TextEncoder();

/** Python's minimal two's-complement little-endian encoding of an int (for LONG1 / LONG4). */
export function encodeLong(x: bigint): Uint8Array {
  if (x === 0n) return new Uint8Array(0);
  let n = 1;
  while (!(x >= -(1n << BigInt(8 * n - 1)) && x < 1n << BigInt(8 * n - 1))) n++;
  let v = x < 0n ? x + (1n << BigInt(8 * n)) : x;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Whether a JS number is written as a Python int (else float); see types.ts. */
export function isPyIntNumber(x: number): boolean {
  return Number.isSafeInteger(x) && !Object.is(x, -0);
}

export interface StorageRecord {
  key: string;
  bytes: Uint8Array;
  /** Elements (not bytes): what the legacy format writes before each storage. */
  numel: number;
}

export interface PickleOutput {
  pickle: Uint8Array;
  storages: StorageRecord[];
}

export interface PickleTorchOptions {
  /**
   * The storage persistent ids' form: `'zip'` (torch ≥ 1.6) writes
   * `('storage', type, key, location, numel)`; `'legacy'` (the pre-1.6 format) adds the
   * sixth field, view_metadata, as None. Default 'zip'.
   */
  storageIds?: 'zip' | 'legacy';
}

const BATCH = 1000;

/**
 * Pickles a PyValue with protocol 2 the way torch.save does: tensors become
 * `torch._utils._rebuild_tensor_v2(<persistent storage id>, 0, shape, strides, requires_grad, OrderedDict())`,
 * each tensor with its own storage (`data/<key>` in the archive). Objects met twice (the same
 * list, dict, tuple or tensor) are written once and referenced through the memo. With
 * `{ storageIds: 'legacy' }` the persistent ids take the legacy format's sixth field (None).
 */
export function pickleTorch(value: PyValue, options: PickleTorchOptions = {}): PickleOutput {
  const legacyIds = options.storageIds === 'legacy';
  const out = new Bytes();
  const memo = new Map<unknown, number>();
  const globals = new Map<string, number>();
  const inProgress = new Set<unknown>();
  const storages: StorageRecord[] = [];

  const put = (obj: unknown): void => {
    const idx = memo.size + globals.size;
    if (idx < 256) {
      out.u8(0x71); // BINPUT
      out.u8(idx);
    } else {
      out.u8(0x72); // LONG_BINPUT
      out.u32(idx);
    }
    if (typeof obj === 'string') globals.set(obj, idx);
    else memo.set(obj, idx);
  };
  const get = (idx: number): void => {
    if (idx < 256) {
      out.u8(0x68); // BINGET
      out.u8(idx);
    } else {
      out.u8(0x6a); // LONG_BINGET
      out.u32(idx);
    }
  };
  const global = (module: string, name: string): void => {
    const q = `${module}\n${name}\n`;
    const idx = globals.get(q);
    if (idx !== undefined) return get(idx);
    out.u8(0x63); // GLOBAL
    out.raw(enc.encode(q));
    put(q);
  };
  const str = (s: string): void => {
    const b = enc.encode(s);
    out.u8(0x58); // BINUNICODE
    out.u32(b.length);
    out.raw(b);
  };
  const int = (x: number | bigint): void => {
    if (typeof x === 'number' && x >= 0 && x < 256) {
      out.u8(0x4b); // BININT1
      out.u8(x);
    } else if (typeof x === 'number' && x >= 0 && x < 65536) {
      out.u8(0x4d); // BININT2
      out.u16(x);
    } else if (typeof x === 'number' && x >= -(2 ** 31) && x < 2 ** 31) {
      out.u8(0x4a); // BININT
      out.i32(x);
    } else {
      const b = encodeLong(BigInt(x));
      if (b.length < 256) {
        out.u8(0x8a); // LONG1
        out.u8(b.length);
      } else {
        out.u8(0x8b); // LONG4
        out.i32(b.length);
      }
      out.raw(b);
    }
  };
  const float = (x: number): void => {
    out.u8(0x47); // BINFLOAT
    out.f64be(x);
  };
  const number = (x: number): void => (isPyIntNumber(x) ? int(x) : float(x));
  const key = (k: PyKey, path: string): void => {
    if (typeof k === 'string') str(k);
    else if (typeof k === 'number') number(k);
    else if (typeof k === 'bigint') int(k);
    else throw new Error(`${path}: unsupported dict key type ${typeof k}`);
  };
  const emptyOrderedDict = (): void => {
    global('collections', 'OrderedDict');
    out.u8(0x29); // EMPTY_TUPLE
    out.u8(0x52); // REDUCE
  };
  const items = (d: Map<PyKey, PyValue> | Map<string, PyValue>, path: string): void => {
    const entries = [...d.entries()];
    for (let i = 0; i < entries.length; i += BATCH) {
      out.u8(0x28); // MARK
      for (const [k, v] of entries.slice(i, i + BATCH)) {
        key(k, path);
        save(v, `${path}[${JSON.stringify(typeof k === 'bigint' ? String(k) : k)}]`);
      }
      out.u8(0x75); // SETITEMS
    }
  };
  const tupleOf = (xs: number[]): void => {
    if (xs.length === 0) return out.u8(0x29);
    if (xs.length <= 3) {
      for (const x of xs) int(x);
      out.u8(0x84 + xs.length); // TUPLE1..3
      return;
    }
    out.u8(0x28);
    for (const x of xs) int(x);
    out.u8(0x74); // TUPLE
  };

  const tensor = (t: RawTensor, path: string): void => {
    if (!isDType(t.dtype)) throw new Error(`${path}: unsupported dtype '${String(t.dtype)}'`);
    if (!Array.isArray(t.shape) || !t.shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
      throw new Error(`${path}: invalid shape ${JSON.stringify(t.shape)}`);
    }
    if (!dataMatchesDType(t.dtype, t.data)) {
      throw new Error(`${path}: ${t.dtype} tensor data must be a ${DTYPES[t.dtype].array.name}, got ${t.data?.constructor?.name}`);
    }
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== numel) {
      throw new Error(`${path}: shape ${JSON.stringify(t.shape)} needs ${numel} elements, data has ${t.data.length}`);
    }
    let bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (t.dtype === 'bool' && bytes.some((b) => b > 1)) bytes = bytes.map((b) => (b ? 1 : 0));
    const storageKey = String(storages.length);
    storages.push({ key: storageKey, bytes, numel });

    global('torch._utils', '_rebuild_tensor_v2');
    out.u8(0x28); // MARK
    out.u8(0x28); // MARK: persistent id tuple
    str('storage');
    global('torch', DTYPES[t.dtype].storage);
    str(storageKey);
    str('cpu');
    int(numel);
    if (legacyIds) out.u8(0x4e); // NONE: no view metadata
    out.u8(0x74); // TUPLE
    out.u8(0x51); // BINPERSID
    int(0); // storage offset
    tupleOf(t.shape);
    tupleOf(contiguousStrides(t.shape));
    out.u8(t.requiresGrad ? 0x88 : 0x89);
    emptyOrderedDict(); // backward hooks
    out.u8(0x74); // TUPLE
    out.u8(0x52); // REDUCE
    put(t);
  };

  function save(v: PyValue, path: string): void {
    if (v === null) return out.u8(0x4e);
    switch (typeof v) {
      case 'boolean':
        return out.u8(v ? 0x88 : 0x89);
      case 'number':
        return number(v);
      case 'bigint':
        return int(v);
      case 'string':
        return str(v);
      case 'object':
        break;
      default:
        throw new Error(`${path}: cannot pickle a value of type ${typeof v}`);
    }
    const m = memo.get(v);
    if (m !== undefined) return get(m);
    if (v instanceof PyFloat) return float(v.value);
    if (inProgress.has(v)) throw new Error(`${path}: a tuple that contains itself cannot be pickled`);

    if (Array.isArray(v)) {
      out.u8(0x5d); // EMPTY_LIST
      put(v);
      for (let i = 0; i < v.length; i += BATCH) {
        out.u8(0x28);
        v.slice(i, i + BATCH).forEach((x, j) => save(x, `${path}[${i + j}]`));
        out.u8(0x65); // APPENDS
      }
      return;
    }
    if (v instanceof PyTuple) {
      inProgress.add(v);
      const n = v.items.length;
      if (n === 0) out.u8(0x29);
      else {
        if (n > 3) out.u8(0x28);
        v.items.forEach((x, j) => save(x, `${path}[${j}]`));
        out.u8(n > 3 ? 0x74 : 0x84 + n);
      }
      inProgress.delete(v);
      return put(v);
    }
    if (v instanceof PyDict) {
      if (v.ordered) {
        emptyOrderedDict();
      } else {
        out.u8(0x7d); // EMPTY_DICT
      }
      put(v);
      if (v.size) items(v, path);
      if (v.ordered && v.attrs && v.attrs.size) {
        out.u8(0x7d);
        items(v.attrs, `${path}.__dict__`);
        out.u8(0x62); // BUILD
      }
      return;
    }
    if (v instanceof PyBytes) {
      global('_codecs', 'encode');
      let s = '';
      for (let i = 0; i < v.bytes.length; i += 8192) {
        s += String.fromCharCode(...v.bytes.subarray(i, i + 8192));
      }
      str(s);
      str('latin1');
      out.u8(0x86); // TUPLE2
      out.u8(0x52); // REDUCE
      return put(v);
    }
    if (isRawTensor(v)) return tensor(v, path);
    throw new Error(`${path}: cannot pickle ${(v as object).constructor?.name ?? 'object'} (not a PyValue)`);
  }

  out.u8(0x80); // PROTO
  out.u8(2);
  save(value, '<root>');
  out.u8(0x2e); // STOP
  return { pickle: out.result(), storages };
}
