// The legacy (pre-1.6) writer: `writePth(v, { format: 'legacy' })`. Round trips through our reader,
// the file's layout walked by hand, the headers byte for byte as torch writes them (the fixture
// global_G_legacy.pth was written by PyTorch), and — where /usr/bin/python3 imports torch —
// torch.load reading what we write.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { unpickle } from '../../../src/torch/pth/pickle-reader.js';
import { LEGACY_MAGIC } from '../../../src/torch/pth/legacy.js';
import { parseStoragePid, StorageRef, torchFindClass, unpickleTorch } from '../../../src/torch/pth/torch-unpickler.js';
import {
  detectPthFormat, isRawTensor, PthError, PyBytes, PyDict, PyFloat, pyFloat, PyTuple, readPth, readPthFile, tuple,
  writePth, writePthFile, type PyValue, type RawTensor,
} from '../../../src/torch/pth/index.js';

const FIXTURES = path.join(import.meta.dirname, '..', '..', 'fixtures', 'pix2pixhd-reference');
const PY = '/usr/bin/python3';

function pythonTorchMissing(): string | undefined {
  if (!fs.existsSync(PY)) return `${PY} not found: torch.load is not checked`;
  const r = spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf-8', timeout: 180_000 });
  if (r.status !== 0) return `python3 cannot import torch (install Debian's python3-torch): torch.load is not checked`;
  return undefined;
}

function t(dtype: RawTensor['dtype'], shape: number[], data: RawTensor['data'], requiresGrad = false): RawTensor {
  return { kind: 'tensor', dtype, shape, data, requiresGrad };
}

/** A state dict with every dtype, 0-dim and empty tensors, and the `_metadata` torch attaches. */
function stateDict(): PyDict {
  const sd = PyDict.ordered([
    ['conv.weight', t('float32', [2, 1, 2, 2], new Float32Array([0.5, -1, 2.25, 3, -0, 1e-30, Infinity, NaN]))],
    ['conv.bias', t('float64', [2], new Float64Array([Math.PI, -Math.E]))],
    ['h', t('float16', [3], new Uint16Array([0x3c00, 0xc000, 0x7c00]))],
    ['bf', t('bfloat16', [2], new Uint16Array([0x3f80, 0x4049]))],
    ['l', t('int64', [2, 2], new BigInt64Array([1n, -2n, 2n ** 62n, -(2n ** 63n)]))],
    ['i', t('int32', [2], new Int32Array([-7, 2 ** 31 - 1]))],
    ['s', t('int16', [1], new Int16Array([-300]))],
    ['c', t('int8', [2], new Int8Array([-128, 127]))],
    ['u', t('uint8', [2], new Uint8Array([0, 255]))],
    ['b', t('bool', [3], new Uint8Array([1, 0, 1]))],
    ['scalar', t('float32', [], new Float32Array([42]))],
    ['empty', t('float32', [0, 4], new Float32Array(0))],
    ['param', t('float32', [2], new Float32Array([1, 2]), true)],
  ]);
  sd.attrs = new Map([['_metadata', PyDict.ordered([['', PyDict.fromObject({ version: 1 })], ['conv', PyDict.fromObject({ version: 1 })]])]]);
  return sd;
}

function bits(x: RawTensor): Buffer {
  return Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength);
}

function assertSame(actual: PyValue, expected: PyValue, where = '<root>'): void {
  if (isRawTensor(expected)) {
    assert.ok(isRawTensor(actual), `${where}: tensor`);
    assert.equal(actual.dtype, expected.dtype, `${where}: dtype`);
    assert.deepEqual(actual.shape, expected.shape, `${where}: shape`);
    assert.deepEqual(bits(actual), bits(expected), `${where}: bits`);
    assert.equal(Boolean(actual.requiresGrad), Boolean(expected.requiresGrad), `${where}: requiresGrad`);
  } else if (expected instanceof PyDict) {
    assert.ok(actual instanceof PyDict, `${where}: dict`);
    assert.equal(actual.ordered, expected.ordered, `${where}: ordered`);
    assert.deepEqual([...actual.keys()], [...expected.keys()], `${where}: keys`);
    for (const [k, v] of expected) assertSame(actual.get(k)!, v, `${where}[${String(k)}]`);
    assert.equal(actual.attrs?.size ?? 0, expected.attrs?.size ?? 0, `${where}: attrs`);
    for (const [k, v] of expected.attrs ?? []) assertSame(actual.attrs!.get(k)!, v, `${where}.${k}`);
  } else if (expected instanceof PyTuple) {
    assert.ok(actual instanceof PyTuple, `${where}: tuple`);
    assert.equal(actual.length, expected.length, `${where}: length`);
    expected.items.forEach((x, i) => assertSame(actual.items[i]!, x, `${where}[${i}]`));
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${where}: list`);
    assert.equal(actual.length, expected.length, `${where}: length`);
    expected.forEach((x, i) => assertSame(actual[i]!, x, `${where}[${i}]`));
  } else if (expected instanceof PyFloat) {
    assert.ok(actual instanceof PyFloat, `${where}: float`);
    assert.ok(Object.is(actual.value, expected.value), `${where}: ${actual.value} vs ${expected.value}`);
  } else if (expected instanceof PyBytes) {
    assert.ok(actual instanceof PyBytes, `${where}: bytes`);
    assert.deepEqual([...actual.bytes], [...expected.bytes], `${where}: bytes`);
  } else {
    assert.ok(Object.is(actual, expected), `${where}: ${String(actual)} vs ${String(expected)}`);
  }
}

test('legacy round trip: every dtype, requires_grad, OrderedDict + _metadata', () => {
  const sd = stateDict();
  const bytes = writePth(sd, { format: 'legacy' });
  assert.equal(detectPthFormat(bytes), 'legacy');
  assertSame(readPth(bytes, 'legacy.pth'), sd);
  // The zip format is still the default.
  assert.equal(detectPthFormat(writePth(sd)), 'zip');
});

test('legacy round trip: nested containers, ints and floats, bytes, shared objects', () => {
  const shared = [1, 2];
  const tensor = t('float32', [2], new Float32Array([7, -7]));
  const v = new PyDict([
    ['big', 2n ** 70n], ['neg', -(2n ** 100n)], ['one', pyFloat(1)], ['lr', pyFloat(0.0002)], ['nan', pyFloat(NaN)],
    ['bytes', new PyBytes(Uint8Array.from([0, 1, 200, 255]))], ['nest', [tuple(), tuple(1, [tuple('a', null, true)]), []]],
    ['a', shared], ['b', shared], ['t1', tensor], ['t2', tensor], [-3, 'int key'],
    ['many', Array.from({ length: 1500 }, (_, i) => t('int16', [1], new Int16Array([i])))],
  ]);
  const bytes = writePth(v, { format: 'legacy' });
  const back = readPth(bytes, 'misc.pth', { wrapFloats: true }) as PyDict;
  assertSame(back, v);
  assert.equal(back.get('a'), back.get('b'), 'a shared list stays shared');
  assert.equal(back.get('t1'), back.get('t2'), 'a shared tensor stays shared');
});

interface Walked {
  headers: PyValue[];
  /** Each storage's persistent id as [type, key, location, numel, view_metadata]. */
  pids: unknown[][];
  keys: string[];
  /** Where the storage data section starts. */
  dataStart: number;
}

/** Walks a legacy file: three header pickles, the object pickle, the key list. */
function walkLegacy(bytes: Uint8Array): Walked {
  const plain = { findClass: torchFindClass };
  const headers: PyValue[] = [];
  let p = 0;
  for (let i = 0; i < 3; i++) {
    const r = unpickle(bytes, p, 'walk', plain);
    headers.push(r.value as PyValue);
    p = r.end;
  }
  const pids: unknown[][] = [];
  const main = unpickleTorch(bytes, p, 'walk', {
    persistentLoad(pid: unknown) {
      const items = (pid as PyTuple).items;
      pids.push(items.slice(1));
      const s = parseStoragePid(pid, [6]);
      return new StorageRef(s.dtype, s.key, 0, s.numel);
    },
  });
  const keysR = unpickle(bytes, main.end, 'walk', plain);
  return { headers, pids, keys: keysR.value as string[], dataStart: keysR.end };
}

test('legacy layout: magic, protocol 1001, sys_info, sorted storage keys, int64 counts, nothing after', () => {
  // 12 tensors: keys '0'…'11' sorted as strings, as torch sorts them.
  const sizes = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8];
  const sd = PyDict.ordered(sizes.map((n, i) => [`w${i}`, t('float64', [n], Float64Array.from({ length: n }, (_, j) => i + j / 10))]));
  const bytes = writePth(sd, { format: 'legacy' });
  const w = walkLegacy(bytes);
  assert.equal(w.headers[0], LEGACY_MAGIC);
  assert.equal(w.headers[1], 1001);
  const info = w.headers[2] as PyDict;
  assert.equal(info.get('protocol_version'), 1001);
  assert.equal(info.get('little_endian'), true);
  assert.deepEqual([...(info.get('type_sizes') as PyDict)], [['short', 2], ['int', 4], ['long', 4]]);
  assert.deepEqual(w.keys, sizes.map((_, i) => String(i)).sort());
  // ('storage', torch.DoubleStorage, key, 'cpu', numel, None) per tensor, in the object's order.
  assert.equal(w.pids.length, sizes.length);
  w.pids.forEach((pid, i) => {
    assert.equal(pid.length, 5);
    assert.equal((pid[0] as { module: string; name: string }).name, 'DoubleStorage');
    assert.deepEqual(pid.slice(1), [String(i), 'cpu', sizes[i], null]);
  });
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = w.dataStart;
  for (const key of w.keys) {
    const n = sizes[Number(key)]!;
    assert.equal(dv.getBigInt64(p, true), BigInt(n), `storage ${key}: element count`);
    const values = new Float64Array(bytes.slice(p + 8, p + 8 + 8 * n).buffer);
    assert.deepEqual([...values], Array.from({ length: n }, (_, j) => Number(key) + j / 10), `storage ${key}: values`);
    p += 8 + 8 * n;
  }
  assert.equal(p, bytes.length, 'the file ends after the last storage');
});

test('the magic number and protocol pickles are byte for byte those of torch.save; a torch-written file rewritten reads the same', () => {
  const fixture = path.join(FIXTURES, 'global_G_legacy.pth');
  const theirs = fs.readFileSync(fixture);
  const sd = readPthFile(fixture, { wrapFloats: true }) as PyDict;
  const ours = writePth(sd, { format: 'legacy' });
  // PROTO 2, LONG1 (10 bytes) the magic number, STOP; PROTO 2, BININT2 1001, STOP.
  const firstTwo = 2 + 2 + 10 + 1 + 2 + 3 + 1;
  assert.deepEqual(Buffer.from(ours.subarray(0, firstTwo)), theirs.subarray(0, firstTwo));
  const back = readPth(ours, 'rewritten.pth', { wrapFloats: true }) as PyDict;
  assertSame(back, sd);
  assert.ok(back.attrs?.has('_metadata'), 'the state dict keeps its _metadata');
  // The same size give or take the pickles' memo entries and storage key names.
  assert.ok(Math.abs(ours.length - theirs.length) < 4096, `${ours.length} vs ${theirs.length} bytes`);
});

test('writePthFile with format legacy: written atomically, no temporary left behind', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pth-legacy-'));
  try {
    const file = path.join(dir, 'latest_net_G.pth');
    writePthFile(file, stateDict(), { format: 'legacy' });
    assert.equal(detectPthFormat(fs.readFileSync(file)), 'legacy');
    assertSame(readPthFile(file), readPth(writePth(stateDict()), 'zip.pth'));
    assert.deepEqual(fs.readdirSync(dir), ['latest_net_G.pth']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('legacy write errors are PthErrors', () => {
  assert.throws(() => writePth(PyDict.ordered([['w', t('float32', [3], new Float32Array(2))]]), { format: 'legacy' }),
    (e: unknown) => e instanceof PthError && /needs 3 elements, data has 2/.test(e.message));
  assert.throws(() => writePth(new PyDict([['x', new Date() as never]]), { format: 'legacy' }),
    (e: unknown) => e instanceof PthError && /cannot pickle Date/.test(e.message));
  assert.throws(() => writePth(new PyDict(), { format: 'tar' as never }), (e: unknown) => e instanceof PthError && /unknown format 'tar'/.test(e.message));
});

const PY_LOAD = String.raw`
import json, sys, torch, pickle
f = sys.argv[1]
with open(f, 'rb') as fh:
    head = fh.read(2)
sd = torch.load(f)
meta = getattr(sd, '_metadata', None)
out = {
    'zipfile': torch.serialization._is_zipfile(open(f, 'rb')),
    'type': type(sd).__name__,
    'metadata': None if meta is None else {k: dict(v) for k, v in meta.items()},
    'tensors': [[k, str(v.dtype), list(v.shape), bool(v.requires_grad),
                 [x if x == x and abs(x) != float('inf') else repr(x) for x in v.double().flatten().tolist()]]
                for k, v in sd.items()],
}
# A module loads it as a state dict.
conv = torch.nn.Conv2d(1, 2, 2)
conv.load_state_dict({'weight': sd['conv.weight'], 'bias': sd['conv.bias'].float()})
print(json.dumps(out))
`;

test('torch.load reads the legacy files we write', { skip: pythonTorchMissing() }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pth-legacy-py-'));
  try {
    const file = path.join(dir, 'legacy.pth');
    const sd = stateDict();
    writePthFile(file, sd, { format: 'legacy' });
    const r = spawnSync(PY, ['-c', PY_LOAD, file], { encoding: 'utf-8', timeout: 300_000 });
    assert.equal(r.status, 0, `python failed:\n${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      zipfile: boolean; type: string; metadata: Record<string, Record<string, number>>; tensors: [string, string, number[], boolean, (number | string)[]][];
    };
    assert.equal(out.zipfile, false, 'torch sees the legacy format');
    assert.equal(out.type, 'OrderedDict');
    assert.deepEqual(out.metadata, { '': { version: 1 }, conv: { version: 1 } });
    const jsValue = (x: number): number | string => (Number.isNaN(x) ? 'nan' : x === Infinity ? 'inf' : x === -Infinity ? '-inf' : x);
    const expected = [...sd].map(([k, v]) => {
      const x = v as RawTensor;
      let values: number[];
      if (x.dtype === 'float16' || x.dtype === 'bfloat16') {
        values = x.dtype === 'bfloat16'
          ? [...(x.data as Uint16Array)].map((b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]!)
          : [1, -2, Infinity]; // 0x3c00, 0xc000, 0x7c00
      } else if (x.data instanceof BigInt64Array) values = [...x.data].map(Number);
      else values = [...(x.data as Float32Array)];
      return [k, `torch.${x.dtype}`, x.shape, Boolean(x.requiresGrad), values.map(jsValue)];
    });
    assert.deepEqual(out.tensors, expected);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
