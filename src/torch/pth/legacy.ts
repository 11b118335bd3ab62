import { DTYPES } from './dtypes.js';
import { PthError } from './errors.js';
import { describe, unpickle, type UnpickleHooks, type UnpickleOptions } from './pickle-reader.js';
import { materialize, parseStoragePid, StorageRef, torchFindClass, unpickleTorch } from './torch-unpickler.js';
import { PyDict, PyTuple, type DType, type PyValue } from './types.js';

/** The number torch.save (pre-1.6 format) pickles first. */
export const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
export const LEGACY_PROTOCOL_VERSION = 1001;

/**
 * Read the legacy (pre-1.6, non-zip) format: pickles of the magic number, the protocol version
 * and sys_info, then the object pickle (storages as persistent ids
 * `('storage', type, key, location, numel, view_metadata)`), then a pickle of the storage keys,
 * then for each key an 8-byte little-endian element count followed by the raw bytes.
 */
export function readLegacyPth(bytes: Uint8Array, file: string, options: UnpickleOptions = {}): PyValue {
  const plain: UnpickleHooks = { findClass: torchFindClass };

  let r = unpickle(bytes, 0, file, plain);
  if (r.value !== LEGACY_MAGIC) throw new PthError(file, 'not a PyTorch checkpoint (bad magic number)');
  r = unpickle(bytes, r.end, file, plain);
  if (r.value !== LEGACY_PROTOCOL_VERSION) {
    throw new PthError(file, `unsupported legacy checkpoint protocol version ${String(r.value)}`);
  }
  r = unpickle(bytes, r.end, file, plain);
  if (r.value instanceof PyDict && r.value.get('little_endian') === false) {
    throw new PthError(file, 'big-endian checkpoints are not supported');
  }

  const roots = new Map<string, { dtype: DType; numel: number }>();
  const main = unpickleTorch(bytes, r.end, file, {
    ...options,
    persistentLoad(pid: unknown) {
      const s = parseStoragePid(pid, [6]);
      const prev = roots.get(s.key);
      if (prev && prev.dtype !== s.dtype) {
        throw new Error(`storage '${s.key}' is used as both ${prev.dtype} and ${s.dtype}`);
      }
      roots.set(s.key, { dtype: s.dtype, numel: s.numel });
      const view = s.rest[0];
      if (view === null) return new StorageRef(s.dtype, s.key, 0, s.numel);
      if (!(view instanceof PyTuple) || view.length !== 3) throw new Error(`bad storage view metadata ${describe(view)}`);
      const [, off, size] = view.items;
      if (typeof off !== 'number' || typeof size !== 'number' || off < 0 || size < 0 || off + size > s.numel) {
        throw new Error('bad storage view offset/size');
      }
      return new StorageRef(s.dtype, s.key, off, size);
    },
  });

  const keysR = unpickle(bytes, main.end, file, plain);
  const keys = keysR.value;
  if (!Array.isArray(keys)) throw new PthError(file, `storage key list is ${describe(keys)}, expected a list`);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Map<string, Uint8Array>();
  let p = keysR.end;
  for (const k of keys) {
    const key = String(k);
    const root = roots.get(key);
    if (!root) throw new PthError(file, `storage '${key}' in the data section is not used by any tensor`);
    if (p + 8 > bytes.length) throw new PthError(file, `truncated file: storage '${key}' header missing at offset ${p}`);
    const numel = view.getBigUint64(p, true);
    const nbytes = numel * BigInt(DTYPES[root.dtype].size);
    if (BigInt(p + 8) + nbytes > BigInt(bytes.length)) {
      throw new PthError(file, `truncated file: storage '${key}' needs ${nbytes} bytes at offset ${p + 8}, file has ${bytes.length}`);
    }
    data.set(key, bytes.subarray(p + 8, p + 8 + Number(nbytes)));
    p += 8 + Number(nbytes);
  }

  return materialize(main.value, file, (key) => {
    const b = data.get(key);
    if (!b) throw new PthError(file, `storage '${key}' is missing from the data section`);
    return b;
  });
}
