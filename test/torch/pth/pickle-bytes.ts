// Hand-written pickle opcode emitters for tests (independent of src/torch/pth/pickle-writer.ts).
// Each function returns the bytes of one opcode with its argument; `pkl(...)` concatenates them.
import { concatChunks, zipStoredChunks } from '../../../src/torch/pth/zip-writer.js';

export type Bytes = number[];

const le = (v: number, n: number): Bytes => {
  const out: Bytes = [];
  for (let i = 0; i < n; i++) out.push(Math.floor(v / 2 ** (8 * i)) & 0xff);
  return out;
};
const ascii = (s: string): Bytes => [...Buffer.from(s, 'utf-8')];

export const PROTO = (p: number): Bytes => [0x80, p];
export const STOP: Bytes = [0x2e];
export const MARK: Bytes = [0x28];
export const EMPTY_DICT: Bytes = [0x7d];
export const EMPTY_LIST: Bytes = [0x5d];
export const EMPTY_TUPLE: Bytes = [0x29];
export const TUPLE: Bytes = [0x74];
export const TUPLE1: Bytes = [0x85];
export const TUPLE2: Bytes = [0x86];
export const TUPLE3: Bytes = [0x87];
export const SETITEM: Bytes = [0x73];
export const SETITEMS: Bytes = [0x75];
export const APPEND: Bytes = [0x61];
export const APPENDS: Bytes = [0x65];
export const NONE: Bytes = [0x4e];
export const NEWTRUE: Bytes = [0x88];
export const NEWFALSE: Bytes = [0x89];
export const REDUCE: Bytes = [0x52];
export const BUILD: Bytes = [0x62];
export const NEWOBJ: Bytes = [0x81];
export const BINPERSID: Bytes = [0x51];
export const MEMOIZE: Bytes = [0x94];
export const STACK_GLOBAL: Bytes = [0x93];
export const BININT1 = (n: number): Bytes => [0x4b, n];
export const BININT2 = (n: number): Bytes => [0x4d, ...le(n, 2)];
export const BININT = (n: number): Bytes => [0x4a, ...le(n < 0 ? n + 2 ** 32 : n, 4)];
/** LONG1 with explicit little-endian two's-complement bytes. */
export const LONG1 = (bytes: Bytes): Bytes => [0x8a, bytes.length, ...bytes];
export const BINFLOAT = (x: number): Bytes => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(x);
  return [0x47, ...b];
};
export const BINUNICODE = (s: string): Bytes => {
  const b = ascii(s);
  return [0x58, ...le(b.length, 4), ...b];
};
export const SHORT_BINUNICODE = (s: string): Bytes => {
  const b = ascii(s);
  return [0x8c, b.length, ...b];
};
export const BINUNICODE8 = (s: string): Bytes => {
  const b = ascii(s);
  return [0x8d, ...le(b.length, 8), ...b];
};
export const SHORT_BINSTRING = (s: string): Bytes => {
  const b = ascii(s);
  return [0x55, b.length, ...b];
};
export const SHORT_BINBYTES = (b: Bytes): Bytes => [0x43, b.length, ...b];
export const BINPUT = (i: number): Bytes => [0x71, i];
export const BINGET = (i: number): Bytes => [0x68, i];
export const FRAME = (n: number): Bytes => [0x95, ...le(n, 8)];
export const GLOBAL = (module: string, name: string): Bytes => [0x63, ...ascii(`${module}\n${name}\n`)];

export function pkl(...parts: (Bytes | Uint8Array | number)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else for (const b of p) out.push(b);
  }
  return Uint8Array.from(out);
}

/** A persistent storage id as torch writes it, followed by BINPERSID. */
export function storagePid(storageClass: string, key: string, numel: number): Bytes {
  return [
    ...MARK, ...BINUNICODE('storage'), ...GLOBAL('torch', storageClass), ...BINUNICODE(key),
    ...BINUNICODE('cpu'), ...(numel < 256 ? BININT1(numel) : BININT(numel)), ...TUPLE, ...BINPERSID,
  ];
}

/** `_rebuild_tensor_v2(<pid bytes>, offset, shape, stride, False, OrderedDict())` */
export function rebuildTensor(pid: Bytes, offset: number, shape: number[], stride: number[]): Bytes {
  const ints = (xs: number[]): Bytes => [...MARK, ...xs.flatMap((x) => BININT(x)), ...TUPLE];
  return [
    ...GLOBAL('torch._utils', '_rebuild_tensor_v2'), ...MARK, ...pid, ...BININT(offset), ...ints(shape),
    ...ints(stride), ...NEWFALSE, ...GLOBAL('collections', 'OrderedDict'), ...EMPTY_TUPLE, ...REDUCE,
    ...TUPLE, ...REDUCE,
  ];
}

/** Wrap a data.pkl and storage records in a torch-style zip archive. */
export function zipPth(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}, archive = 'arch'): Uint8Array {
  return concatChunks(
    zipStoredChunks([
      { name: `${archive}/data.pkl`, data: pickle },
      ...Object.entries(storages).map(([k, data]) => ({ name: `${archive}/data/${k}`, data })),
      { name: `${archive}/version`, data: Uint8Array.from([0x33, 0x0a]) },
    ]),
  );
}

export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
