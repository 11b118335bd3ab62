// Cluster files: our JSON (written, read back, checked against a run) and the official
// features_clustered_010.npy (np.save of a dict of numpy arrays, read through the pickle reader).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  checkClustersFitRun, clusterFileNames, readClusterFile, resolveClusterPath, writeClusterFile, type FeatureClusters,
} from '../../src/features/cluster-file.js';
import { readNpy, readNpyFile } from '../../src/features/npy.js';
import { PyDict } from '../../src/torch/pth/types.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'features');
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as { official_clusters: Record<string, number[][]> };

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'p2phd-clusters-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const sample = (): FeatureClusters => ({
  feat_num: 3, label_nc: 35, n_clusters: 10, grouping: 'instance', min_area: 0.5, seed: 0,
  classes: new Map([
    [26, { centers: [[0.1, 0.2, 0.3], [-0.5, 0, 1]], counts: [4, 2], swatches: [[190, 30, 35], null] }],
    [24, { centers: [[0, 0, 0]], counts: [1], swatches: [[1, 2, 3]] }],
  ]),
});

test('the official features_clustered .npy (written by numpy) reads as its dict of centres: float64, float32, Fortran order', () => {
  const c = readClusterFile(join(FIXTURES, 'official_clusters.npy'));
  assert.equal(c.feat_num, 3);
  assert.equal(c.label_nc, null);
  assert.deepEqual([...c.classes.keys()], [11, 24, 26]);
  for (const [label, rows] of Object.entries(expected.official_clusters)) {
    assert.deepEqual(c.classes.get(Number(label))!.centers, rows, `class ${label}`);
  }
  assert.equal(c.classes.get(26)!.swatches, undefined);
});

test('plain numeric .npy arrays read with their shape, little- and big-endian', () => {
  const a = readNpyFile(join(FIXTURES, 'plain_f4.npy')) as { shape: number[]; data: number[]; dtype: string };
  assert.deepEqual(a.shape, [2, 3]);
  assert.equal(a.dtype, '<f4');
  assert.deepEqual(a.data, [0, 0.25, 0.5, 0.75, 1, 1.25]);
  const b = readNpyFile(join(FIXTURES, 'plain_f8_be.npy')) as { shape: number[]; data: number[] };
  assert.deepEqual(b.data, [-1.5, -0.5, 0.5, 1.5]);
});

/** A .npy as Python 2's numpy wrote it: protocol 2, GLOBAL numpy.core.multiarray, the raw data as a py2 str. */
function python2Npy(): Uint8Array {
  const ascii = (s: string) => [...Buffer.from(s, 'latin1')];
  const global = (m: string, n: string) => [0x63, ...ascii(`${m}\n${n}\n`)];
  const binstring = (b: number[]) => [0x55, b.length, ...b];
  const dtype = (name: string, order: string) => [
    ...global('numpy', 'dtype'), 0x28, ...binstring(ascii(name)), 0x4b, 0, 0x4b, 1, 0x74, 0x52,
    0x28, 0x4b, 3, ...binstring(ascii(order)), 0x4e, 0x4e, 0x4e, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4b, 0, 0x74, 0x62,
  ];
  const reconstruct = [...global('numpy.core.multiarray', '_reconstruct'), 0x28, ...global('numpy', 'ndarray'), 0x4b, 0, 0x85, ...binstring(ascii('b')), 0x74, 0x52];
  // Two float64 centres, (0.5, -2, 3) and (1e-3, 0, 255): bytes include 0x80–0xff, not UTF-8.
  const values = new Float64Array([0.5, -2, 3, 1e-3, 0, 255]);
  const raw = [...new Uint8Array(values.buffer)];
  const centres = [...reconstruct, 0x28, 0x4b, 1, 0x4b, 2, 0x4b, 3, 0x86, ...dtype('f8', '<'), 0x89, ...binstring(raw), 0x74, 0x62];
  const dict = [0x7d, 0x4b, 26, ...centres, 0x73];
  const pickle = [0x80, 2, ...reconstruct, 0x28, 0x4b, 1, 0x29, ...dtype('O8', '|'), 0x89, 0x5d, ...dict, 0x61, 0x74, 0x62, 0x2e];
  let header = "{'descr': '|O', 'fortran_order': False, 'shape': (), }";
  while ((10 + header.length + 1) % 16 !== 0) header += ' ';
  header += '\n';
  return Uint8Array.from([0x93, ...ascii('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8, ...ascii(header), ...pickle]);
}

test('a Python 2 numpy file (numpy.core names, raw data in a py2 str) reads as numpy.load(encoding="latin1") does', () => {
  const v = readNpy(python2Npy(), 'py2.npy');
  assert.ok(v instanceof PyDict);
  const a = v.get(26) as unknown as { shape: number[]; data: number[] };
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual(a.data, [0.5, -2, 3, 1e-3, 0, 255]);
});

test('our JSON cluster file round-trips, is documented by its own fields, and is deterministic text', (t) => {
  const dir = tmp(t);
  const file = join(dir, clusterFileNames(10).json);
  assert.equal(clusterFileNames(10).json, 'features_clustered_010.json');
  writeClusterFile(file, sample());
  const text = readFileSync(file, 'utf8');
  const json = JSON.parse(text);
  assert.equal(json.format, 'pix2pixhd-ts feature clusters');
  assert.deepEqual(Object.keys(json.classes), ['24', '26']);
  const back = readClusterFile(file);
  assert.deepEqual(back.classes.get(26), sample().classes.get(26));
  assert.equal(back.feat_num, 3);
  writeClusterFile(file, back);
  assert.equal(readFileSync(file, 'utf8'), text);
});

test('a cluster file for another feat_num, label_nc or grouping is refused naming both values', (t) => {
  const c = sample();
  assert.throws(() => checkClustersFitRun(c, { feat_num: 4, label_nc: 35 }), /feat_num 3, the run uses feat_num 4/);
  assert.throws(() => checkClustersFitRun(c, { feat_num: 3, label_nc: 20 }), /label_nc 35 classes, the run has label_nc 20/);
  assert.throws(() => checkClustersFitRun(c, { feat_num: 3, label_nc: 35, label_feat: true }), /instance features, the run uses label features/);
  checkClustersFitRun(c, { feat_num: 3, label_nc: 35 });
  // An official file (no label_nc) is checked by its class ids.
  const official = readClusterFile(join(FIXTURES, 'official_clusters.npy'));
  assert.throws(() => checkClustersFitRun(official, { feat_num: 3, label_nc: 20 }), /class ids 24, 26 are not below the run's label_nc 20/);
  assert.throws(() => checkClustersFitRun(official, { feat_num: 5, label_nc: 35 }), /feat_num 3, the run uses feat_num 5/);

  const dir = tmp(t);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ format: 'pix2pixhd-ts feature clusters', version: 1, feat_num: 3, label_nc: 35, classes: { 26: { centers: [[1, 2]] } } }));
  assert.throws(() => readClusterFile(bad), /class 26, centre 0: expected 3 finite numbers/);
  writeFileSync(bad, JSON.stringify({ format: 'pix2pixhd-ts feature clusters', version: 1, feat_num: 3, label_nc: 20, classes: { 26: { centers: [[1, 2, 3]] } } }));
  assert.throws(() => readClusterFile(bad), /class 26 is not below the file's label_nc 20/);
  writeFileSync(bad, '{"hello": 1}');
  assert.throws(() => readClusterFile(bad), /not a feature cluster file/);
  writeFileSync(bad, 'garbage');
  assert.throws(() => readClusterFile(bad), /not valid JSON .* and not a \.npy file/);
});

test('--cluster_path resolves in the run folder, falls back from the official .npy name to our JSON, and lists what was looked for', (t) => {
  const dir = tmp(t);
  assert.throws(() => resolveClusterPath(dir, 'features_clustered_010.npy'), /no feature clusters at .*features_clustered_010\.npy.*features_clustered_010\.json.*encode-features/s);
  writeClusterFile(join(dir, 'features_clustered_010.json'), sample());
  assert.equal(resolveClusterPath(dir, 'features_clustered_010.npy'), join(dir, 'features_clustered_010.json'));
  writeFileSync(join(dir, 'features_clustered_010.npy'), readFileSync(join(FIXTURES, 'official_clusters.npy')));
  assert.equal(resolveClusterPath(dir, 'features_clustered_010.npy'), join(dir, 'features_clustered_010.npy'));
  assert.equal(resolveClusterPath('/elsewhere', join(FIXTURES, 'official_clusters.npy')), join(FIXTURES, 'official_clusters.npy'));
});
