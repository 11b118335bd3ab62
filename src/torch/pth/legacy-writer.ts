// Writing the legacy (pre-1.6, non-zip) serialization: the format of checkpoints saved before
// PyTorch 1.6, the published pretrained pix2pixHD models among them. `readLegacyPth` (legacy.ts)
// reads it back; torch.load reads it in every PyTorch version since 0.4.
//
// The file is a run of pickles (protocol 2) followed by raw storage bytes:
//   1. the magic number 0x1950a86a20f9469cfc6c (a Python int);
//   2. the protocol version, 1001;
//   3. sys_info: {'protocol_version': 1001, 'little_endian': True,
//                 'type_sizes': {'short': 2, 'int': 4, 'long': 4}};
//   4. the object, each tensor's storage as the persistent id
//      ('storage', torch.<T>Storage, key, 'cpu', numel, None);
//   5. the list of storage keys, sorted as strings (torch sorts them);
//   6. for each key in that order, the element count as int64 little-endian, then the bytes.
import { LEGACY_MAGIC, LEGACY_PROTOCOL_VERSION } from './legacy.js';
import { pickleTorch, type StorageRecord } from './pickle-writer.js';
import { PyDict, type PyValue } from './types.js';

/**
 * The sizes torch records in sys_info: Python's struct standard sizes ('=h', '=i', '=l'), the
 * same on every platform (a torch.save'd file says 'long': 4 on 64-bit Linux too).
 */
const TYPE_SIZES = { short: 2, int: 4, long: 4 } as const;

function plainPickle(value: PyValue): Uint8Array {
  const p = pickleTorch(value);
  if (p.storages.length) throw new Error('internal: a header pickle holds a tensor');
  return p.pickle;
}

function compareKeys(a: StorageRecord, b: StorageRecord): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * The legacy format as a list of chunks to be written in order. Storage payloads are passed
 * through as views of the tensors' data (no copy), so a checkpoint of any size costs only its
 * pickles in extra memory. Throws a plain Error for values that cannot be pickled.
 */
export function legacyPthChunks(value: PyValue): Uint8Array[] {
  const sysInfo = PyDict.fromObject({
    protocol_version: LEGACY_PROTOCOL_VERSION,
    little_endian: true,
    type_sizes: PyDict.fromObject({ ...TYPE_SIZES }),
  });
  const main = pickleTorch(value, { storageIds: 'legacy' });
  const storages = [...main.storages].sort(compareKeys);
  const chunks: Uint8Array[] = [
    plainPickle(LEGACY_MAGIC),
    plainPickle(LEGACY_PROTOCOL_VERSION),
    plainPickle(sysInfo),
    main.pickle,
    plainPickle(storages.map((s) => s.key)),
  ];
  for (const s of storages) {
    const header = new Uint8Array(8);
    new DataView(header.buffer).setBigInt64(0, BigInt(s.numel), true);
    chunks.push(header, s.bytes);
  }
  return chunks;
}
