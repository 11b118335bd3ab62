// VGG19 features from a torchvision-layout checkpoint: loading (classifier and later layers
// ignored, weights frozen), the error for a missing file, and — where Python's torch is
// installed — relu1_1 … relu5_1 and the VGG loss against torch's own convolutions.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { dispose, loadTensorDict, noGrad, saveTensorDict, tidy, type Tensor } from '../../src/torch/index.js';
import { Vgg19Features, VGG19_FILE } from '../../src/models/index.js';
import { VGGLoss } from '../../src/losses/index.js';
import { python, pythonTorchMissing, relL2, uniform } from './helpers.js';

let dir = '';
let weightsPath = '';

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vgg19-test-'));
  weightsPath = path.join(dir, VGG19_FILE);
  // A checkpoint in torchvision's layout with random weights: features.N for every conv of
  // vgg19().features (conv5_2 … conv5_4 included), and a (shrunken) classifier.
  const source = new Vgg19Features();
  tidy(() => {
    const file = new Map<string, Tensor>();
    for (const [k, t] of source.stateDict()) file.set(`features.${k.slice(k.indexOf('.') + 1)}`, t);
    for (const i of [30, 32, 34]) {
      file.set(`features.${i}.weight`, uniform([512, 512, 3, 3], i, -0.02, 0.02));
      file.set(`features.${i}.bias`, uniform([512], i + 1, -0.02, 0.02));
    }
    for (const i of [0, 3, 6]) {
      file.set(`classifier.${i}.weight`, uniform([4, 3], i));
      file.set(`classifier.${i}.bias`, uniform([4], i));
    }
    saveTensorDict(weightsPath, file);
  });
  source.dispose();
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('Vgg19Features.load reads features.N from a torchvision checkpoint into slice1 … slice5, frozen', () => {
  const vgg = Vgg19Features.load(weightsPath);
  const file = loadTensorDict(weightsPath);
  try {
    const sd = vgg.stateDict();
    const convIndices = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28];
    assert.deepEqual([...sd.keys()].map((k) => k.replace(/\.(weight|bias)$/, '')).filter((_, i) => i % 2 === 0),
      convIndices.map((i) => `slice${i < 2 ? 1 : i < 7 ? 2 : i < 12 ? 3 : i < 21 ? 4 : 5}.${i}`));
    for (const [k, t] of sd) {
      const src = file.get(`features.${k.slice(k.indexOf('.') + 1)}`)!;
      assert.equal(relL2(t, src), 0, k);
      assert.equal(t.requiresGrad, false, `${k} is frozen`);
    }
  } finally {
    dispose(file);
    vgg.dispose();
  }
});

test('a missing VGG19 file is an error that says where to put it and how to train without it', () => {
  const missing = path.join(dir, 'nowhere', VGG19_FILE);
  assert.throws(() => Vgg19Features.load(missing), (e: Error) =>
    e.message.includes(missing) && e.message.includes('https://download.pytorch.org/models/vgg19-dcbb9e9d.pth') && e.message.includes('--no_vgg_loss'));
});

test('a checkpoint that is not VGG19 is an error naming the missing keys', () => {
  const other = path.join(dir, 'other.pth');
  tidy(() => saveTensorDict(other, new Map([['features.0.weight', uniform([64, 3, 3, 3], 1)]])));
  assert.throws(() => Vgg19Features.load(other), /not torchvision's VGG19 checkpoint: it lacks features\.0\.bias, features\.2\.weight/);
});

const PY_VGG = String.raw`
import json, sys, torch
import torch.nn.functional as F
w = torch.load(sys.argv[1]); io = torch.load(sys.argv[2])
def features(x):
    out = []
    cfg = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512]
    i = 0
    for v in cfg:
        if v == 'M':
            x = F.max_pool2d(x, 2, 2); i += 1
        else:
            x = F.relu(F.conv2d(x, w['features.%d.weight' % i], w['features.%d.bias' % i], padding=1))
            if i in (0, 5, 10, 19, 28): out.append(x)
            i += 2
    return out
with torch.no_grad():
    fx = features(io['x']); fy = features(io['y'])
    loss = sum(wt * F.l1_loss(a, b) for wt, a, b in zip([1/32, 1/16, 1/8, 1/4, 1], fx, fy)) * 10.0
res = {'relu%d_1' % (k + 1): f for k, f in enumerate(fx)}
res['loss'] = loss
torch.save(res, sys.argv[3])
print(json.dumps({'ok': True}))
`;

test('relu1_1 … relu5_1 and the VGG loss match torch computing them from the same checkpoint', { skip: pythonTorchMissing() }, () => {
  const vgg = Vgg19Features.load(weightsPath);
  const ioPath = path.join(dir, 'io.pth');
  const refPath = path.join(dir, 'ref.pth');
  try {
    tidy(() => {
      const x = uniform([1, 3, 32, 48], 21);
      const y = uniform([1, 3, 32, 48], 22);
      saveTensorDict(ioPath, new Map([['x', x], ['y', y]]));
      python(PY_VGG, [weightsPath, ioPath, refPath]);
      const ref = loadTensorDict(refPath);
      noGrad(() => {
        const ours = vgg.forward(x);
        assert.equal(ours.length, 5);
        ours.forEach((f, i) => {
          const err = relL2(f, ref.get(`relu${i + 1}_1`)!);
          assert.ok(err < 1e-5, `relu${i + 1}_1: relative L2 error ${err}`);
        });
        assert.deepEqual(ours[4]!.shape, [1, 512, 2, 3]);
        const loss = new VGGLoss(vgg, { lambda_feat: 10 }).forward(x, y).item();
        const expected = ref.get('loss')!.item();
        assert.ok(Math.abs(loss - expected) <= 1e-5 * Math.abs(expected), `VGG loss ${loss} vs ${expected}`);
      });
    });
  } finally {
    vgg.dispose();
  }
});
