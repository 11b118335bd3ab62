/**
 * Read and write PyTorch `.pth` checkpoints in pure TypeScript (no libtorch).
 *
 * - `readPth` / `readPthFile`: the zip format (torch ≥ 1.6) and the legacy pre-1.6 format,
 *   detected from the first bytes. Tensors come back as contiguous `RawTensor`s.
 * - `writePth` / `writePthFile`: the zip format, pickle protocol 2, as torch.save writes it;
 *   with `{ format: 'legacy' }` the pre-1.6 format (legacy-writer.ts), as torch.save wrote it
 *   before 1.6 (and later ones with `_use_new_zipfile_serialization=False`).
 *
 * Int vs float when writing: `bigint` → int; `number` → int if `Number.isSafeInteger(x)` (and not
 * -0), float otherwise; `pyFloat(x)` / `new PyFloat(x)` → always float. Reading gives plain
 * numbers for both unless `{ wrapFloats: true }` is passed (then floats are PyFloat), which makes
 * read → write lossless for integral floats such as `1.0`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { PthError } from './errors.js';
import { readLegacyPth } from './legacy.js';
import { writeFileAtomicSync } from '../../util/atomic-file.js';
import { legacyPthChunks } from './legacy-writer.js';
import { pickleTorch } from './pickle-writer.js';
import { readZipPth } from './read-zip.js';
import type { PyValue } from './types.js';
import { concatChunks, zipStoredChunks, type ZipInput } from './zip-writer.js';

export {
  PyBytes,
  PyDict,
  PyFloat,
  PyTuple,
  isRawTensor,
  pyFloat,
  tuple,
  type DType,
  type PyKey,
  type PyValue,
  type RawTensor,
  type TensorData,
} from './types.js';
export { PthError } from './errors.js';

export interface ReadPthOptions {
  /** Return Python floats as `PyFloat` rather than `number`. */
  wrapFloats?: boolean;
}

export type PthFormat = 'zip' | 'legacy';

export interface WritePthOptions {
  /** Name of the folder inside the zip (torch.save uses the file's base name). Default 'archive'. */
  archiveName?: string;
  /** 'zip' (default, torch ≥ 1.6) or 'legacy' (pre-1.6; archiveName does not apply). */
  format?: PthFormat;
}

function checkLittleEndian(file: string): void {
  if (os.endianness() !== 'LE') throw new PthError(file, 'only little-endian hosts are supported');
}

/** Which serialization `bytes` uses; throws a PthError when it is neither. */
export function detectPthFormat(bytes: Uint8Array, fileNameForErrors = '<buffer>'): PthFormat {
  const f = fileNameForErrors;
  if (bytes.length === 0) throw new PthError(f, 'empty file: not a PyTorch checkpoint');
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5)) return 'zip';
  if (bytes[0] === 0x80 && bytes.length >= 2 && bytes[1]! >= 2 && bytes[1]! <= 5) return 'legacy';
  if (bytes.length >= 262 && new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar') {
    throw new PthError(f, 'tar-based checkpoint (PyTorch < 0.4 torch.save) is not supported');
  }
  const head = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new PthError(f, `not a PyTorch checkpoint (starts with bytes ${head})`);
}

/** Parse a `.pth` file's bytes. Every failure is a PthError whose message starts with the file name. */
export function readPth(bytes: Uint8Array, fileNameForErrors = '<buffer>', options: ReadPthOptions = {}): PyValue {
  const f = fileNameForErrors;
  checkLittleEndian(f);
  // A plain Uint8Array view: Buffer's slice() would not copy.
  bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = detectPthFormat(bytes, f);
  try {
    return format === 'zip' ? readZipPth(bytes, f, options) : readLegacyPth(bytes, f, options);
  } catch (e) {
    if (e instanceof PthError) throw e;
    throw new PthError(f, `cannot read checkpoint: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}

export function readPthFile(path: string, options: ReadPthOptions = {}): PyValue {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new PthError(path, `cannot read file: ${(e as Error).message}`, { cause: e });
  }
  return readPth(bytes, path, options);
}

function pthChunks(value: PyValue, archiveName: string, format: PthFormat = 'zip'): Uint8Array[] {
  if (format === 'legacy') return legacyChunks(value);
  if (format !== 'zip') throw new PthError('<writePth>', `unknown format '${String(format)}' (expected 'zip' or 'legacy')`);
  const file = `<writePth ${archiveName}>`;
  checkLittleEndian(file);
  if (!archiveName || archiveName.includes('/')) throw new PthError(file, `invalid archive name '${archiveName}'`);
  let pickled;
  try {
    pickled = pickleTorch(value);
  } catch (e) {
    if (e instanceof RangeError) throw new PthError(file, `value nested too deeply: ${e.message}`, { cause: e });
    throw new PthError(file, (e as Error).message, { cause: e });
  }
  const enc = new TextEncoder();
  const entries: ZipInput[] = [
    { name: `${archiveName}/data.pkl`, data: pickled.pickle },
    { name: `${archiveName}/byteorder`, data: enc.encode('little') },
    ...pickled.storages.map((s) => ({ name: `${archiveName}/data/${s.key}`, data: s.bytes })),
    { name: `${archiveName}/version`, data: enc.encode('3\n') },
  ];
  return zipStoredChunks(entries, { align: 64 });
}

function legacyChunks(value: PyValue): Uint8Array[] {
  const file = '<writePth legacy>';
  checkLittleEndian(file);
  try {
    return legacyPthChunks(value);
  } catch (e) {
    if (e instanceof RangeError) throw new PthError(file, `value nested too deeply: ${e.message}`, { cause: e });
    throw new PthError(file, (e as Error).message, { cause: e });
  }
}

/** Serialize `value` as torch.save does (zip format, pickle protocol 2; or the legacy format). */
export function writePth(value: PyValue, options: WritePthOptions = {}): Uint8Array {
  return concatChunks(pthChunks(value, options.archiveName ?? 'archive', options.format));
}

function archiveNameFor(path: string): string {
  const stem = nodePath.basename(path).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_.-]/g, '_');
  return stem || 'archive';
}

/** The bytes of a .pth file of `value` as chunks (tensor storages are not copied): for writers that stage files. */
export function pthFileChunks(path: string, value: PyValue, options: WritePthOptions = {}): Uint8Array[] {
  return [...pthChunks(value, options.archiveName ?? archiveNameFor(path), options.format)];
}

/**
 * Write `value` to `path` atomically (src/util/atomic-file.ts): a crash never leaves a
 * half-written file at `path`.
 */
export function writePthFile(path: string, value: PyValue, options: WritePthOptions = {}): void {
  const chunks = pthFileChunks(path, value, options);
  try {
    writeFileAtomicSync(path, chunks);
  } catch (e) {
    throw new PthError(path, `cannot write checkpoint: ${(e as Error).message}`, { cause: e });
  }
}
