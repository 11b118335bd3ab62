// numpy's .npz (np.savez): a zip archive of .npy files, one per array, named `<key>.npy`.
// pytorch-fid caches statistics this way (`mu`, `sigma`); reading accepts np.savez_compressed too.
import { writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { isNpyArray, NpyError, readNpy, type NpyArray } from '../../features/npy.js';
import { ZipReader } from '../../torch/pth/zip-reader.js';
import { concatChunks, zipStoredChunks } from '../../torch/pth/zip-writer.js';

/** The arrays of an .npz by key (the `.npy` suffix dropped). */
export function readNpz(path: string): Map<string, NpyArray> {
  const zip = new ZipReader(new Uint8Array(readFileSync(path)), path);
  const out = new Map<string, NpyArray>();
  for (const name of zip.names()) {
    if (!name.endsWith('.npy')) continue;
    const value = readNpy(zip.read(name), `${path}:${name}`);
    if (!isNpyArray(value)) throw new NpyError(path, `${name} is a pickled object, not a numeric array`);
    out.set(name.slice(0, -4), value);
  }
  return out;
}

export interface NumericArray {
  shape: readonly number[];
  /** Float32Array is written as '<f4', Float64Array as '<f8' (numpy's own dtypes for mu and sigma). */
  data: Float32Array | Float64Array;
}

/** One .npy (format 1.0, C order, little-endian) holding `array`. */
export function npyBytes(array: NumericArray): Uint8Array {
  const descr = array.data instanceof Float64Array ? '<f8' : '<f4';
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // numpy pads the header with spaces so the data starts on a 64-byte boundary, ending it with \n.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + array.data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  // Typed arrays are little-endian on every platform Node runs on.
  out.set(new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength), total);
  return out;
}

/** Writes arrays by key as np.savez does (stored, uncompressed entries `<key>.npy`). */
export function writeNpz(path: string, arrays: Readonly<Record<string, NumericArray>>): void {
  const entries = Object.entries(arrays).map(([k, a]) => ({ name: `${k}.npy`, data: npyBytes(a) }));
  writeFileSync(path, concatChunks(zipStoredChunks(entries, { align: 1 })));
}
