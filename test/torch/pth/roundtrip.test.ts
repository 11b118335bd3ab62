import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { ZipReader } from '../../../src/torch/pth/zip-reader.js';
import { concatChunks, zipStoredChunks } from '../../../src/torch/pth/zip-writer.js';
import {
  isRawTensor, PyBytes, PyDict, PyFloat, pyFloat, PyTuple, readPth, readPthFile, tuple, writePth, writePthFile,
  type PyValue, type RawTensor,
} from '../../../src/torch/pth/index.js';

function t(dtype: RawTensor['dtype'], shape: number[], data: RawTensor['data']): RawTensor {
  return { kind: 'tensor', dtype, shape, data };
}

function allDTypes(): PyDict {
  return PyDict.ordered([
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
  ]);
}

/** Compares a read-back value with what was written (tensors bit-exactly). */
function assertSame(actual: PyValue, expected: PyValue, where = '<root>'): void {
  if (isRawTensor(expected)) {
    assert.ok(isRawTensor(actual), `${where}: tensor`);
    assert.equal(actual.dtype, expected.dtype, `${where}: dtype`);
    assert.deepEqual(actual.shape, expected.shape, `${where}: shape`);
    assert.equal(actual.data.constructor, expected.data.constructor, `${where}: array type`);
    assert.deepEqual(Buffer.from(actual.data.buffer, actual.data.byteOffset, actual.data.byteLength),
      Buffer.from(expected.data.buffer, expected.data.byteOffset, expected.data.byteLength), `${where}: bits`);
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
    assert.equal(actual.length, expected.length);
    expected.items.forEach((x, i) => assertSame(actual.items[i]!, x, `${where}[${i}]`));
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${where}: list`);
    assert.equal(actual.length, expected.length);
    expected.forEach((x, i) => assertSame(actual[i]!, x, `${where}[${i}]`));
  } else if (expected instanceof PyFloat) {
    assert.equal(actual, expected.value, where);
  } else if (expected instanceof PyBytes) {
    assert.ok(actual instanceof PyBytes, `${where}: bytes`);
    assert.deepEqual([...actual.bytes], [...expected.bytes]);
  } else {
    assert.equal(actual, expected, where);
  }
}

test('state dict round trip: every dtype, 0-dim and empty tensors, OrderedDict + _metadata', () => {
  const sd = allDTypes();
  const meta = PyDict.ordered([['', PyDict.fromObject({ version: 1 })]]);
  sd.attrs = new Map([['_metadata', meta]]);
  const back = readPth(writePth(sd), 'rt.pth');
  assertSame(back, sd);
  const nan = ((back as PyDict).get('conv.weight') as RawTensor).data[7] as number;
  assert.ok(Number.isNaN(nan));
});

test('optimizer-state-like dict round trip with int keys; ints stay ints, floats stay floats', () => {
  const expAvg = t('float32', [2, 2], new Float32Array([0.1, 0.2, 0.3, 0.4]));
  const opt = new PyDict([
    ['state', new PyDict([[0, new PyDict([['step', 3], ['exp_avg', expAvg]])]])],
    ['param_groups', [new PyDict([
      ['lr', 0.0002], ['betas', tuple(0.5, 0.999)], ['eps', 1e-8], ['weight_decay', 0],
      ['amsgrad', false], ['foreach', null], ['momentum', pyFloat(1)], ['params', [0]],
    ])]],
  ]);
  const bytes = writePth(opt);
  const back = readPth(bytes, 'opt.pth');
  assertSame(back, opt);
  const state = (back as PyDict).get('state') as PyDict;
  assert.deepEqual([...state.keys()], [0]);
  assert.equal(typeof [...state.keys()][0], 'number');

  const wrapped = readPth(bytes, 'opt.pth', { wrapFloats: true }) as PyDict;
  const g = (wrapped.get('param_groups') as PyValue[])[0] as PyDict;
  assert.equal(((wrapped.get('state') as PyDict).get(0) as PyDict).get('step'), 3, 'step is an int');
  assert.equal(g.get('weight_decay'), 0, 'weight_decay 0 is an int');
  assert.ok(g.get('lr') instanceof PyFloat, 'lr is a float');
  const m = g.get('momentum');
  assert.ok(m instanceof PyFloat && m.value === 1, 'pyFloat(1) is written as the float 1.0');
  const betas = g.get('betas') as PyTuple;
  assert.ok(betas.items.every((b) => b instanceof PyFloat));
});

test('other values: bigints, -0, NaN, bytes, nested lists/tuples, shared objects', () => {
  const shared = [1, 2];
  const tensor = t('float32', [1], new Float32Array([7]));
  const v = new PyDict([
    ['big', 2n ** 70n], ['neg', -(2n ** 100n)], ['minus0', -0], ['nan', NaN], ['huge', 2 ** 60],
    ['bytes', new PyBytes(Uint8Array.from([0, 1, 200, 255]))], ['empty_bytes', new PyBytes(new Uint8Array(0))],
    ['nest', [tuple(), tuple(1, [tuple('a', null, true)]), []]],
    ['a', shared], ['b', shared], ['t1', tensor], ['t2', tensor], [1.5, 'float key'], [-3, 'neg key'],
    ['many', Array.from({ length: 2500 }, (_, i) => i * 1000)],
  ]);
  const back = readPth(writePth(v), 'misc.pth') as PyDict;
  assertSame(back, v);
  assert.ok(Object.is(back.get('minus0'), -0));
  assert.equal(back.get('a'), back.get('b'), 'shared list stays shared');
  assert.equal(back.get('t1'), back.get('t2'), 'shared tensor stays shared');
  const zip = new ZipReader(writePth(v), 'misc.pth');
  assert.equal(zip.names().filter((n) => n.includes('/data/')).length, 1, 'a shared tensor is stored once');
});

test('zip layout: stored entries, payloads 64-byte aligned, version "3\\n", data.pkl first', () => {
  const bytes = writePth(allDTypes(), { archiveName: 'mymodel' });
  // Walk the local headers by hand.
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const names: string[] = [];
  let p = 0;
  while (dv.getUint32(p, true) === 0x04034b50) {
    assert.equal(dv.getUint16(p + 8, true), 0, 'stored');
    const size = dv.getUint32(p + 18, true);
    const nameLen = dv.getUint16(p + 26, true);
    const extraLen = dv.getUint16(p + 28, true);
    const name = Buffer.from(bytes.subarray(p + 30, p + 30 + nameLen)).toString();
    const dataStart = p + 30 + nameLen + extraLen;
    assert.equal(dataStart % 64, 0, `${name} payload aligned`);
    names.push(name);
    if (name === 'mymodel/version') assert.equal(Buffer.from(bytes.subarray(dataStart, dataStart + size)).toString(), '3\n');
    p = dataStart + size;
  }
  assert.equal(names[0], 'mymodel/data.pkl');
  assert.ok(names.includes('mymodel/version'));
  assert.equal(names.filter((n) => n.startsWith('mymodel/data/')).length, 12);
  // data.pkl is protocol 2
  assert.deepEqual([bytes[64], bytes[65]], [0x80, 2]);
});

test('zip64 records (forced) are read back', () => {
  const entries = [
    { name: 'z/data.pkl', data: Uint8Array.from([0x80, 2, 0x4b, 7, 0x2e]) },
    { name: 'z/version', data: Uint8Array.from([0x33, 0x0a]) },
  ];
  const bytes = concatChunks(zipStoredChunks(entries, { forceZip64: true }));
  const zip = new ZipReader(bytes, 'z64.pth');
  assert.deepEqual(zip.names(), ['z/data.pkl', 'z/version']);
  assert.equal(readPth(bytes, 'z64.pth'), 7);
});

test('writePthFile writes atomically: no temp file left, existing file untouched on failure', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pth-'));
  try {
    const file = path.join(dir, 'net_G.pth');
    const sd = allDTypes();
    writePthFile(file, sd);
    assertSame(readPthFile(file), sd);
    assert.deepEqual(fs.readdirSync(dir), ['net_G.pth']);
    const zip = new ZipReader(fs.readFileSync(file), file);
    assert.ok(zip.names().every((n) => n.startsWith('net_G/')), 'archive named after the file');

    const before = fs.readFileSync(file);
    const bad = PyDict.ordered([['w', t('float32', [3], new Float32Array(2))]]);
    assert.throws(() => writePthFile(file, bad), (e: Error) => e.message.includes('needs 3 elements'));
    assert.deepEqual(fs.readFileSync(file), before);
    assert.deepEqual(fs.readdirSync(dir), ['net_G.pth']);

    // An unwritable destination: the error names the path and no temp file is left behind.
    const sub = path.join(dir, 'missing-dir', 'x.pth');
    assert.throws(() => writePthFile(sub, sd), (e: Error) => e.message.startsWith(sub));
    assert.deepEqual(fs.readdirSync(dir), ['net_G.pth']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('writing invalid values is a clear error', () => {
  const cases: [unknown, RegExp][] = [
    [t('float32', [2], new Float64Array(2) as unknown as Float32Array), /Float32Array/],
    [t('int64', [1], new Int32Array(1) as unknown as BigInt64Array), /BigInt64Array/],
    [{ kind: 'tensor', dtype: 'complex64', shape: [1], data: new Float32Array(1) }, /dtype/],
    [t('float32', [-1], new Float32Array(0)), /shape/],
    [{ a: 1 }, /cannot pickle/],
    [undefined, /cannot pickle/],
    [new Map([['a', 1]]), /cannot pickle/],
  ];
  for (const [value, re] of cases) {
    assert.throws(() => writePth(PyDict.ordered([['x', value as PyValue]])), (e: Error) => re.test(e.message) && /\[\"x\"\]/.test(e.message),
      `${re}`);
  }
  const selfTuple = tuple(1);
  selfTuple.items.push([selfTuple]);
  assert.throws(() => writePth(selfTuple), /contains itself/);
  const selfList: PyValue[] = [];
  selfList.push(selfList);
  const back = readPth(writePth(selfList), 'cyc.pth') as PyValue[];
  assert.equal(back[0], back, 'a list containing itself round-trips');
});
