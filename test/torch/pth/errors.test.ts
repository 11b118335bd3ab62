import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PthError, PyDict, readPth, readPthFile, writePth, type RawTensor } from '../../../src/torch/pth/index.js';
import {
  APPEND, EMPTY_DICT, EMPTY_LIST, GLOBAL, MARK, PROTO, REDUCE, EMPTY_TUPLE, BININT1, BINUNICODE, SETITEM, STOP,
  pkl, zipPth,
} from './pickle-bytes.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, '..', '..', 'fixtures', 'pix2pixhd-reference');

/** The call throws a PthError whose message starts with `file` and matches `re`. */
function throwsNaming(fn: () => unknown, file: string, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PthError, `expected PthError, got ${String(e)}`);
    assert.ok(e.message.startsWith(`${file}: `), `message names the file: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

/** Reading either succeeds or throws a PthError naming the file — nothing else. */
function readsOrPthError(bytes: Uint8Array, file: string): 'ok' | 'error' {
  try {
    readPth(bytes, file);
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof PthError, `expected PthError, got ${(e as Error)?.stack ?? String(e)}`);
    assert.ok(e.message.startsWith(`${file}: `), e.message);
    return 'error';
  }
}

test('truncated zip file', () => {
  const bytes = fs.readFileSync(path.join(fixtures, 'global_G.pth'));
  throwsNaming(() => readPth(bytes.subarray(0, bytes.length >> 1), 'half.pth'), 'half.pth', /truncated|corrupt/);
  throwsNaming(() => readPth(bytes.subarray(0, bytes.length - 10), 'cut.pth'), 'cut.pth', /truncated|corrupt/);
});

test('truncated legacy file', () => {
  const bytes = fs.readFileSync(path.join(fixtures, 'global_G_legacy.pth'));
  throwsNaming(() => readPth(bytes.subarray(0, bytes.length - 1), 'leg.pth'), 'leg.pth', /truncated/);
  throwsNaming(() => readPth(bytes.subarray(0, 3000), 'leg.pth'), 'leg.pth', /truncated/);
  throwsNaming(() => readPth(bytes.subarray(0, 5), 'leg.pth'), 'leg.pth', /truncated/);
});

test('every truncation point of a small checkpoint is a clear error (zip and legacy)', () => {
  const sd = PyDict.ordered([
    ['w', { kind: 'tensor', dtype: 'float32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } as RawTensor],
    ['n', new PyDict([[0, [1, 'x', null]]])],
  ]);
  const zip = writePth(sd);
  for (let n = 0; n < zip.length; n++) assert.equal(readsOrPthError(zip.subarray(0, n), 'z.pth'), 'error', `cut at ${n}`);
  const legacy = fs.readFileSync(path.join(fixtures, 'global_G_legacy.pth'));
  for (let n = 0; n < legacy.length; n += n < 6000 ? 1 : 4099) {
    assert.equal(readsOrPthError(legacy.subarray(0, n), 'l.pth'), 'error', `cut at ${n}`);
  }
});

test('unsupported opcode names the opcode byte', () => {
  // 'I' (0x49, text INT) is not part of the supported subset
  const p = pkl(PROTO(2), [0x49, ...Buffer.from('12\n')], STOP);
  throwsNaming(() => readPth(zipPth(p), 'op.pth'), 'op.pth', /opcode 0x49/);
  throwsNaming(() => readPth(zipPth(pkl(PROTO(2), [0xff], STOP)), 'op.pth'), 'op.pth', /0xff/);
});

test('unsupported global class names module.name', () => {
  const p = pkl(PROTO(2), GLOBAL('numpy.core.multiarray', '_reconstruct'), EMPTY_TUPLE, REDUCE, STOP);
  throwsNaming(() => readPth(zipPth(p), 'np.pth'), 'np.pth', /numpy\.core\.multiarray\._reconstruct/);
  const q = pkl(PROTO(2), GLOBAL('__main__', 'MyNet'), EMPTY_TUPLE, REDUCE, STOP);
  throwsNaming(() => readPth(zipPth(q), 'model.pth'), 'model.pth', /__main__\.MyNet/);
  const s = pkl(PROTO(2), GLOBAL('torch', 'ComplexFloatStorage'), STOP);
  throwsNaming(() => readPth(zipPth(s), 'c.pth'), 'c.pth', /torch\.ComplexFloatStorage/);
});

test('not a pth at all', () => {
  throwsNaming(() => readPth(new TextEncoder().encode('hello, world\n'), 'hello.txt'), 'hello.txt', /not a PyTorch checkpoint/);
  throwsNaming(() => readPth(new Uint8Array(0), 'empty.pth'), 'empty.pth', /empty file/);
  // a zip without data.pkl
  const notTorch = zipPth(pkl(PROTO(2), BININT1(1), STOP), {}, 'x').slice();
  const renamed = Buffer.from(notTorch).toString('latin1').replaceAll('x/data.pkl', 'x/other.pk');
  throwsNaming(() => readPth(Buffer.from(renamed, 'latin1'), 'z.zip'), 'z.zip', /data\.pkl/);
  // a pickle that is not a torch checkpoint
  throwsNaming(() => readPth(pkl(PROTO(2), BININT1(1), STOP), 'p.pkl'), 'p.pkl', /magic number/);
  throwsNaming(() => readPthFile(path.join(fixtures, 'no-such-file.pth')), path.join(fixtures, 'no-such-file.pth'), /cannot read/);
});

test('corrupt zip: CRC mismatch and broken central directory', () => {
  const bytes = Uint8Array.from(fs.readFileSync(path.join(fixtures, 'E_out.pth')));
  const flipped = bytes.slice();
  flipped[5000] = flipped[5000]! ^ 0xff; // inside data/0
  throwsNaming(() => readPth(flipped, 'crc.pth'), 'crc.pth', /CRC/);
  const noEocd = bytes.slice(0, bytes.length - 22);
  throwsNaming(() => readPth(noEocd, 'eocd.pth'), 'eocd.pth', /corrupt|truncated/);
});

test('structural errors in pickles: stack underflow, missing MARK, bad memo, wrong types', () => {
  const cases: [Uint8Array, RegExp][] = [
    [pkl(PROTO(2), STOP), /stack underflow/],
    [pkl(PROTO(2), EMPTY_DICT, [0x75], STOP), /MARK/],
    [pkl(PROTO(2), [0x68, 9], STOP), /memo key 9/],
    [pkl(PROTO(2), EMPTY_LIST, BINUNICODE('k'), BININT1(1), SETITEM, STOP), /expected a dict/],
    [pkl(PROTO(2), EMPTY_DICT, BININT1(1), APPEND, STOP), /expected a list/],
    [pkl(PROTO(2), BININT1(1), EMPTY_TUPLE, REDUCE, STOP), /not callable/],
    [pkl(PROTO(2), EMPTY_DICT, EMPTY_LIST, BININT1(1), SETITEM, STOP), /key type list/],
    [pkl(PROTO(9), STOP), /protocol 9/],
    [pkl(PROTO(2), MARK, BININT1(1), [0x51], STOP), /persistent id/],
    [pkl(PROTO(2), [0x58, 0xff, 0xff, 0xff, 0x7f], STOP), /truncated/],
    [pkl(PROTO(2), GLOBAL('torch._utils', '_rebuild_tensor_v2'), BININT1(1), [0x85], REDUCE, STOP), /_rebuild_tensor_v2/],
  ];
  for (const [p, re] of cases) throwsNaming(() => readPth(zipPth(p), 'bad.pth'), 'bad.pth', re);
});

test('random corruption of data.pkl never escapes as anything but a PthError', () => {
  const original = fs.readFileSync(path.join(fixtures, 'global_G.pth'));
  // data.pkl is the first entry (local header at offset 0); PyTorch follows it with a data descriptor.
  const start = 30 + original.readUInt16LE(26) + original.readUInt16LE(28);
  const end = original.indexOf(Buffer.from('PK\x07\x08', 'latin1'), start);
  const dataPkl = Uint8Array.from(original.subarray(start, end));
  assert.deepEqual([dataPkl[0], dataPkl[1], dataPkl[dataPkl.length - 1]], [0x80, 2, 0x2e]);
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const storages: Record<string, Uint8Array> = {};
  for (let i = 0; i < 24; i++) storages[String(i)] = new Uint8Array(4 * 147456);
  let errors = 0;
  for (let iter = 0; iter < 300; iter++) {
    const p = dataPkl.slice();
    for (let k = 0; k < 1 + rand(4); k++) p[rand(p.length)] = rand(256);
    if (readsOrPthError(zipPth(p, storages), 'fuzz.pth') === 'error') errors++;
  }
  assert.ok(errors > 0, 'some corruptions are detected');
});

test('deep nesting is a clear error, not a stack overflow escaping', () => {
  const depth = 200_000;
  const parts: number[] = [0x80, 2];
  for (let i = 0; i < depth; i++) parts.push(0x5d);
  for (let i = 1; i < depth; i++) parts.push(0x61);
  parts.push(0x2e);
  const bytes = zipPth(Uint8Array.from(parts));
  readsOrPthError(bytes, 'deep.pth'); // asserts: success or a PthError naming the file
  let deep: unknown[] = [];
  for (let i = 0; i < depth; i++) deep = [deep];
  assert.throws(() => writePth(deep as never), (e: Error) => e instanceof PthError && /nested too deeply/.test(e.message));
});
