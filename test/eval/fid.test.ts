// FID and KID against an independent reference: test/fixtures/fid/make_fixture.py builds
// pytorch-fid's Inception in Python (torchvision's blocks, seeded random weights), and records its
// pool features, the statistics and FID it computes with scipy.linalg.sqrtm, and the KID computed
// directly in NumPy. Generated at test time (~100 MB of weights) where /usr/bin/python3 has torch,
// torchvision and scipy (scripts/setup.sh --test installs them).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fidCommand } from '../../src/cli/commands/fid.js';
import {
  activationStatistics, fidImageFiles, frechetDistance, inceptionFeatures, kernelInceptionDistance, loadStatistics, saveStatistics,
} from '../../src/eval/fid/index.js';
import { readNpy, type NpyArray } from '../../src/features/npy.js';
import { FidInceptionV3 } from '../../src/models/inception-fid.js';
import { dispose, loadTensorDict, scalarTensor, tensor, type Tensor } from '../../src/torch/index.js';
import { PY } from '../models/helpers.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'fid', 'make_fixture.py');

function referenceMissing(): string | undefined {
  if (!fs.existsSync(PY)) return `${PY} not found`;
  const r = spawnSync(PY, ['-c', 'import torch, torchvision, scipy, PIL'], { encoding: 'utf-8', timeout: 180_000 });
  return r.status === 0 ? undefined : `python3 lacks torch/torchvision/scipy: ${(r.stderr || '').trim().split('\n').pop()}`;
}
const skip = referenceMissing();

interface Reference {
  features: Record<string, number[]>;
  fid: number;
  kid_one_subset: number;
  fid_wide: number;
  kid_wide_one_subset: number;
}

let dir = '';
let ref: Reference;
let weights = '';

before(() => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'p2phd-fid-'));
  const r = spawnSync(PY, [SCRIPT, dir], { encoding: 'utf-8', timeout: 600_000 });
  assert.equal(r.status, 0, `make_fixture.py failed:\n${r.stderr}`);
  ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf-8')) as Reference;
  weights = path.join(dir, 'pt_inception-2015-12-05-6726825d.pth');
});
after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

function npyTensor(file: string): Tensor {
  const a = readNpy(new Uint8Array(fs.readFileSync(file)), file) as NpyArray;
  return tensor(Float32Array.from(a.data as number[]), a.shape);
}

test('FID Inception pool features match pytorch-fid\'s network within 1e-4 (two folders, mixed image sizes)', { skip }, async () => {
  const net = FidInceptionV3.load(weights);
  try {
    for (const folder of ['a', 'b']) {
      const files = fidImageFiles(path.join(dir, folder));
      assert.deepEqual(files.map((f) => path.basename(f)), ['img0.png', 'img1.png', 'img2.png']);
      const f = await inceptionFeatures(net, files, { batchSize: 2 });
      try {
        assert.deepEqual(f.shape, [3, 2048]);
        const ours = f.toFloat32Array();
        files.forEach((file, i) => {
          const expected = ref.features[`${folder}/${path.basename(file)}`]!;
          let worst = 0;
          for (let k = 0; k < 2048; k++) worst = Math.max(worst, Math.abs(ours[i * 2048 + k]! - expected[k]!) / Math.max(1, Math.abs(expected[k]!)));
          assert.ok(worst < 1e-4, `${folder}/${path.basename(file)}: worst feature error ${worst}`);
        });
      } finally {
        f.dispose();
      }
    }
  } finally {
    net.dispose();
  }
});

test('the weights load with and without BatchNorm num_batches_tracked entries; a file of another network is refused', { skip }, () => {
  const file = loadTensorDict(weights);
  try {
    assert.ok(![...file.keys()].some((k) => k.endsWith('num_batches_tracked')), 'the fixture has none, like the published file');
    const withCounters = new Map(file);
    for (const k of file.keys()) if (k.endsWith('.bn.running_var')) withCounters.set(k.replace('running_var', 'num_batches_tracked'), scalarTensor(7, { dtype: 'int64' }));
    const a = FidInceptionV3.fromStateDict(file);
    const b = FidInceptionV3.fromStateDict(withCounters);
    try {
      const key = 'Mixed_7c.branch_pool.bn.running_mean';
      assert.deepEqual(a.stateDict().get(key)!.toNumbers(), file.get(key)!.toNumbers());
      assert.deepEqual(b.stateDict().get(key)!.toNumbers(), file.get(key)!.toNumbers());
    } finally {
      a.dispose();
      b.dispose();
      for (const [k, t] of withCounters) if (!file.has(k)) t.dispose();
    }
    const partial = new Map([...file].filter(([k]) => !k.startsWith('Mixed_6')));
    assert.throws(() => FidInceptionV3.fromStateDict(partial, 'other.pth'), /other\.pth is not pytorch-fid's Inception.*lacks Mixed_6a/);
  } finally {
    dispose(file);
  }
});

test('Fréchet distance of well-conditioned pytorch-fid .npz statistics equals scipy.linalg.sqrtm\'s within 1e-6', { skip }, () => {
  const fid = frechetDistance(loadStatistics(path.join(dir, 'wide1.npz')), loadStatistics(path.join(dir, 'wide2.npz')));
  assert.ok(relErr(fid, ref.fid_wide) < 1e-6, `ours ${fid}, scipy ${ref.fid_wide}`);
});

test('FID from pytorch-fid\'s own 2048-d statistics files (3 images each, singular covariances) is within 1e-3 of scipy\'s', { skip }, () => {
  const fid = frechetDistance(loadStatistics(path.join(dir, 'a_stats.npz')), loadStatistics(path.join(dir, 'b_stats.npz')));
  assert.ok(relErr(fid, ref.fid) < 1e-3, `ours ${fid}, pytorch-fid ${ref.fid}`);
});

test('KID with subsets of the whole sets equals the direct NumPy MMD; smaller subsets scatter around it', { skip }, () => {
  const x1 = npyTensor(path.join(dir, 'wide1_features.npy'));
  const x2 = npyTensor(path.join(dir, 'wide2_features.npy'));
  try {
    const full = kernelInceptionDistance(x1, x2, { subsets: 3, subsetSize: 1000 });
    assert.equal(full.subsetSize, 300, 'the subset size is capped at the number of images');
    assert.ok(relErr(full.mean, ref.kid_wide_one_subset) < 1e-9, `ours ${full.mean}, NumPy ${ref.kid_wide_one_subset}`);
    assert.ok(full.std < 1e-9 * Math.abs(full.mean), 'every full subset is the same set');
    const sub = kernelInceptionDistance(x1, x2, { subsets: 20, subsetSize: 100, seed: 3 });
    assert.ok(sub.std > 0 && Math.abs(sub.mean - full.mean) < 4 * sub.std, `subsets ${sub.mean} ± ${sub.std} vs full ${full.mean}`);
  } finally {
    x1.dispose();
    x2.dispose();
  }
});

test('`pix2pixhd fid --save_stats` writes pytorch-fid\'s .npz layout (numpy reads it); `fid` on .npz files prints pytorch-fid\'s FID', { skip }, async () => {
  const saved = path.join(dir, 'ours_a.npz');
  const lines: string[] = [];
  const out = { write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  await fidCommand([path.join(dir, 'a'), saved, '--save_stats', '--inception_weights', weights, '--batch_size', '3'], out);
  const check = spawnSync(PY, ['-c', [
    'import sys, json, numpy as np',
    'o, r = np.load(sys.argv[1]), np.load(sys.argv[2])',
    'print(json.dumps([str(o["mu"].dtype), str(o["sigma"].dtype), list(o["sigma"].shape), float(np.abs(o["mu"] - r["mu"]).max() / np.abs(r["mu"]).max()), float(np.abs(o["sigma"] - r["sigma"]).max() / np.abs(r["sigma"]).max())]))',
  ].join('\n'), saved, path.join(dir, 'a_stats.npz')], { encoding: 'utf-8' });
  assert.equal(check.status, 0, check.stderr);
  const [muType, sigmaType, shape, muErr, sigmaErr] = JSON.parse(check.stdout) as [string, string, number[], number, number];
  assert.deepEqual([muType, sigmaType, shape], ['float32', 'float64', [2048, 2048]]);
  assert.ok(muErr < 1e-4 && sigmaErr < 1e-3, `mu ${muErr}, sigma ${sigmaErr}`);

  lines.length = 0;
  const report = await fidCommand([saved, path.join(dir, 'b_stats.npz')], out);
  const printed = /^FID: (\S+)$/m.exec(lines.join(''));
  assert.ok(printed, lines.join(''));
  assert.equal(Number(printed[1]), report.fid);
  assert.ok(relErr(report.fid!, ref.fid) < 1e-3, `ours ${report.fid}, pytorch-fid ${ref.fid}`);
});

test('statistics round-trip through our .npz and match a direct computation', () => {
  const f = tensor([1, 2, 3, 2, 0, 1, 5, 4, 4, 0, 1, 1], [4, 3]);
  const dirTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'p2phd-npz-'));
  try {
    const s = activationStatistics(f);
    // column means 2, 1.75, 2.25; covariance of column 0 with itself: ((−1)²+0+3²+(−2)²)/3 = 14/3
    assert.deepEqual([...s.mu], [2, 1.75, 2.25]);
    assert.ok(Math.abs(s.sigma[0]! - 14 / 3) < 1e-12);
    const file = path.join(dirTmp, 's.npz');
    saveStatistics(file, s);
    const back = loadStatistics(file);
    assert.deepEqual([...back.sigma], [...s.sigma]);
    assert.equal(frechetDistance(s, back), frechetDistance(back, s));
    assert.ok(Math.abs(frechetDistance(s, back)) < 1e-6, 'a distribution is at distance 0 from itself');
  } finally {
    f.dispose();
    fs.rmSync(dirTmp, { recursive: true, force: true });
  }
});
