// Between engine tensors and .pth files: state dicts (and any dict of tensors) load into Tensors
// and save as PyTorch's zip format, readable by torch.load.
import { native } from './native.js';
import { isRawTensor, PyDict, readPthFile, writePthFile, type PyValue, type RawTensor } from './pth/index.js';
import { Tensor } from './tensor.js';

/** A Tensor holding a copy of a RawTensor read from a .pth file. */
export function tensorFromRaw(raw: RawTensor, device?: string): Tensor {
  return new Tensor(native.fromArray(raw.data, raw.shape, raw.dtype, device));
}

/** Copies a RawTensor's elements into an existing tensor of the same shape (any device, dtype converted). */
export function copyFromRaw(t: Tensor, raw: RawTensor): void {
  native.copyFromArray(t.handle, raw.data, raw.dtype);
}

/** A contiguous CPU copy of a tensor, ready for writePth. */
export function tensorToRaw(t: Tensor): RawTensor {
  return { kind: 'tensor', dtype: t.dtype, shape: t.shape, data: t.toArray() };
}

/**
 * Reads a .pth holding a dict of tensors (a state dict, as the official code's
 * `torch.save(net.state_dict())`) into Tensors by key. A file holding anything else is an error
 * that names the file. The caller owns the tensors.
 */
export function loadTensorDict(path: string, device?: string): Map<string, Tensor> {
  const value = readPthFile(path);
  if (!(value instanceof PyDict)) {
    throw new Error(`${path}: expected a dict of tensors (a state dict), found ${describeValue(value)}`);
  }
  const out = new Map<string, Tensor>();
  for (const [k, v] of value) {
    if (!isRawTensor(v)) {
      for (const t of out.values()) t.dispose();
      throw new Error(`${path}: entry '${String(k)}' is ${describeValue(v)}, not a tensor`);
    }
    out.set(String(k), tensorFromRaw(v, device));
  }
  return out;
}

/**
 * Reads a state dict .pth as raw tensors by key (no engine tensors made): for loading straight
 * into a module with `loadStateDict`, which copies each into its parameter. Errors name the file.
 */
export function readRawStateDict(path: string): Map<string, RawTensor> {
  const value = readPthFile(path);
  if (!(value instanceof PyDict)) {
    throw new Error(`${path}: expected a dict of tensors (a state dict), found ${describeValue(value)}`);
  }
  const out = new Map<string, RawTensor>();
  for (const [k, v] of value) {
    if (!isRawTensor(v)) throw new Error(`${path}: entry '${String(k)}' is ${describeValue(v)}, not a tensor`);
    out.set(String(k), v);
  }
  return out;
}

/** Writes tensors by key as an OrderedDict (crash-safe: temporary file, then rename). */
export function saveTensorDict(path: string, tensors: ReadonlyMap<string, Tensor>): void {
  const dict = PyDict.ordered([...tensors].map(([k, t]) => [k, tensorToRaw(t)] as [string, PyValue]));
  writePthFile(path, dict);
}

function describeValue(v: PyValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a list';
  if (isRawTensor(v)) return `a tensor of shape [${v.shape.join(', ')}]`;
  if (typeof v === 'object') return `a ${v.constructor.name}`;
  return `a ${typeof v}`;
}
