// nn.Module: PyTorch's state-dict naming and order, strict and non-strict loading, train/eval
// propagation, BatchNorm2d in both modes, and the layers against their functional forms.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { F, manualSeed, nn, noGrad, ones, randn, tensor, tidy, zeros, type Tensor } from '../../src/torch/index.js';
import { assertClose, prod, randomValues, values } from './helpers.js';

function buildNet() {
  return new nn.Sequential(
    new nn.Conv2d(3, 4, 3),
    new nn.BatchNorm2d(4),
    new nn.Sequential(new nn.Conv2d(4, 2, 1), new nn.ReLU()),
    new nn.InstanceNorm2d(2, { affine: true, trackRunningStats: true }),
    new nn.ConvTranspose2d(2, 5, 3, { stride: 2, padding: 1, outputPadding: 1, bias: false }),
    new nn.Tanh(),
  );
}

// What torch.nn.Sequential(...).state_dict() lists for the same architecture, in order.
const expectedKeys: [string, number[], string][] = [
  ['0.weight', [4, 3, 3, 3], 'float32'],
  ['0.bias', [4], 'float32'],
  ['1.weight', [4], 'float32'],
  ['1.bias', [4], 'float32'],
  ['1.running_mean', [4], 'float32'],
  ['1.running_var', [4], 'float32'],
  ['1.num_batches_tracked', [], 'int64'],
  ['2.0.weight', [2, 4, 1, 1], 'float32'],
  ['2.0.bias', [2], 'float32'],
  ['3.weight', [2], 'float32'],
  ['3.bias', [2], 'float32'],
  ['3.running_mean', [2], 'float32'],
  ['3.running_var', [2], 'float32'],
  ['3.num_batches_tracked', [], 'int64'],
  ['4.weight', [2, 5, 3, 3], 'float32'],
];

test('stateDict keys, order, shapes and dtypes follow PyTorch naming for nested Sequentials', () => {
  const net = buildNet();
  const sd = net.stateDict();
  assert.deepEqual([...sd.keys()], expectedKeys.map(([k]) => k));
  for (const [k, shape, dtype] of expectedKeys) {
    assert.deepEqual(sd.get(k)!.shape, shape, `${k} shape`);
    assert.equal(sd.get(k)!.dtype, dtype, `${k} dtype`);
  }
  assert.deepEqual(net.namedParameters().map(([k]) => k), ['0.weight', '0.bias', '1.weight', '1.bias', '2.0.weight', '2.0.bias', '3.weight', '3.bias', '4.weight']);
  assert.deepEqual(net.namedBuffers().map(([k]) => k), ['1.running_mean', '1.running_var', '1.num_batches_tracked', '3.running_mean', '3.running_var', '3.num_batches_tracked']);
  assert.ok(net.parameters().every((p) => p.requiresGrad));
  assert.ok(net.namedBuffers().every(([, b]) => !b.requiresGrad));
  assert.equal(net.parameterCount(), 4 * 27 + 4 + 4 + 4 + 8 + 2 + 2 + 2 + 90);
  assert.ok(net.child('2') instanceof nn.Sequential);
  assert.deepEqual(net.namedChildren().map(([k]) => k), ['0', '1', '2', '3', '4', '5']);
  assert.equal(net.stateDict('net.').keys().next().value, 'net.0.weight');
  // default buffers: running_mean 0, running_var 1, num_batches_tracked 0; affine 1/0
  assert.deepEqual(values(sd.get('1.running_mean')!), [0, 0, 0, 0]);
  assert.deepEqual(values(sd.get('1.running_var')!), [1, 1, 1, 1]);
  assert.equal(sd.get('1.num_batches_tracked')!.item(), 0);
  assert.deepEqual(values(sd.get('1.weight')!), [1, 1, 1, 1]);
  assert.deepEqual(values(sd.get('3.bias')!), [0, 0]);
  // a default InstanceNorm2d has no state at all, as in PyTorch
  assert.equal(new nn.InstanceNorm2d(3).stateDict().size, 0);
  net.dispose();
});

test('default conv init draws from U(±1/√fan_in), as PyTorch', () => {
  manualSeed(1);
  const conv = new nn.Conv2d(4, 8, 3);
  const bound = 1 / Math.sqrt(4 * 9);
  const w = values(conv.weight);
  assert.ok(w.every((v) => Math.abs(v) <= bound));
  assert.ok(Math.max(...w.map(Math.abs)) > 0.9 * bound, 'spread over the whole range');
  assert.ok(values(conv.bias!).every((v) => Math.abs(v) <= bound));
  // transposed conv: fan_in from weight.size(1) = out/groups
  const ct = new nn.ConvTranspose2d(16, 2, 3);
  const bt = 1 / Math.sqrt(2 * 9);
  assert.ok(values(ct.weight).every((v) => Math.abs(v) <= bt));
  assert.ok(Math.max(...values(ct.weight).map(Math.abs)) > 0.5 * bt);
  const g = new nn.Conv2d(4, 6, [3, 1], { groups: 2, bias: false });
  assert.deepEqual(g.weight.shape, [6, 2, 3, 1]);
  assert.equal(g.bias, null);
  assert.deepEqual([...g.stateDict().keys()], ['weight']);
  for (const m of [conv, ct, g]) m.dispose();
});

test('loadStateDict copies values in; strict errors list missing, unexpected and mismatched keys in one message', () => {
  const a = buildNet();
  const b = buildNet();
  tidy(() => {
    // load a's values into b: every tensor equal afterwards, b keeps its own storage
    const own = [...b.stateDict().values()];
    const res = b.loadStateDict(a.stateDict());
    assert.deepEqual(res, { missing: [], unexpected: [] });
    for (const [k, t] of a.stateDict()) assert.deepEqual(values(b.stateDict().get(k)!), values(t), k);
    [...b.stateDict().values()].forEach((t, i) => assert.equal(t, own[i], 'same tensor objects'));
    assert.ok(!b.stateDict().get('0.weight')!.isAliasOf(a.stateDict().get('0.weight')!), 'copied, not shared');

    const bad = new Map<string, Tensor>(a.stateDict());
    bad.delete('1.running_var');
    bad.delete('2.0.bias');
    bad.set('9.weight', zeros([1]));
    bad.set('0.weight', zeros([4, 3, 5, 5]));
    const before = values(b.stateDict().get('0.bias')!);
    assert.throws(() => b.loadStateDict(bad, { source: 'ckpt.pth' }), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /ckpt\.pth/);
      assert.match(e.message, /missing keys: 1\.running_var, 2\.0\.bias/);
      assert.match(e.message, /unexpected keys: 9\.weight/);
      assert.match(e.message, /0\.weight: checkpoint has \[4, 3, 5, 5\], the model has \[4, 3, 3, 3\]/);
      return true;
    });
    assert.deepEqual(values(b.stateDict().get('0.bias')!), before, 'a failed load changes nothing');
  });
  a.dispose();
  b.dispose();
});

test('non-strict load fills what is present and reports the rest; shape mismatches still fail', () => tidy(() => {
  const net = new nn.Sequential(new nn.Conv2d(1, 2, 1), new nn.BatchNorm2d(2));
  const partial = new Map<string, Tensor>([
    ['0.weight', tensor([5, 6], [2, 1, 1, 1])],
    ['1.running_mean', tensor([0.5, -0.5], [2])],
    ['extra.thing', ones([3])],
  ]);
  const oldBias = values(net.stateDict().get('0.bias')!);
  const res = net.loadStateDict(partial, { strict: false });
  assert.deepEqual(res.missing, ['0.bias', '1.weight', '1.bias', '1.running_var', '1.num_batches_tracked']);
  assert.deepEqual(res.unexpected, ['extra.thing']);
  assert.deepEqual(values(net.stateDict().get('0.weight')!), [5, 6]);
  assert.deepEqual(values(net.stateDict().get('1.running_mean')!), [0.5, -0.5]);
  assert.deepEqual(values(net.stateDict().get('0.bias')!), oldBias);
  assert.equal(net.stateDict().get('0.weight')!.requiresGrad, true, 'still a parameter after loading');
  assert.throws(() => net.loadStateDict(new Map([['0.bias', ones([3])]]), { strict: false }), /shape mismatches/);
  // values of another dtype are converted into the module's dtype
  net.loadStateDict(new Map([['1.num_batches_tracked', tensor([7], [], { dtype: 'float64' })]]), { strict: false });
  assert.equal(net.stateDict().get('1.num_batches_tracked')!.dtype, 'int64');
  assert.equal(net.stateDict().get('1.num_batches_tracked')!.item(), 7);
  net.dispose();
}));

test('train() and eval() propagate to every descendant', () => {
  const net = buildNet();
  const all = (m: nn.Module): nn.Module[] => [m, ...m.namedChildren().flatMap(([, c]) => all(c))];
  assert.equal(all(net).length, 9);
  assert.ok(all(net).every((m) => m.training), 'modules start in training mode');
  assert.equal(net.eval(), net);
  assert.ok(all(net).every((m) => !m.training));
  net.train();
  assert.ok(all(net).every((m) => m.training));
  net.train(false);
  assert.ok(all(net).every((m) => !m.training));
  // a child switched on its own affects only its subtree
  net.child('2')!.train();
  assert.deepEqual(all(net).map((m) => m.training), [false, false, false, true, true, true, false, false, false]);
  net.dispose();
});

test('BatchNorm2d: train normalises by batch stats and updates running stats; eval uses them', () => tidy(() => {
  const bn = new nn.BatchNorm2d(2, { momentum: 0.5 });
  const xs = [3, 2, 2, 1];
  const x = randomValues(prod(xs), 17, -2, 5);
  const perChannel = (c: number) => x.filter((_, i) => Math.floor(i / 2) % 2 === c);
  const stats = [0, 1].map((c) => {
    const v = perChannel(c);
    const mean = v.reduce((s, a) => s + a) / v.length;
    const ss = v.reduce((s, a) => s + (a - mean) ** 2, 0);
    return { mean, biased: ss / v.length, unbiased: ss / (v.length - 1) };
  });
  const y = values(bn.forward(tensor(x, xs)));
  assertClose(y, x.map((v, i) => { const s = stats[Math.floor(i / 2) % 2]!; return (v - s.mean) / Math.sqrt(s.biased + 1e-5); }), { atol: 1e-5 });
  assertClose(values(bn.runningMean!), stats.map((s) => 0.5 * s.mean), { atol: 1e-6 });
  assertClose(values(bn.runningVar!), stats.map((s) => 0.5 + 0.5 * s.unbiased), { atol: 1e-6 });
  assert.equal(bn.numBatchesTracked!.item(), 1);
  bn.forward(tensor(x, xs));
  assert.equal(bn.numBatchesTracked!.item(), 2);
  assertClose(values(bn.runningMean!), stats.map((s) => 0.75 * s.mean), { atol: 1e-6 });

  bn.eval();
  const rm = values(bn.runningMean!);
  const rv = values(bn.runningVar!);
  const probe = [1, 2, 3, 4];
  const ev = values(bn.forward(tensor(probe, [1, 2, 2, 1])));
  assertClose(ev, probe.map((v, i) => { const c = Math.floor(i / 2); return (v - rm[c]!) / Math.sqrt(rv[c]! + 1e-5); }), { atol: 1e-5 });
  assert.deepEqual(values(bn.runningMean!), rm, 'eval leaves running stats');
  assert.equal(bn.numBatchesTracked!.item(), 2, 'eval does not count batches');
  // a batch-norm layer without running stats uses batch statistics in eval too
  const nb = new nn.BatchNorm2d(1, { trackRunningStats: false }).eval();
  assertClose(values(nb.forward(tensor([1, 3], [2, 1, 1, 1]))), [-1 / Math.sqrt(1 + 1e-5), 1 / Math.sqrt(1 + 1e-5)], { atol: 1e-6 });
  bn.dispose();
  nb.dispose();
}));

test('InstanceNorm2d with trackRunningStats uses instance stats in train and running stats in eval', () => tidy(() => {
  const inorm = new nn.InstanceNorm2d(1, { trackRunningStats: true, momentum: 1 });
  inorm.forward(tensor([1, 3, 5, 7], [1, 1, 2, 2]));
  assertClose(values(inorm.runningMean!), [4]);
  assertClose(values(inorm.runningVar!), [20 / 3], { atol: 1e-5 }, 'unbiased variance');
  inorm.eval();
  assertClose(values(inorm.forward(tensor([4, 4], [1, 1, 1, 2]))), [0, 0], { atol: 1e-6 });
  inorm.dispose();
}));

test('layers equal their functional forms', () => tidy(() => {
  manualSeed(5);
  const x = randn([2, 3, 6, 6]);
  const same = (a: Tensor, b: Tensor, what: string) => assertClose(values(a, b.shape), values(b), { atol: 1e-6 }, what);
  const conv = new nn.Conv2d(3, 4, 3, { stride: 2, padding: 1 });
  same(conv.forward(x), F.conv2d(x, conv.weight, conv.bias, { stride: 2, padding: 1 }), 'Conv2d');
  const ct = new nn.ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1, outputPadding: 1 });
  same(ct.forward(x), F.convTranspose2d(x, ct.weight, ct.bias, { stride: 2, padding: 1, outputPadding: 1 }), 'ConvTranspose2d');
  assert.deepEqual(ct.forward(x).shape, [2, 2, 12, 12]);
  same(new nn.ReflectionPad2d(2).forward(x), F.pad(x, [2, 2, 2, 2], 'reflect'), 'ReflectionPad2d');
  same(new nn.ReflectionPad2d([1, 0, 2, 1]).forward(x), F.pad(x, [1, 0, 2, 1], 'reflect'), 'ReflectionPad2d asym');
  same(new nn.ReplicationPad2d(1).forward(x), F.pad(x, [1, 1, 1, 1], 'replicate'), 'ReplicationPad2d');
  same(new nn.ZeroPad2d(1).forward(x), F.pad(x, [1, 1, 1, 1]), 'ZeroPad2d');
  same(new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }).forward(x), F.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }), 'AvgPool2d');
  same(new nn.MaxPool2d(2).forward(x), F.maxPool2d(x, 2), 'MaxPool2d');
  same(new nn.LeakyReLU(0.2).forward(x), x.leakyRelu(0.2), 'LeakyReLU');
  same(new nn.LeakyReLU().forward(x), x.leakyRelu(0.01), 'LeakyReLU default slope');
  same(new nn.ReLU().forward(x), x.relu(), 'ReLU');
  same(new nn.Tanh().forward(x), x.tanh(), 'Tanh');
  same(new nn.Sigmoid().forward(x), x.sigmoid(), 'Sigmoid');
  assert.equal(new nn.Identity().forward(x), x);
  same(new nn.InstanceNorm2d(3).forward(x), F.instanceNorm(x), 'InstanceNorm2d');
  const d = new nn.Dropout(0.5);
  d.eval();
  same(d.forward(x), x, 'Dropout in eval');
  d.train();
  const dv = values(d.forward(ones([1000])));
  assert.ok(dv.some((v) => v === 0) && dv.some((v) => v === 2), 'Dropout in train zeroes and rescales');
  const seq = new nn.Sequential(conv, new nn.ReLU(), new nn.InstanceNorm2d(4));
  same(seq.forward(x), F.instanceNorm(F.conv2d(x, conv.weight, conv.bias, { stride: 2, padding: 1 }).relu()), 'Sequential');
  conv.dispose();
  ct.dispose();
}));

test('zeroGrad clears gradients; requiresGrad_ toggles every parameter', () => tidy(() => {
  const net = new nn.Sequential(new nn.Conv2d(1, 1, 1), new nn.BatchNorm2d(1));
  net.forward(ones([2, 1, 2, 2]).add(tensor([0, 1], [2, 1, 1, 1]))).sum().backward();
  assert.ok(net.parameters().every((p) => p.grad !== null));
  net.zeroGrad();
  assert.ok(net.parameters().every((p) => p.grad !== null && p.grad.abs().sum().item() === 0), 'zeroed in place');
  net.zeroGrad(true);
  assert.ok(net.parameters().every((p) => p.grad === null), 'dropped');
  net.requiresGrad_(false);
  assert.ok(net.parameters().every((p) => !p.requiresGrad));
  noGrad(() => net.forward(ones([2, 1, 2, 2])));
  net.dispose();
}));

test('Module.to(dtype) converts floating parameters and buffers in place, keeps integer buffers and identities', () => tidy(() => {
  const net = new nn.Sequential(new nn.Conv2d(2, 3, 3, { padding: 1 }), new nn.BatchNorm2d(3));
  net.forward(ones([1, 2, 4, 4])).sum().backward();
  const before = [...net.stateDict()];
  const asF32 = before.map(([, t]) => values(t));
  assert.ok(net.parameters().every((p) => p.grad !== null));
  assert.equal(net.to('float64'), net);
  const after = [...net.stateDict()];
  after.forEach(([k, t], i) => {
    assert.equal(t, before[i]![1], `${k} is the same tensor object`);
    assert.equal(t.dtype, k.endsWith('num_batches_tracked') ? 'int64' : 'float64', `${k} dtype`);
    assert.deepEqual(values(t), asF32[i], `${k} values survive the conversion`);
  });
  assert.ok(net.parameters().every((p) => p.grad === null && p.requiresGrad), 'grads dropped, still trainable');
  net.eval();
  const xData = randomValues(32, 44);
  const x = tensor(xData, [1, 2, 4, 4], { dtype: 'float64' });
  const y = net.forward(x);
  assert.equal(y.dtype, 'float64');
  const sd = net.stateDict();
  const ref = F.batchNorm(F.conv2d(x, sd.get('0.weight')!, sd.get('0.bias')!, { padding: 1 }), sd.get('1.running_mean')!, sd.get('1.running_var')!,
    { weight: sd.get('1.weight')!, bias: sd.get('1.bias')! });
  assertClose(values(y), values(ref), { atol: 1e-12 });
  net.to('float32');
  assert.equal(net.stateDict().get('0.weight')!.dtype, 'float32');
  net.dispose();
}));
