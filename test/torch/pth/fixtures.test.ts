import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { crc32, crc32Js } from '../../../src/torch/pth/crc32.js';
import { ZipReader } from '../../../src/torch/pth/zip-reader.js';
import { detectPthFormat, isRawTensor, PyDict, readPth, readPthFile, type RawTensor } from '../../../src/torch/pth/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.join(here, '..', '..', 'fixtures', 'pix2pixhd-reference');

interface TensorStats {
  shape: number[];
  sum: number;
  abs_sum: number;
  first: number[];
}
interface Manifest {
  files: Record<string, { format: 'zip' | 'legacy'; tensors: Record<string, TensorStats> }>;
}
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf-8')) as Manifest;

function stats(t: RawTensor): { sum: number; absSum: number; first: number[] } {
  let sum = 0;
  let absSum = 0;
  const first: number[] = [];
  for (let i = 0; i < t.data.length; i++) {
    const x = Number(t.data[i]);
    sum += x;
    absSum += Math.abs(x);
    if (i < 4) first.push(x);
  }
  return { sum, absSum, first };
}

test('the manifest lists every .pth fixture', () => {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.pth')).sort();
  assert.deepEqual(files, Object.keys(manifest.files).sort());
  assert.ok(files.length >= 12);
});

for (const [file, spec] of Object.entries(manifest.files)) {
  test(`${file}: every tensor matches the manifest (shape, sum, abs_sum, first values)`, () => {
    const bytes = fs.readFileSync(path.join(dir, file));
    assert.equal(detectPthFormat(bytes, file), spec.format);
    const value = readPth(bytes, file);
    assert.ok(value instanceof PyDict, 'top level is a dict');
    assert.deepEqual([...value.keys()], Object.keys(spec.tensors), 'same keys in the same order');
    for (const [name, exp] of Object.entries(spec.tensors)) {
      const t = value.get(name);
      assert.ok(isRawTensor(t), `${name} is a tensor`);
      assert.deepEqual(t.shape, exp.shape, `${name} shape`);
      assert.equal(t.data.length, exp.shape.reduce((a, b) => a * b, 1), `${name} element count`);
      const s = stats(t);
      const tol = 1e-9 * Math.max(1, exp.abs_sum);
      assert.ok(Math.abs(s.sum - exp.sum) <= tol, `${name} sum ${s.sum} vs ${exp.sum}`);
      assert.ok(Math.abs(s.absSum - exp.abs_sum) <= tol, `${name} abs_sum ${s.absSum} vs ${exp.abs_sum}`);
      assert.deepEqual(s.first, exp.first.slice(0, s.first.length), `${name} first values`);
    }
  });
}

test('state dicts come back as OrderedDict with their _metadata', () => {
  const sd = readPthFile(path.join(dir, 'global_G.pth'));
  assert.ok(sd instanceof PyDict);
  assert.equal(sd.ordered, true);
  const meta = sd.attrs?.get('_metadata');
  assert.ok(meta instanceof PyDict && meta.ordered, '_metadata kept as an OrderedDict');
  assert.ok(meta.has(''), 'root module entry');
  const inputs = readPthFile(path.join(dir, 'inputs.pth')) as PyDict;
  const label = inputs.get('label') as RawTensor;
  assert.equal(label.dtype, 'int64', 'label ids are int64');
  assert.ok(label.data instanceof BigInt64Array);
  assert.equal((inputs.get('real_image') as RawTensor).dtype, 'float32');
});

test('global_G_legacy.pth gives exactly the same tensors as global_G.pth', () => {
  const zip = readPthFile(path.join(dir, 'global_G.pth')) as PyDict;
  const legacy = readPthFile(path.join(dir, 'global_G_legacy.pth')) as PyDict;
  assert.equal(detectPthFormat(fs.readFileSync(path.join(dir, 'global_G_legacy.pth'))), 'legacy');
  assert.deepEqual([...legacy.keys()], [...zip.keys()]);
  assert.ok(zip.size > 0);
  for (const [key, a] of zip) {
    const k = String(key);
    const b = legacy.get(k);
    assert.ok(isRawTensor(a) && isRawTensor(b), k);
    assert.equal(b.dtype, a.dtype, k);
    assert.deepEqual(b.shape, a.shape, k);
    assert.deepEqual(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength),
      Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength), `${k} bit-identical`);
  }
});

test('CRC-32: check value, and the CRCs PyTorch stored for every fixture entry', () => {
  assert.equal(crc32Js(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32Js(new Uint8Array(0)), 0);
  let checked = 0;
  for (const file of Object.keys(manifest.files)) {
    if (manifest.files[file]!.format !== 'zip') continue;
    const zip = new ZipReader(fs.readFileSync(path.join(dir, file)), file);
    for (const e of zip.entries.values()) {
      assert.equal(crc32Js(zip.read(e.name, false)), e.crc32, `${file} ${e.name}`);
      checked++;
    }
  }
  assert.ok(checked > 100);
});
