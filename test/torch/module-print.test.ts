// Printing modules: describe() / toString() against PyTorch's repr format (the expected texts
// are written out by hand from torch 1.13's `__repr__` and each layer's `extra_repr`), nested
// child names in the pix2pixHD networks, and the parameter counts of networkSummary.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GlobalGenerator, LocalEnhancer, MultiscaleDiscriminator, ResnetBlock, Vgg19Features } from '../../src/models/index.js';
import { nn } from '../../src/torch/index.js';

const IN64 = 'InstanceNorm2d(64, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)';

test('a flat Sequential prints as torch.nn.Sequential does', () => {
  const net = new nn.Sequential(
    new nn.ReflectionPad2d(3),
    new nn.Conv2d(36, 64, 7),
    new nn.InstanceNorm2d(64),
    new nn.ReLU(true),
    new nn.Conv2d(64, 128, 3, { stride: 2, padding: 1 }),
    new nn.BatchNorm2d(128),
    new nn.LeakyReLU(0.2, true),
    new nn.ConvTranspose2d(128, 64, 3, { stride: 2, padding: 1, outputPadding: 1 }),
    new nn.Tanh(),
  );
  try {
    const expected = [
      'Sequential(',
      '  (0): ReflectionPad2d((3, 3, 3, 3))',
      '  (1): Conv2d(36, 64, kernel_size=(7, 7), stride=(1, 1))',
      `  (2): ${IN64}`,
      '  (3): ReLU(inplace=True)',
      '  (4): Conv2d(64, 128, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))',
      '  (5): BatchNorm2d(128, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)',
      '  (6): LeakyReLU(negative_slope=0.2, inplace=True)',
      '  (7): ConvTranspose2d(128, 64, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))',
      '  (8): Tanh()',
      ')',
    ].join('\n');
    assert.equal(net.describe(), expected);
    assert.equal(String(net), expected);
    assert.equal(`${net}`, expected);

    // Counted by hand: conv 36·64·7·7 + 64, batch norm 2·128, conv 64·128·3·3 + 128, transposed conv 128·64·3·3 + 64.
    const byHand = 36 * 64 * 49 + 64 + 2 * 128 + 64 * 128 * 9 + 128 + 128 * 64 * 9 + 64;
    const byShapes = net.namedParameters().reduce((n, [, p]) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    assert.equal(byHand, 260864);
    assert.equal(byShapes, byHand);
    assert.equal(net.parameterCount(), byHand);
    assert.ok(nn.networkSummary('net', net).endsWith(`\nTotal number of parameters: ${byHand}`));
  } finally {
    net.dispose();
  }
});

test('nested modules indent two spaces per level; leaves without arguments print ()', () => {
  const net = new nn.Sequential(
    new nn.Sequential(new nn.ReLU(), new nn.Dropout(0.5), new nn.Sequential(new nn.Sigmoid())),
    new nn.Identity(),
    new nn.Sequential(),
  );
  assert.equal(net.describe(), [
    'Sequential(',
    '  (0): Sequential(',
    '    (0): ReLU()',
    '    (1): Dropout(p=0.5, inplace=False)',
    '    (2): Sequential(',
    '      (0): Sigmoid()',
    '    )',
    '  )',
    '  (1): Identity()',
    '  (2): Sequential()',
    ')',
  ].join('\n'));
});

test('each layer prints its non-default arguments as torch does', () => {
  const cases: [nn.Module, string][] = [
    [new nn.Conv2d(4, 8, [3, 1], { padding: [2, 0], dilation: 2, groups: 2, bias: false }),
      'Conv2d(4, 8, kernel_size=(3, 1), stride=(1, 1), padding=(2, 0), dilation=(2, 2), groups=2, bias=False)'],
    [new nn.Conv2d(3, 1, 4, { stride: 1, padding: 2 }), 'Conv2d(3, 1, kernel_size=(4, 4), stride=(1, 1), padding=(2, 2))'],
    [new nn.ConvTranspose2d(2, 5, 3, { stride: 2, bias: false }), 'ConvTranspose2d(2, 5, kernel_size=(3, 3), stride=(2, 2), bias=False)'],
    [new nn.InstanceNorm2d(2, { affine: true, trackRunningStats: true }), 'InstanceNorm2d(2, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)'],
    [new nn.BatchNorm2d(3, { eps: 1e-3, momentum: 0.01 }), 'BatchNorm2d(3, eps=0.001, momentum=0.01, affine=True, track_running_stats=True)'],
    [new nn.ReLU(), 'ReLU()'],
    [new nn.LeakyReLU(), 'LeakyReLU(negative_slope=0.01)'],
    [new nn.ReflectionPad2d([1, 2, 3, 4]), 'ReflectionPad2d((1, 2, 3, 4))'],
    [new nn.ReplicationPad2d(1), 'ReplicationPad2d((1, 1, 1, 1))'],
    [new nn.ZeroPad2d(2), 'ZeroPad2d((2, 2, 2, 2))'],
    [new nn.MaxPool2d(2, { stride: 2 }), 'MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)'],
    [new nn.AvgPool2d(3, { stride: 2, padding: [1, 1], countIncludePad: false }), 'AvgPool2d(kernel_size=3, stride=2, padding=(1, 1))'],
    [new nn.AvgPool2d(2), 'AvgPool2d(kernel_size=2, stride=2, padding=0)'],
    [new nn.Dropout(0.25), 'Dropout(p=0.25, inplace=False)'],
  ];
  for (const [m, expected] of cases) {
    try {
      assert.equal(m.describe(), expected);
    } finally {
      m.dispose();
    }
  }
});

test('floats are written as Python writes them', () => {
  const cases: [number, string][] = [
    [1e-5, '1e-05'], [0.1, '0.1'], [1, '1.0'], [0, '0.0'], [0.0001, '0.0001'], [1.5e-7, '1.5e-07'],
    [1e16, '1e+16'], [123.25, '123.25'], [-0.2, '-0.2'], [2.5e-12, '2.5e-12'],
  ];
  for (const [x, s] of cases) assert.equal(nn.pyFloat(x), s, String(x));
});

test('ResnetBlock prints as the official one', () => {
  const block = new ResnetBlock(4);
  const norm = 'InstanceNorm2d(4, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)';
  try {
    assert.equal(block.describe(), [
      'ResnetBlock(',
      '  (conv_block): Sequential(',
      '    (0): ReflectionPad2d((1, 1, 1, 1))',
      '    (1): Conv2d(4, 4, kernel_size=(3, 3), stride=(1, 1))',
      `    (2): ${norm}`,
      '    (3): ReLU(inplace=True)',
      '    (4): ReflectionPad2d((1, 1, 1, 1))',
      '    (5): Conv2d(4, 4, kernel_size=(3, 3), stride=(1, 1))',
      `    (6): ${norm}`,
      '  )',
      ')',
    ].join('\n'));
  } finally {
    block.dispose();
  }
});

test('the pix2pixHD networks print their nested child names', () => {
  const G = new GlobalGenerator({ input_nc: 5, output_nc: 3, ngf: 4, n_downsample_global: 2, n_blocks_global: 2 });
  const G2 = new LocalEnhancer({ input_nc: 5, output_nc: 3, ngf: 4, n_downsample_global: 1, n_blocks_global: 1, n_local_enhancers: 1, n_blocks_local: 1 });
  const D = new MultiscaleDiscriminator({ input_nc: 8, ndf: 4, n_layers_D: 2, num_D: 2 });
  try {
    const g = G.describe();
    assert.ok(g.startsWith('GlobalGenerator(\n  (model): Sequential(\n    (0): ReflectionPad2d((3, 3, 3, 3))\n    (1): Conv2d(5, 4, kernel_size=(7, 7), stride=(1, 1))\n'), g);
    // layers 0–9: pad, conv, norm, relu, then two downsampling triples; the blocks at 10 and 11
    assert.ok(g.includes('\n    (10): ResnetBlock(\n      (conv_block): Sequential(\n        (0): ReflectionPad2d((1, 1, 1, 1))\n        (1): Conv2d(16, 16, kernel_size=(3, 3), stride=(1, 1))\n'), g);
    assert.ok(g.includes('\n    (12): ConvTranspose2d(16, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))\n'), g);
    assert.ok(g.endsWith('\n    (20): Tanh()\n  )\n)'), g);

    const g2 = G2.describe();
    for (const name of ['model', 'model1_1', 'model1_2']) assert.ok(g2.includes(`\n  (${name}): Sequential(\n`), name);
    assert.ok(g2.startsWith('LocalEnhancer(\n'));

    const d = D.describe();
    for (let i = 0; i < 2; i++) for (let j = 0; j < 4; j++) assert.ok(d.includes(`\n  (scale${i}_layer${j}): Sequential(\n`), `scale${i}_layer${j}`);
    assert.ok(d.includes('\n  (scale0_layer0): Sequential(\n    (0): Conv2d(8, 4, kernel_size=(4, 4), stride=(2, 2), padding=(2, 2))\n    (1): LeakyReLU(negative_slope=0.2, inplace=True)\n  )\n'), d);

    // Per top-level child and in total, the counts are sums of the parameters' numel.
    for (const net of [G, G2, D]) {
      const numel = (entries: [string, { numel: number }][]) => entries.reduce((n, [, p]) => n + p.numel, 0);
      const total = numel(net.namedParameters());
      const summary = nn.networkSummary('net', net);
      const lines = summary.split('\n');
      assert.equal(lines[lines.length - 1], `Total number of parameters: ${total}`);
      const children = net.childParameterCounts();
      assert.deepEqual(children.map(([k]) => k), net.namedChildren().map(([k]) => k));
      for (const [k, n] of children) {
        assert.equal(n, numel(net.namedParameters().filter(([key]) => key.startsWith(`${k}.`))), k);
        assert.ok(lines.some((l) => l.trim().split(/\s+/).join(' ') === `${k} ${n}`), `${k} ${n} in\n${summary}`);
      }
      assert.equal(children.reduce((s, [, n]) => s + n, 0), total);
      assert.ok(summary.startsWith(`net: ${net.describe()}\n`));
    }
  } finally {
    G.dispose();
    G2.dispose();
    D.dispose();
  }
});

test('networkSummary: the repr, each top-level child\'s parameters, then the total', () => {
  const net = new nn.Sequential(new nn.Conv2d(2, 3, 1), new nn.Sequential(new nn.BatchNorm2d(3)), new nn.ReLU());
  try {
    assert.equal(nn.networkSummary('netX', net), [
      'netX: Sequential(',
      '  (0): Conv2d(2, 3, kernel_size=(1, 1), stride=(1, 1))',
      '  (1): Sequential(',
      '    (0): BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)',
      '  )',
      '  (2): ReLU()',
      ')',
      'Parameters of netX by child:',
      '  0  9',
      '  1  6',
      '  2  0',
      'Total number of parameters: 15',
    ].join('\n'));
    // frozen parameters still count, as in the official print_network
    net.requiresGrad_(false);
    assert.ok(nn.networkSummary('netX', net).endsWith('Total number of parameters: 15'));
  } finally {
    net.dispose();
  }
});

test('VGG19 slices print as torchvision\'s Sequential with its layer indices', () => {
  const vgg = new Vgg19Features();
  try {
    const s = vgg.describe();
    assert.ok(s.startsWith('Vgg19Features(\n  (slice1): Sequential(\n    (0): Conv2d(3, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n    (1): ReLU(inplace=True)\n  )\n'), s);
    assert.ok(s.includes('\n  (slice2): Sequential(\n    (2): Conv2d(64, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n    (3): ReLU(inplace=True)\n    (4): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n'), s);
    assert.ok(s.endsWith('\n    (29): ReLU(inplace=True)\n  )\n)'), s);
  } finally {
    vgg.dispose();
  }
});
