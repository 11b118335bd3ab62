// Spectral normalisation against torch.nn.utils.spectral_norm itself: the same outputs, power
// iterations and weight gradients from the same state dict, within 1e-5; our checkpoint loads in
// PyTorch (strict) and gives PyTorch's outputs there.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildDiscriminator } from '../../src/models/from-options.js';
import { SpectralNormConv2d } from '../../src/models/spectral-norm.js';
import { dispose, loadTensorDict, nn, noGrad, saveTensorDict, type Tensor } from '../../src/torch/index.js';
import { python, pythonTorchMissing } from './helpers.js';

const PY_REFERENCE = String.raw`
import json, sys, torch
from torch import nn
from torch.nn.utils import spectral_norm
out = sys.argv[1]
torch.manual_seed(3)
conv = spectral_norm(nn.Conv2d(3, 5, 4, stride=2, padding=2))
sd0 = {k: v.clone() for k, v in conv.state_dict().items()}
x = torch.randn(2, 3, 9, 9)
conv.train()
y1 = conv(x)
(y1 ** 2).sum().backward()
r = {'x': x, 'y1': y1.detach(), 'u1': conv.weight_u.clone(), 'v1': conv.weight_v.clone(), 'grad1': conv.weight_orig.grad.clone()}
with torch.no_grad():
    r['y2'] = conv(x)
    conv.eval()
    r['y3'] = conv(x)
r.update({'sd0.' + k: v for k, v in sd0.items()})
torch.save(r, out + '/reference.pth')
print(json.dumps(list(sd0.keys())))
`;

const PY_LOAD_OURS = String.raw`
import json, sys, torch
from torch import nn
from torch.nn.utils import spectral_norm
conv = spectral_norm(nn.Conv2d(3, 5, 4, stride=2, padding=2))
conv.load_state_dict(torch.load(sys.argv[1]), strict=True)
conv.eval()
x = torch.load(sys.argv[2])['x']
with torch.no_grad():
    y = conv(x)
ours = torch.load(sys.argv[3])['y']
print(json.dumps(float((y - ours).abs().max())))
`;

function maxDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  const x = a.toFloat32Array();
  const y = b.toFloat32Array();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

test('spectral norm: outputs, u/v updates and weight gradients equal torch.nn.utils.spectral_norm\'s within 1e-5; PyTorch loads our checkpoint', { skip: pythonTorchMissing() }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'p2phd-sn-'));
  const conv = new SpectralNormConv2d(new nn.Conv2d(3, 5, 4, { stride: 2, padding: 2 }));
  try {
    const keys = python(PY_REFERENCE, [dir]) as string[];
    assert.deepEqual([...conv.stateDict().keys()], keys, 'PyTorch\'s state-dict keys, in its order');
    const ref = loadTensorDict(path.join(dir, 'reference.pth'));
    try {
      conv.loadStateDict(new Map(keys.map((k) => [k, ref.get(`sd0.${k}`)!])));
      const x = ref.get('x')!;
      conv.train();
      const y1 = conv.forward(x);
      y1.square().sum().backward();
      assert.ok(maxDiff(y1, ref.get('y1')!) <= 1e-5, 'training-mode output');
      assert.ok(maxDiff(conv.weightU, ref.get('u1')!) <= 1e-5 && maxDiff(conv.weightV, ref.get('v1')!) <= 1e-5, 'one power iteration');
      const grad = conv.weightOrig.grad!;
      assert.ok(maxDiff(grad, ref.get('grad1')!) <= 1e-5 * Math.max(1, ...Array.from(ref.get('grad1')!.toFloat32Array(), Math.abs)), 'gradient of weight_orig');
      const y2 = noGrad(() => conv.forward(x));
      assert.ok(maxDiff(y2, ref.get('y2')!) <= 1e-5, 'second training-mode output');
      conv.eval();
      const y3 = noGrad(() => conv.forward(x));
      assert.ok(maxDiff(y3, ref.get('y3')!) <= 1e-5, 'eval-mode output (no iteration)');
      // Our checkpoint in PyTorch: strict load, same eval output.
      saveTensorDict(path.join(dir, 'ours.pth'), conv.stateDict());
      saveTensorDict(path.join(dir, 'ours_y.pth'), new Map([['y', y3]]));
      const diff = python(PY_LOAD_OURS, [path.join(dir, 'ours.pth'), path.join(dir, 'reference.pth'), path.join(dir, 'ours_y.pth')]) as number;
      assert.ok(diff <= 1e-5, `PyTorch's output from our checkpoint differs by ${diff}`);
      // D judges the fake and the real image before one backward: the second power iteration must
      // not invalidate the first forward's graph.
      conv.train();
      const a = conv.forward(x);
      const b = conv.forward(x);
      assert.doesNotThrow(() => a.add(b).sum().backward());
      dispose([y1, grad, y2, y3, a, b]);
    } finally {
      dispose(ref);
    }
  } finally {
    conv.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--spectral_norm D normalises every conv of every scale, in PyTorch\'s key layout; off by default', () => {
  const o = { input_nc: 3, output_nc: 3, label_nc: 4, ngf: 4, netG: 'global', n_downsample_global: 1, n_blocks_global: 1, n_blocks_local: 1,
    n_local_enhancers: 1, norm: 'instance', no_instance: true, instance_feat: false, label_feat: false, feat_num: 3, nef: 4, n_downsample_E: 1,
    ndf: 4, n_layers_D: 2, num_D: 2 } as const;
  const plain = buildDiscriminator({ ...o }, 1);
  const sn = buildDiscriminator({ ...o, spectral_norm: 'D' }, 1);
  try {
    const keys = [...sn.stateDict().keys()];
    assert.ok(!keys.some((k) => k.endsWith('.weight') && /layer\d\.0\./.test(k)), 'no plain conv weights left');
    assert.equal(keys.filter((k) => k.endsWith('.weight_orig')).length, 2 * 4);
    assert.ok(keys.includes('scale1_layer3.0.weight_u') && keys.includes('scale0_layer0.0.weight_v'));
    assert.ok([...plain.stateDict().keys()].includes('scale0_layer0.0.weight'));
    // Same initial weights either way (the normalisation divides them at run time only).
    assert.deepEqual(sn.stateDict().get('scale0_layer0.0.weight_orig')!.toNumbers(), plain.stateDict().get('scale0_layer0.0.weight')!.toNumbers());
  } finally {
    plain.dispose();
    sn.dispose();
  }
});
