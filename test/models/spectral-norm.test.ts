// Spectral normalisation against torch.nn.utils.spectral_norm itself: the same outputs, power
// iterations and weight gradients from the same state dict, within 1e-5, for convolutions and
// transposed convolutions (torch's dim 1); our checkpoints — a layer's and a whole normalised
// generator's — load in PyTorch (strict) and give our outputs there.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildDiscriminator, buildGenerator } from '../../src/models/from-options.js';
import { SpectralNormConv2d, SpectralNormConvTranspose2d } from '../../src/models/spectral-norm.js';
import { dispose, loadTensorDict, nn, noGrad, randn, saveTensorDict, type Tensor } from '../../src/torch/index.js';
import { parseOptions } from '../../src/options/parse.js';
import { runConfig } from '../../src/run/config.js';
import { python, pythonTorchMissing } from './helpers.js';

const PY_REFERENCE = String.raw`
import json, sys, torch
from torch import nn
from torch.nn.utils import spectral_norm
LAYERS = {
    'Conv2d': lambda: nn.Conv2d(3, 5, 4, stride=2, padding=2),
    'ConvTranspose2d': lambda: nn.ConvTranspose2d(3, 5, 4, stride=2, padding=1, output_padding=1),
}
out = sys.argv[1]
torch.manual_seed(3)
conv = spectral_norm(LAYERS[sys.argv[2]]())
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
LAYERS = {
    'Conv2d': lambda: nn.Conv2d(3, 5, 4, stride=2, padding=2),
    'ConvTranspose2d': lambda: nn.ConvTranspose2d(3, 5, 4, stride=2, padding=1, output_padding=1),
}
conv = spectral_norm(LAYERS[sys.argv[4]]())
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

const LAYERS = {
  Conv2d: () => new SpectralNormConv2d(new nn.Conv2d(3, 5, 4, { stride: 2, padding: 2 })),
  ConvTranspose2d: () => new SpectralNormConvTranspose2d(new nn.ConvTranspose2d(3, 5, 4, { stride: 2, padding: 1, outputPadding: 1 })),
};

for (const [kind, make] of Object.entries(LAYERS)) test(`spectral norm of a ${kind}: outputs, u/v updates and weight gradients equal torch.nn.utils.spectral_norm's within 1e-5; PyTorch loads our checkpoint`, { skip: pythonTorchMissing() }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'p2phd-sn-'));
  const conv = make();
  try {
    const keys = python(PY_REFERENCE, [dir, kind]) as string[];
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
      const diff = python(PY_LOAD_OURS, [path.join(dir, 'ours.pth'), path.join(dir, 'reference.pth'), path.join(dir, 'ours_y.pth'), kind]) as number;
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

const NET = {
  input_nc: 3, output_nc: 3, label_nc: 4, ngf: 4, netG: 'global', n_downsample_global: 2, n_blocks_global: 1, n_blocks_local: 1,
  n_local_enhancers: 1, norm: 'instance', no_instance: true, instance_feat: false, label_feat: false, feat_num: 3, nef: 4, n_downsample_E: 1,
  ndf: 4, n_layers_D: 2, num_D: 2,
} as const;

test('--spectral_norm G normalises every conv and transposed conv of G but the output one, D stays plain; both normalises both; off by default', () => {
  const keysOf = (m: nn.Module) => [...m.stateDict().keys()];
  const plainG = buildGenerator({ ...NET }, 1);
  const snG = buildGenerator({ ...NET, spectral_norm: 'G' }, 1);
  const bothG = buildGenerator({ ...NET, spectral_norm: 'both' }, 1);
  const dOfG = buildDiscriminator({ ...NET, spectral_norm: 'G' }, 1);
  const dOfBoth = buildDiscriminator({ ...NET, spectral_norm: 'both' }, 1);
  try {
    const plainWeights = keysOf(plainG).filter((k) => k.endsWith('.weight'));
    // 7×7 input conv, 2 downsampling convs, 2 convs in the residual block, 2 transposed convs, the output conv.
    assert.equal(plainWeights.length, 8);
    const output = plainWeights.at(-1)!;
    const expected = plainWeights.slice(0, -1).flatMap((k) => ['_orig', '_u', '_v'].map((s) => `${k}${s}`));
    assert.deepEqual(keysOf(snG).filter((k) => /\.weight_(orig|u|v)$/.test(k)).sort(), expected.sort());
    assert.ok(keysOf(snG).includes(output) && !keysOf(snG).includes(`${output}_orig`), 'the output conv stays plain');
    assert.deepEqual(keysOf(bothG), keysOf(snG));
    assert.ok(keysOf(dOfG).includes('scale0_layer0.0.weight'), '--spectral_norm G leaves D plain');
    assert.ok(keysOf(dOfBoth).includes('scale0_layer0.0.weight_orig'), '--spectral_norm both normalises D');
    // The transposed convs' u has one entry per output channel (torch's dim 1).
    const transposed = plainWeights[5]!.replace(/\.weight$/, '');
    assert.deepEqual(snG.stateDict().get(`${transposed}.weight_u`)!.shape, [plainG.stateDict().get(`${transposed}.weight`)!.shape[1]]);
    // Same initial weights either way.
    assert.deepEqual(snG.stateDict().get(`${transposed}.weight_orig`)!.toNumbers(), plainG.stateDict().get(`${transposed}.weight`)!.toNumbers());
  } finally {
    for (const m of [plainG, snG, bothG, dOfG, dOfBoth]) m.dispose();
  }
});

// pix2pixHD's global generator written here from the paper's architecture, spectrally normalised
// by torch as SPADE does (every conv but the output one), loading our state dict strictly.
const PY_GENERATOR = String.raw`
import json, sys, torch
from torch import nn
from torch.nn.utils import spectral_norm
ngf, n_down, input_nc, output_nc = 4, 2, 4, 3
class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim), nn.ReLU(True),
                                        nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim))
    def forward(self, x):
        return x + self.conv_block(x)
class G(nn.Module):
    def __init__(self):
        super().__init__()
        sn = spectral_norm
        layers = [nn.ReflectionPad2d(3), sn(nn.Conv2d(input_nc, ngf, 7)), nn.InstanceNorm2d(ngf), nn.ReLU(True)]
        for i in range(n_down):
            c = ngf * 2 ** i
            layers += [sn(nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)), nn.InstanceNorm2d(2 * c), nn.ReLU(True)]
        block = Block(ngf * 2 ** n_down)
        block.conv_block[1] = sn(block.conv_block[1]); block.conv_block[5] = sn(block.conv_block[5])
        layers.append(block)
        for i in range(n_down):
            c = ngf * 2 ** (n_down - i)
            layers += [sn(nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1)), nn.InstanceNorm2d(c // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
    def forward(self, x):
        return self.model(x)
g = G()
g.load_state_dict(torch.load(sys.argv[1]), strict=True)
g.eval()
io = torch.load(sys.argv[2])
with torch.no_grad():
    y = g(io['x'])
print(json.dumps(float((y - io['y']).abs().max())))
`;

test('a generator trained with --spectral_norm G saves a checkpoint PyTorch loads (strict) into its own spectrally normalised G, with our output', { skip: pythonTorchMissing() }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'p2phd-sn-g-'));
  const G = buildGenerator({ ...NET, spectral_norm: 'G' }, 2);
  const x = randn([1, 4, 16, 16]); // G's input: label_nc one-hot channels
  try {
    // A few training-mode forwards move u and v away from their initial draws, as training does.
    for (let i = 0; i < 3; i++) G.forward(x).dispose();
    G.eval();
    const y = noGrad(() => G.forward(x));
    saveTensorDict(path.join(dir, 'latest_net_G.pth'), G.stateDict());
    saveTensorDict(path.join(dir, 'io.pth'), new Map([['x', x], ['y', y]]));
    const diff = python(PY_GENERATOR, [path.join(dir, 'latest_net_G.pth'), path.join(dir, 'io.pth')]) as number;
    assert.ok(diff <= 1e-5, `PyTorch's G output differs from ours by ${diff}`);
    y.dispose();
  } finally {
    G.dispose();
    x.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--spectral_norm reaches the run configuration as none (the default), D, G or both; other values are refused by name', () => {
  const choice = (argv: string[]) => runConfig(parseOptions(['--dataroot', '.', ...argv], ['base', 'train']).values).network.spectral_norm;
  assert.equal(choice([]), 'none');
  for (const v of ['D', 'G', 'both'] as const) assert.equal(choice(['--spectral_norm', v]), v);
  assert.throws(() => choice(['--spectral_norm', 'GD']), /spectral_norm/);
});
