// Cross-checks against PyTorch itself, when /usr/bin/python3 has torch: the same float32 inputs
// (passed as JSON) through the ops pix2pixHD leans on, forward and backward, plus state-dict
// naming and Adam's trajectory. All Python work runs in one subprocess.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { Adam, F, nn, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { assertClose, prod, randomValues } from './helpers.js';

const PYTHON = '/usr/bin/python3';

function torchAvailable(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return `${PYTHON} cannot run (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} has no torch module`;
  return null;
}
const skipReason = torchAvailable();

interface Arr { data: number[]; shape: number[] }
const arr = (shape: number[], seed: number, lo = -1, hi = 1): Arr => ({ data: randomValues(prod(shape), seed, lo, hi), shape });
const T = (a: Arr): Tensor => tensor(a.data, a.shape);

const inputs = {
  conv: { x: arr([2, 4, 7, 6], 1), w: arr([6, 2, 3, 3], 2), b: arr([6], 3), r: arr([2, 6, 4, 6], 4) },
  convT: { x: arr([1, 3, 4, 5], 5), w: arr([3, 4, 3, 3], 6), b: arr([4], 7), r: arr([1, 4, 8, 10], 8) },
  inorm: { x: arr([2, 3, 5, 4], 9, -2, 3), w: arr([3], 10, 0.5, 1.5), b: arr([3], 11), r: arr([2, 3, 5, 4], 12) },
  pad: { x: arr([1, 2, 5, 6], 13), r: arr([1, 2, 9, 9], 14) },
  pool: { x: arr([1, 2, 7, 8], 15), r: arr([1, 2, 4, 4], 16) },
  up: { x: arr([1, 2, 3, 4], 17), r: arr([1, 2, 6, 8], 18) },
  adam: { p: arr([5], 19), c: arr([5], 20, 0.5, 2) },
};

const script = String.raw`
import json, sys, torch
import torch.nn as nn
import torch.nn.functional as F
torch.set_num_threads(1)
job = json.load(sys.stdin)
out = {}
def T(a, grad=False):
    t = torch.tensor(a['data'], dtype=torch.float32).reshape(a['shape'])
    return t.requires_grad_(grad)
def put(name, t):
    out[name] = {'shape': list(t.shape), 'data': t.detach().reshape(-1).tolist()}

c = job['conv']; x = T(c['x'], True); w = T(c['w'], True); b = T(c['b'], True)
y = F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
(y * T(c['r'])).sum().backward()
put('conv.y', y); put('conv.gx', x.grad); put('conv.gw', w.grad); put('conv.gb', b.grad)

c = job['convT']; x = T(c['x'], True); w = T(c['w'], True); b = T(c['b'], True)
y = F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)
(y * T(c['r'])).sum().backward()
put('convT.y', y); put('convT.gx', x.grad); put('convT.gw', w.grad); put('convT.gb', b.grad)

c = job['inorm']; x = T(c['x'], True); w = T(c['w'], True); b = T(c['b'], True)
y = F.instance_norm(x, weight=w, bias=b)
(y * T(c['r'])).sum().backward()
put('inorm.y', y); put('inorm.gx', x.grad); put('inorm.gw', w.grad); put('inorm.gb', b.grad)
put('inorm.plain', F.instance_norm(T(c['x'])))

c = job['pad']; x = T(c['x'], True)
y = F.pad(x, [2, 1, 3, 1], mode='reflect')
(y * T(c['r'])).sum().backward()
put('pad.y', y); put('pad.gx', x.grad)
put('pad.replicate', F.pad(T(c['x']), [1, 2, 2, 0], mode='replicate'))

c = job['pool']; x = T(c['x'], True)
y = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
(y * T(c['r'])).sum().backward()
put('pool.y', y); put('pool.gx', x.grad)
put('pool.max', F.max_pool2d(T(c['x']), 3, stride=2, padding=1))

c = job['up']; x = T(c['x'], True)
y = F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False)
(y * T(c['r'])).sum().backward()
put('up.y', y); put('up.gx', x.grad)
put('up.size', F.interpolate(T(c['x']), size=(5, 7), mode='bilinear', align_corners=False))
put('up.nearest', F.interpolate(T(c['x']), scale_factor=2, mode='nearest'))

net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Sequential(nn.Conv2d(4, 2, 1), nn.ReLU()),
                    nn.InstanceNorm2d(2, affine=True, track_running_stats=True),
                    nn.ConvTranspose2d(2, 5, 3, stride=2, padding=1, output_padding=1, bias=False), nn.Tanh())
out['state_dict'] = [[k, list(v.shape), str(v.dtype)] for k, v in net.state_dict().items()]

c = job['adam']; p = T(c['p'], True); cc = T(c['c'])
opt = torch.optim.Adam([p], lr=0.05, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)
traj = []
for k in range(4):
    if k == 3:
        for g in opt.param_groups: g['lr'] = 0.01
    opt.zero_grad()
    (cc * p * p + p).sum().backward()
    opt.step()
    traj.extend(p.detach().tolist())
out['adam'] = {'shape': [4, 5], 'data': traj}

print(json.dumps(out))
`;

let cached: Record<string, unknown> | null = null;
function python(): Record<string, unknown> {
  if (cached) return cached;
  const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(inputs), encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`the PyTorch script failed (${r.status}):\n${r.stderr}`);
  cached = JSON.parse(r.stdout) as Record<string, unknown>;
  return cached;
}

function same(name: string, actual: Tensor, tol = 1e-5): void {
  const ref = python()[name] as Arr;
  assert.ok(ref, `PyTorch produced no '${name}'`);
  assert.deepEqual(actual.shape, ref.shape, `${name} shape`);
  assertClose(actual.toNumbers(), ref.data, { atol: tol, rtol: tol }, name);
}

/** Runs fn(x...) with float32 leaves, back-propagates sum(y·r), returns y and the leaves. */
function forwardBackward(args: Arr[], r: Arr, fn: (ts: Tensor[]) => Tensor): { y: Tensor; leaves: Tensor[] } {
  const leaves = args.map((a) => T(a).requiresGrad_(true));
  const y = fn(leaves);
  y.mul(T(r)).sum().backward();
  return { y, leaves };
}

function skipUnlessTorch(t: TestContext): boolean {
  if (skipReason) {
    t.skip(skipReason);
    return true;
  }
  return false;
}

test('conv2d (stride, padding, dilation, groups) forward and backward match PyTorch', (t) => tidy(() => {
  if (skipUnlessTorch(t)) return;
  const c = inputs.conv;
  const { y, leaves: [x, w, b] } = forwardBackward([c.x, c.w, c.b], c.r, ([x, w, b]) => F.conv2d(x!, w!, b!, { stride: [2, 1], padding: [1, 2], dilation: [1, 2], groups: 2 }));
  same('conv.y', y);
  same('conv.gx', x!.grad!);
  same('conv.gw', w!.grad!);
  same('conv.gb', b!.grad!);
}));

test('convTranspose2d with output_padding forward and backward match PyTorch', (t) => tidy(() => {
  if (skipUnlessTorch(t)) return;
  const c = inputs.convT;
  const { y, leaves: [x, w, b] } = forwardBackward([c.x, c.w, c.b], c.r, ([x, w, b]) => F.convTranspose2d(x!, w!, b!, { stride: 2, padding: 1, outputPadding: 1 }));
  same('convT.y', y);
  same('convT.gx', x!.grad!);
  same('convT.gw', w!.grad!);
  same('convT.gb', b!.grad!);
}));

test('instance_norm (affine and plain) forward and backward match PyTorch', (t) => tidy(() => {
  if (skipUnlessTorch(t)) return;
  const c = inputs.inorm;
  const { y, leaves: [x, w, b] } = forwardBackward([c.x, c.w, c.b], c.r, ([x, w, b]) => F.instanceNorm(x!, { weight: w!, bias: b! }));
  same('inorm.y', y);
  same('inorm.gx', x!.grad!);
  same('inorm.gw', w!.grad!);
  same('inorm.gb', b!.grad!);
  same('inorm.plain', F.instanceNorm(T(c.x)));
}));

test('reflection and replication pad match PyTorch', (t) => tidy(() => {
  if (skipUnlessTorch(t)) return;
  const c = inputs.pad;
  const { y, leaves: [x] } = forwardBackward([c.x], c.r, ([x]) => F.pad(x!, [2, 1, 3, 1], 'reflect'));
  same('pad.y', y);
  same('pad.gx', x!.grad!);
  same('pad.replicate', F.pad(T(c.x), [1, 2, 2, 0], 'replicate'));
}));

test('avg_pool2d with count_include_pad=False, and max_pool2d, match PyTorch', (t) => tidy(() => {
  if (skipUnlessTorch(t)) return;
  const c = inputs.pool;
  const { y, leaves: [x] } = forwardBackward([c.x], c.r, ([x]) => F.avgPool2d(x!, 3, { stride: 2, padding: 1, countIncludePad: false }));
  same('pool.y', y);
  same('pool.gx', x!.grad!);
  same('pool.max', F.maxPool2d(T(c.x), 3, { stride: 2, padding: 1 }));
}));

test('bilinear (align_corners=False) and nearest interpolation match PyTorch', (t) => tidy(() => {
  if (skipUnlessTorch(t)) return;
  const c = inputs.up;
  const { y, leaves: [x] } = forwardBackward([c.x], c.r, ([x]) => F.interpolate(x!, { scaleFactor: 2, mode: 'bilinear' }));
  same('up.y', y);
  same('up.gx', x!.grad!);
  same('up.size', F.interpolate(T(c.x), { size: [5, 7], mode: 'bilinear' }));
  same('up.nearest', F.interpolate(T(c.x), { scaleFactor: 2 }));
}));

test('state-dict keys, order, shapes and dtypes equal PyTorch\'s for the same architecture', (t) => {
  if (skipUnlessTorch(t)) return;
  const net = new nn.Sequential(
    new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4), new nn.Sequential(new nn.Conv2d(4, 2, 1), new nn.ReLU()),
    new nn.InstanceNorm2d(2, { affine: true, trackRunningStats: true }),
    new nn.ConvTranspose2d(2, 5, 3, { stride: 2, padding: 1, outputPadding: 1, bias: false }), new nn.Tanh(),
  );
  const torchDType: Record<string, string> = { float32: 'torch.float32', int64: 'torch.int64' };
  const ours = [...net.stateDict()].map(([k, v]) => [k, v.shape, torchDType[v.dtype] ?? v.dtype]);
  assert.deepEqual(ours, python()['state_dict']);
  net.dispose();
});

test('Adam follows torch.optim.Adam for 4 steps, weight decay and an lr change included', (t) => tidy(() => {
  if (skipUnlessTorch(t)) return;
  const c = inputs.adam;
  const p = T(c.p).requiresGrad_(true);
  const cc = T(c.c);
  const opt = new Adam([p], { lr: 0.05, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1 });
  const traj: number[] = [];
  for (let k = 0; k < 4; k++) {
    if (k === 3) opt.setLr(0.01);
    opt.zeroGrad();
    tidy(() => cc.mul(p).mul(p).add(p).sum().backward());
    opt.step();
    traj.push(...p.toNumbers());
  }
  const ref = python()['adam'] as Arr;
  assertClose(traj, ref.data, { atol: 1e-6, rtol: 1e-6 }, 'Adam trajectory');
  opt.dispose();
}));
