// Architecture details beyond the fixture configurations: key names and shapes for batch norm,
// several local enhancers, discriminators without intermediate features, the sigmoid, the
// 512-filter cap, and the official weight initialisation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { F, nn, noGrad, tidy } from '../../src/torch/index.js';
import {
  GlobalGenerator, initWeights, LocalEnhancer, MultiscaleDiscriminator, NLayerDiscriminator,
} from '../../src/models/index.js';
import { relL2, uniform } from './helpers.js';

function shapes(net: nn.Module): Record<string, number[]> {
  return Object.fromEntries([...net.stateDict()].map(([k, t]) => [k, t.shape]));
}

const BN = (prefix: string, c: number): Record<string, number[]> => ({
  [`${prefix}.weight`]: [c], [`${prefix}.bias`]: [c], [`${prefix}.running_mean`]: [c], [`${prefix}.running_var`]: [c],
  [`${prefix}.num_batches_tracked`]: [],
});

test('GlobalGenerator with batch norm: official indices, with BatchNorm2d parameters and buffers', () => {
  const G = new GlobalGenerator({ input_nc: 5, output_nc: 3, ngf: 2, n_downsample_global: 1, n_blocks_global: 1, norm: 'batch' });
  try {
    assert.deepEqual(shapes(G), {
      'model.1.weight': [2, 5, 7, 7], 'model.1.bias': [2], ...BN('model.2', 2),
      'model.4.weight': [4, 2, 3, 3], 'model.4.bias': [4], ...BN('model.5', 4),
      'model.7.conv_block.1.weight': [4, 4, 3, 3], 'model.7.conv_block.1.bias': [4], ...BN('model.7.conv_block.2', 4),
      'model.7.conv_block.5.weight': [4, 4, 3, 3], 'model.7.conv_block.5.bias': [4], ...BN('model.7.conv_block.6', 4),
      'model.8.weight': [4, 2, 3, 3], 'model.8.bias': [2], ...BN('model.9', 2),
      'model.12.weight': [3, 2, 7, 7], 'model.12.bias': [3],
    });
    const y = tidy(() => G.forward(uniform([2, 5, 8, 8], 1)).toNumbers());
    assert.ok(y.every((v) => v > -1 && v < 1), 'tanh output');
  } finally {
    G.dispose();
  }
});

test('LocalEnhancer with two enhancers: G1 at 4·ngf without output layers, model1_* and model2_*, output from model2_2', () => {
  const opts = { input_nc: 3, output_nc: 2, ngf: 2, n_downsample_global: 1, n_blocks_global: 1, n_local_enhancers: 2, n_blocks_local: 1 };
  const G = new LocalEnhancer(opts);
  try {
    assert.deepEqual(shapes(G), {
      'model.1.weight': [8, 3, 7, 7], 'model.1.bias': [8],
      'model.4.weight': [16, 8, 3, 3], 'model.4.bias': [16],
      'model.7.conv_block.1.weight': [16, 16, 3, 3], 'model.7.conv_block.1.bias': [16],
      'model.7.conv_block.5.weight': [16, 16, 3, 3], 'model.7.conv_block.5.bias': [16],
      'model.8.weight': [16, 8, 3, 3], 'model.8.bias': [8],
      'model1_1.1.weight': [4, 3, 7, 7], 'model1_1.1.bias': [4], 'model1_1.4.weight': [8, 4, 3, 3], 'model1_1.4.bias': [8],
      'model1_2.0.conv_block.1.weight': [8, 8, 3, 3], 'model1_2.0.conv_block.1.bias': [8],
      'model1_2.0.conv_block.5.weight': [8, 8, 3, 3], 'model1_2.0.conv_block.5.bias': [8],
      'model1_2.1.weight': [8, 4, 3, 3], 'model1_2.1.bias': [4],
      'model2_1.1.weight': [2, 3, 7, 7], 'model2_1.1.bias': [2], 'model2_1.4.weight': [4, 2, 3, 3], 'model2_1.4.bias': [4],
      'model2_2.0.conv_block.1.weight': [4, 4, 3, 3], 'model2_2.0.conv_block.1.bias': [4],
      'model2_2.0.conv_block.5.weight': [4, 4, 3, 3], 'model2_2.0.conv_block.5.bias': [4],
      'model2_2.1.weight': [4, 2, 3, 3], 'model2_2.1.bias': [2],
      'model2_2.5.weight': [2, 2, 7, 7], 'model2_2.5.bias': [2],
    });
    // The coarsest input goes to G1, the middle one to enhancer 1, the full-size one to enhancer 2.
    noGrad(() => tidy(() => {
      const x = uniform([1, 3, 16, 24], 4);
      const child = (name: string) => G.child(name) as nn.Sequential;
      const half = F.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false });
      const quarter = F.avgPool2d(half, 3, { stride: 2, padding: 1, countIncludePad: false });
      const g1 = child('model').forward(quarter);
      const e1 = child('model1_2').forward(child('model1_1').forward(half).add(g1));
      const expected = child('model2_2').forward(child('model2_1').forward(x).add(e1));
      const y = G.forward(x);
      assert.deepEqual(y.shape, [1, 2, 16, 24]);
      assert.equal(relL2(y, expected), 0);
    }));
  } finally {
    G.dispose();
  }
});

test('discriminator without intermediate features: one Sequential per scale, layer{i}.N keys, one output per scale', () => {
  const D = new MultiscaleDiscriminator({ input_nc: 4, ndf: 2, n_layers_D: 2, num_D: 3, getIntermFeat: false, use_sigmoid: true });
  try {
    const keys = [...D.stateDict().keys()];
    const perScale = ['0.weight', '0.bias', '2.weight', '2.bias', '5.weight', '5.bias', '8.weight', '8.bias'];
    assert.deepEqual(keys, [0, 1, 2].flatMap((i) => perScale.map((k) => `layer${i}.${k}`)));
    noGrad(() => tidy(() => {
      const out = D.forward(uniform([1, 4, 32, 32], 3));
      assert.deepEqual(out.map((s) => s.length), [1, 1, 1]);
      // Scale i sees the input halved i times: 32, 16, 8 → score maps 11, 7, 5 wide.
      assert.deepEqual(out.map((s) => s[0]!.shape), [[1, 1, 11, 11], [1, 1, 7, 7], [1, 1, 5, 5]]);
      for (const s of out) assert.ok(s[0]!.toNumbers().every((v) => v > 0 && v < 1), 'sigmoid output');
    }));
  } finally {
    D.dispose();
  }
});

test('with use_sigmoid and intermediate features, the last output is the sigmoid of the scores', () => {
  const plain = new NLayerDiscriminator({ input_nc: 3, ndf: 4, n_layers_D: 1 });
  const sig = new NLayerDiscriminator({ input_nc: 3, ndf: 4, n_layers_D: 1, use_sigmoid: true });
  try {
    assert.deepEqual([...sig.stateDict().keys()], ['model0.0.weight', 'model0.0.bias', 'model1.0.weight', 'model1.0.bias', 'model2.0.weight', 'model2.0.bias']);
    sig.loadStateDict(plain.stateDict());
    noGrad(() => tidy(() => {
      const x = uniform([1, 3, 16, 16], 8);
      const a = plain.forward(x);
      const b = sig.forward(x);
      assert.equal(b.length, 3);
      assert.equal(relL2(b[1]!, a[1]!), 0, 'features unchanged');
      const scores = a[2]!.toNumbers();
      b[2]!.toNumbers().forEach((p, i) => assert.ok(Math.abs(p - 1 / (1 + Math.exp(-scores[i]!))) < 1e-6));
    }));
  } finally {
    plain.dispose();
    sig.dispose();
  }
});

test('discriminator filters double per layer up to 512', () => {
  const D = new NLayerDiscriminator({ input_nc: 3, ndf: 128, n_layers_D: 4 });
  try {
    const w = [...D.stateDict()].filter(([k]) => k.endsWith('weight')).map(([, t]) => t.shape.slice(0, 2));
    assert.deepEqual(w, [[128, 3], [256, 128], [512, 256], [512, 512], [512, 512], [1, 512]]);
  } finally {
    D.dispose();
  }
});

test('initWeights: conv weights N(0, 0.02), conv biases U(±1/√fan_in), batch-norm weights N(1, 0.02) and zero biases; the seed decides all', () => {
  const make = (seed: number) => initWeights(new GlobalGenerator({ input_nc: 3, output_nc: 3, ngf: 32, n_downsample_global: 1, n_blocks_global: 1, norm: 'batch' }), { seed });
  const a = make(7);
  const b = make(7);
  const c = make(8);
  try {
    const stats = (values: number[]) => {
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
      return { mean, std };
    };
    const sd = a.stateDict();
    const conv = stats(sd.get('model.7.conv_block.1.weight')!.toNumbers()); // 64·64·9 samples
    assert.ok(Math.abs(conv.mean) < 0.001 && Math.abs(conv.std - 0.02) < 0.0005, `conv ${JSON.stringify(conv)}`);
    const convT = stats(sd.get('model.8.weight')!.toNumbers());
    assert.ok(Math.abs(convT.std - 0.02) < 0.001, `transposed conv ${JSON.stringify(convT)}`);
    // Batch-norm layers are those with running statistics.
    const bnPrefixes = [...sd.keys()].filter((k) => k.endsWith('.running_mean')).map((k) => k.slice(0, -'running_mean'.length));
    assert.equal(bnPrefixes.length, 5);
    const bnWeights = bnPrefixes.flatMap((p) => sd.get(`${p}weight`)!.toNumbers());
    const bn = stats(bnWeights);
    assert.ok(Math.abs(bn.mean - 1) < 0.005 && Math.abs(bn.std - 0.02) < 0.005, `batch norm ${JSON.stringify(bn)}`);
    const bnBias = bnPrefixes.flatMap((p) => sd.get(`${p}bias`)!.toNumbers());
    assert.ok(bnBias.length > 0 && bnBias.every((v) => v === 0));
    const bias = sd.get('model.7.conv_block.1.bias')!.toNumbers(); // U(±1/√(64·9)), PyTorch's default
    assert.ok(bias.every((v) => Math.abs(v) <= 1 / Math.sqrt(64 * 9)) && stats(bias).std > 0.01);
    for (const [k, t] of sd) assert.deepEqual(t.toNumbers(), b.stateDict().get(k)!.toNumbers(), `${k}: same seed, same values`);
    assert.notDeepEqual(sd.get('model.1.weight')!.toNumbers(), c.stateDict().get('model.1.weight')!.toNumbers());
  } finally {
    a.dispose();
    b.dispose();
    c.dispose();
  }
});

test('Module.to converts parameters in place: the layers compute in the new dtype', () => {
  const G = new GlobalGenerator({ input_nc: 2, output_nc: 1, ngf: 2, n_downsample_global: 1, n_blocks_global: 1, norm: 'batch' });
  try {
    const before = tidy(() => G.forward(uniform([1, 2, 8, 8], 2)).toNumbers());
    const weight = G.stateDict().get('model.1.weight')!;
    G.to('float64');
    assert.equal(weight.dtype, 'float64', 'the same tensor object now holds float64');
    assert.equal(G.stateDict().get('model.2.num_batches_tracked')!.dtype, 'int64', 'integer buffers keep their dtype');
    const after = tidy(() => G.forward(uniform([1, 2, 8, 8], 2).to('float64')));
    assert.equal(after.dtype, 'float64');
    after.toNumbers().forEach((v, i) => assert.ok(Math.abs(v - before[i]!) < 1e-5));
    after.dispose();
  } finally {
    G.dispose();
  }
});
