// numpy's .npy files, as far as pix2pixHD needs them: the official encode_features.py saves its
// clusters with np.save(path, dict), which numpy stores as a 0-d object array whose one element
// is pickled. So a .npy file here is: the magic "\x93NUMPY", a version, a header (a Python dict
// literal: descr, fortran_order, shape), then either the raw array data (numeric dtypes) or a
// pickle (descr '|O').
//
// The pickle is read with the project's unpickler (src/torch/pth/pickle-reader.ts) and these
// numpy globals:
//   numpy.core.multiarray._reconstruct / numpy._core.multiarray._reconstruct + BUILD  (ndarray)
//   numpy.dtype + BUILD                                                               (dtype)
//   numpy.core.multiarray.scalar / numpy._core.multiarray.scalar                      (numpy int/float scalars)
// Arrays inside may be float32, float64 (what scikit-learn's cluster centres are), the integer
// types or bool, little- or big-endian, C or Fortran order; object arrays hold their items.
// Python 2 pickles (older numpy) are read as np.load(encoding='latin1') does.
import { readFileSync } from 'node:fs';
import { PyCallable, describe, unpickle } from '../torch/pth/pickle-reader.js';
import { PyBytes, PyDict, PyTuple } from '../torch/pth/types.js';

/** A numpy array read from a file: row-major numbers (or, for object arrays, the items). */
export interface NpyArray {
  kind: 'ndarray';
  /** numpy's dtype string, e.g. '<f8', '<f4', '|O'. */
  dtype: string;
  shape: number[];
  /** Numbers in C (row-major) order; for object arrays, the Python values. */
  data: number[] | unknown[];
}

export function isNpyArray(v: unknown): v is NpyArray {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'ndarray';
}

export class NpyError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'NpyError';
  }
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && MAGIC.every((b, i) => bytes[i] === b);
}

/** Parses the header's dict literal: {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), } */
function parseHeader(text: string, file: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new NpyError(file, `not a readable .npy header: ${JSON.stringify(text.trim())} (structured dtypes are not supported)`);
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => Number(s.replace(/L$/, '')));
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new NpyError(file, `bad shape (${shapeText}) in the .npy header`);
  return { descr, fortran: fortran === 'True', shape };
}

const ELEMENT: Record<string, { size: number; read: (v: DataView, o: number, le: boolean) => number }> = {
  f8: { size: 8, read: (v, o, le) => v.getFloat64(o, le) },
  f4: { size: 4, read: (v, o, le) => v.getFloat32(o, le) },
  i8: { size: 8, read: (v, o, le) => Number(v.getBigInt64(o, le)) },
  u8: { size: 8, read: (v, o, le) => Number(v.getBigUint64(o, le)) },
  i4: { size: 4, read: (v, o, le) => v.getInt32(o, le) },
  u4: { size: 4, read: (v, o, le) => v.getUint32(o, le) },
  i2: { size: 2, read: (v, o, le) => v.getInt16(o, le) },
  u2: { size: 2, read: (v, o, le) => v.getUint16(o, le) },
  i1: { size: 1, read: (v, o) => v.getInt8(o) },
  u1: { size: 1, read: (v, o) => v.getUint8(o) },
  b1: { size: 1, read: (v, o) => (v.getUint8(o) ? 1 : 0) },
};

/** numpy's type string ('<f8', '>i4', '|u1', 'f8', 'float64' …) → element reader and byte order. */
function elementType(descr: string): { code: string; littleEndian: boolean } | null {
  const names: Record<string, string> = { float64: 'f8', float32: 'f4', int64: 'i8', int32: 'i4', int16: 'i2', int8: 'i1', uint8: 'u1', uint16: 'u2', uint32: 'u4', uint64: 'u8', bool: 'b1', '?': 'b1' };
  const m = /^([<>|=]?)(.+)$/.exec(descr);
  if (!m) return null;
  const code = names[m[2]!] ?? m[2]!;
  if (!ELEMENT[code]) return null;
  return { code, littleEndian: m[1] !== '>' };
}

function numbersFrom(raw: Uint8Array, descr: string, shape: number[], fortran: boolean, file: string): number[] {
  const t = elementType(descr);
  if (!t) throw new NpyError(file, `numpy dtype '${descr}' is not supported (float32/float64, integer and bool arrays are)`);
  const el = ELEMENT[t.code]!;
  const count = shape.reduce((a, b) => a * b, 1);
  if (raw.length < count * el.size) throw new NpyError(file, `array data is truncated: ${count} × ${el.size} bytes needed, ${raw.length} present`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const flat = new Array<number>(count);
  for (let i = 0; i < count; i++) flat[i] = el.read(view, i * el.size, t.littleEndian);
  return fortran && shape.length > 1 ? fortranToC(flat, shape) : flat;
}

function fortranToC<T>(flat: T[], shape: number[]): T[] {
  const n = flat.length;
  const out = new Array<T>(n);
  const strides = shape.map((_, i) => shape.slice(0, i).reduce((a, b) => a * b, 1));
  const idx = new Array<number>(shape.length).fill(0);
  for (let c = 0; c < n; c++) {
    let f = 0;
    for (let d = 0; d < shape.length; d++) f += idx[d]! * strides[d]!;
    out[c] = flat[f]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** A numpy dtype met in a pickle: numpy.dtype('f8', False, True), then BUILD with (3, '<', …). */
class PickledDType {
  byteOrder = '|';
  constructor(readonly name: string) {}
  get descr(): string {
    return `${this.byteOrder === '=' ? '<' : this.byteOrder}${this.name}`;
  }
}

/** An ndarray being rebuilt: numpy's _reconstruct, then BUILD with (version, shape, dtype, fortran, data). */
class PickledArray {
  result: NpyArray | null = null;
}

function rawBytes(v: unknown): Uint8Array {
  if (v instanceof PyBytes) return v.bytes;
  // Python 2 str read as latin1: one char per byte.
  if (typeof v === 'string') return Uint8Array.from(v, (c) => c.charCodeAt(0));
  throw new Error(`array data is ${describe(v)}, expected bytes`);
}

function hooksFor(file: string) {
  return {
    findClass(module: string, name: string): unknown {
      const mod = module.replace(/^numpy\._core\./, 'numpy.core.');
      const q = `${mod}.${name}`;
      switch (q) {
        case 'numpy.core.multiarray._reconstruct':
          return new PyCallable(module, name, () => new PickledArray());
        case 'numpy.ndarray':
          return new PyCallable(module, name, () => new PickledArray());
        case 'numpy.dtype':
          return new PyCallable(module, name, (args) => {
            if (typeof args[0] !== 'string') throw new Error(`dtype name is ${describe(args[0])}`);
            return new PickledDType(args[0]);
          });
        case 'numpy.core.multiarray.scalar':
          return new PyCallable(module, name, (args) => {
            const dt = args[0];
            if (!(dt instanceof PickledDType)) throw new Error(`scalar of ${describe(dt)}`);
            return numbersFrom(rawBytes(args[1]), dt.descr, [], false, file)[0];
          });
        default:
          throw new Error(`the pickle names ${module}.${name}, which a numpy cluster file does not hold (only numpy arrays, dtypes and scalars are read)`);
      }
    },
    build(obj: unknown, state: unknown): boolean {
      if (obj instanceof PickledDType) {
        if (!(state instanceof PyTuple) || typeof state.items[1] !== 'string') throw new Error('unexpected dtype state');
        obj.byteOrder = state.items[1];
        if (state.items[3] !== null && state.items[3] !== undefined) throw new Error(`structured numpy dtypes are not supported (${obj.name})`);
        return true;
      }
      if (obj instanceof PickledArray) {
        if (!(state instanceof PyTuple) || state.length !== 5) throw new Error(`unexpected ndarray state (${describe(state)})`);
        const [, shapeV, dtype, fortranV, data] = state.items as unknown[];
        if (!(dtype instanceof PickledDType)) throw new Error(`ndarray dtype is ${describe(dtype)}`);
        const shapeItems = shapeV instanceof PyTuple ? shapeV.items : [];
        const shape = shapeItems.map((d) => Number(d));
        const fortran = fortranV === true || fortranV === 1;
        if (dtype.name === 'O8' || dtype.name === 'O4' || dtype.name === 'O') {
          if (!Array.isArray(data)) throw new Error(`object array data is ${describe(data)}, expected a list`);
          obj.result = { kind: 'ndarray', dtype: '|O', shape, data: fortran && shape.length > 1 ? fortranToC(data, shape) : data };
        } else {
          obj.result = { kind: 'ndarray', dtype: dtype.descr, shape, data: numbersFrom(rawBytes(data), dtype.descr, shape, fortran, file) };
        }
        return true;
      }
      return false;
    },
  };
}

/** Replaces rebuilt arrays by their NpyArray, through dicts, lists and tuples. */
function resolve(v: unknown): unknown {
  if (v instanceof PickledArray) {
    if (!v.result) throw new Error('an ndarray was never given its state');
    const r = v.result;
    return r.dtype === '|O' ? { ...r, data: r.data.map(resolve) } : r;
  }
  if (v instanceof PyDict) {
    const out = new PyDict(null, { ordered: v.ordered });
    for (const [k, x] of v) out.set(k, resolve(x) as never);
    return out;
  }
  if (Array.isArray(v)) return v.map(resolve);
  if (v instanceof PyTuple) return new PyTuple(v.items.map((x) => resolve(x) as never));
  return v;
}

/**
 * Reads a .npy file. A pickled object array of shape () (what np.save(path, dict) writes) gives
 * its one item (the dict, as a PyDict whose arrays are NpyArrays), as np.load(...).item() does;
 * any other array gives the NpyArray.
 */
export function readNpy(bytes: Uint8Array, file = '<buffer>'): unknown {
  if (!isNpy(bytes)) throw new NpyError(file, 'not a .npy file (no \\x93NUMPY magic)');
  if (bytes.length < 10) throw new NpyError(file, 'truncated .npy header');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyError(file, 'truncated .npy header');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new NpyError(file, `.npy format version ${major} is not supported (1, 2 and 3 are)`);
  }
  if (start + headerLen > bytes.length) throw new NpyError(file, 'truncated .npy header');
  const header = parseHeader(new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen)), file);
  const body = bytes.subarray(start + headerLen);
  if (header.descr !== '|O' && header.descr !== 'O') {
    return { kind: 'ndarray', dtype: header.descr, shape: header.shape, data: numbersFrom(body, header.descr, header.shape, header.fortran, file) } satisfies NpyArray;
  }
  let value: unknown;
  try {
    value = unpickle(body, 0, file, hooksFor(file), { py2Strings: 'latin1', context: 'the pickled object array of a .npy file' }).value;
  } catch (e) {
    throw new NpyError(file, (e as Error).message.replace(`${file}: `, ''));
  }
  const resolved = resolve(value);
  if (!isNpyArray(resolved)) throw new NpyError(file, `the pickle holds ${describe(value)}, expected a numpy array`);
  // np.save(path, some_dict) stores a 0-d object array: its item is the dict.
  if (resolved.dtype === '|O' && resolved.shape.length === 0) return resolved.data[0];
  return resolved;
}

export function readNpyFile(path: string): unknown {
  return readNpy(new Uint8Array(readFileSync(path)), path);
}
