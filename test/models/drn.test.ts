// DRN-D-105 (segment.py's DRNSeg) against a seeded Python model of the published architecture
// (test/fixtures/drn/make_fixture.py), its state dict loaded here by its own keys.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { drnSegmenter } from '../../src/eval/segmentation/segmenter.js';
import { cityscapesTrainId, DrnSegD105 } from '../../src/models/drn.js';
import { dispose, loadTensorDict, noGrad } from '../../src/torch/index.js';
import { pythonTorchMissing, PY } from './helpers.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'drn', 'make_fixture.py');
const skip = pythonTorchMissing();
let dir = '';

before(() => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'p2phd-drn-'));
  const r = spawnSync(PY, [SCRIPT, dir], { encoding: 'utf-8', timeout: 600_000 });
  assert.equal(r.status, 0, `make_fixture.py failed:\n${r.stderr}`);
});
after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

test('DRN-D-105 class scores match the Python model within 1e-4 (48×64 input)', { skip }, () => {
  const net = DrnSegD105.load(path.join(dir, 'drn-d-105_ms_cityscapes.pth'));
  const io = loadTensorDict(path.join(dir, 'io.pth'));
  try {
    const scores = noGrad(() => net.forward(io.get('input')!));
    const expected = io.get('scores')!;
    assert.deepEqual(scores.shape, [1, 19, 48, 64]);
    const a = scores.toFloat32Array();
    const b = expected.toFloat32Array();
    let scale = 0;
    for (const v of b) scale = Math.max(scale, Math.abs(v));
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    assert.ok(scale > 0.1, `the reference scores are not trivially small (max |score| ${scale})`);
    assert.ok(worst <= 1e-4 * Math.max(1, scale), `worst difference ${worst} (max |score| ${scale})`);
    scores.dispose();
    // As eval uses it: any picture size (padded to a multiple of 8 inside), one train id per pixel.
    const seg = drnSegmenter(net);
    const picture = { rgb: Uint8Array.from({ length: 30 * 41 * 3 }, (_, i) => (i * 37) % 256), width: 41, height: 30 };
    const predicted = seg.predict(picture);
    assert.equal(predicted.length, 30 * 41);
    assert.ok(predicted.every((c) => c >= 0 && c < 19));
    assert.deepEqual([...seg.target([7, 26, 0, 33])], [0, 13, 255, 18]);
  } finally {
    net.dispose();
    dispose(io);
  }
});

test('a state dict of another network is refused with the keys it lacks; DataParallel prefixes are accepted', { skip }, () => {
  const file = loadTensorDict(path.join(dir, 'drn-d-105_ms_cityscapes.pth'));
  try {
    const prefixed = new Map([...file].map(([k, v]) => [`module.${k}`, v]));
    DrnSegD105.fromStateDict(prefixed).dispose();
    const partial = new Map([...file].filter(([k]) => !k.startsWith('base.5.')));
    assert.throws(() => DrnSegD105.fromStateDict(partial, 'x.pth'), /x\.pth is not a DRN-D-105 segmenter.*lacks base\.5\.0\.conv1\.weight/);
  } finally {
    dispose(file);
  }
});

test('Cityscapes label ids map to the 19 train ids, everything else to the ignore label', () => {
  assert.deepEqual([7, 8, 11, 23, 24, 26, 33].map(cityscapesTrainId), [0, 1, 2, 10, 11, 13, 18]);
  assert.deepEqual([0, 1, 6, 9, 10, 14, 15, 16, 29, 30, 34, -1].map(cityscapesTrainId), Array(12).fill(255));
});
