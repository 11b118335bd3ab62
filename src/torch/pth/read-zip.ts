import { PthError } from './errors.js';
import { materialize, parseStoragePid, StorageRef, unpickleTorch } from './torch-unpickler.js';
import type { UnpickleOptions } from './pickle-reader.js';
import type { PyValue } from './types.js';
import { ZipReader } from './zip-reader.js';

/** The archive folder (`<name>/`) of a torch zip checkpoint: the one folder holding `data.pkl`. */
export function archivePrefix(names: string[], file: string): string {
  const candidates = names.filter((n) => /^(?:[^/]+\/)?data\.pkl$/.test(n));
  const prefixes = [...new Set(candidates.map((n) => n.slice(0, n.length - 'data.pkl'.length)))];
  if (prefixes.length === 0) {
    throw new PthError(file, 'zip archive has no <archive>/data.pkl entry: not a torch.save checkpoint');
  }
  if (prefixes.length > 1) {
    throw new PthError(file, `zip archive has several data.pkl entries (${candidates.join(', ')})`);
  }
  return prefixes[0]!;
}

/** Read a checkpoint in the zip format torch.save has written since PyTorch 1.6. */
export function readZipPth(bytes: Uint8Array, file: string, options: UnpickleOptions = {}): PyValue {
  const zip = new ZipReader(bytes, file);
  const names = zip.names();
  const prefix = archivePrefix(names, file);

  for (const bo of [`${prefix}byteorder`, `${prefix}.data/byteorder`]) {
    if (zip.entries.has(bo)) {
      const order = new TextDecoder().decode(zip.read(bo)).trim();
      if (order !== 'little') throw new PthError(file, `unsupported byte order '${order}'`);
    }
  }

  const pkl = zip.read(`${prefix}data.pkl`);
  const { value } = unpickleTorch(pkl, 0, file, {
    ...options,
    context: `${prefix}data.pkl`,
    persistentLoad(pid: unknown) {
      const s = parseStoragePid(pid, [5]);
      return new StorageRef(s.dtype, s.key, 0, s.numel);
    },
  });

  const cache = new Map<string, Uint8Array>();
  return materialize(value, file, (key) => {
    let b = cache.get(key);
    if (!b) {
      b = zip.read(`${prefix}data/${key}`);
      cache.set(key, b);
    }
    return b;
  });
}
