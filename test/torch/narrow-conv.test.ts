// The generators' last layer in one pass (native/src/narrow_conv.cpp): reflection padding and a
// K×K convolution to at most 4 channels, against ATen's pad and conv2d at widths that take each of
// its code paths (vector blocks, single vectors, pixels one at a time near the borders), and
// nn.Sequential's use of it in synthesis.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { F, nn, noGrad, randn, tidy, type Tensor } from '../../src/torch/index.js';
import { assertClose, opsRun } from './helpers.js';

const values = (t: Tensor): number[] => Array.from(t.toArray() as Float32Array | Float64Array);

for (const [dtype, tol] of [['float32', 1e-5], ['float64', 1e-12]] as const) {
  test(`reflectConvNarrow equals reflection padding then conv2d (${dtype}; 1–4 outputs, K 1, 3 and 7, widths 7 to 61, with and without bias)`, () => tidy(() => {
    for (const [outputs, K, h, w, bias] of [[3, 7, 9, 61, true], [1, 3, 5, 30, false], [2, 7, 8, 7, true], [4, 1, 3, 40, true], [3, 3, 6, 33, false]] as const) {
      const x = randn([2, 5, h, w], { dtype });
      const weight = randn([outputs, 5, K, K], { dtype }).mul(0.2);
      const b = bias ? randn([outputs], { dtype }) : null;
      const p = (K - 1) / 2;
      const expected = noGrad(() => F.conv2d(F.pad(x, [p, p, p, p], 'reflect'), weight, b));
      const got = noGrad(() => F.reflectConvNarrow(x, weight, b));
      assert.deepEqual(got.shape, expected.shape);
      assertClose(values(got), values(expected), { rtol: tol, atol: tol }, `${outputs} outputs, K ${K}, ${h}×${w}`);
    }
  }));
}

test('reflectConvNarrow refuses autograd, more than 4 outputs, an even kernel and a map smaller than the padding', () => tidy(() => {
  const x = randn([1, 3, 8, 8]);
  assert.throws(() => F.reflectConvNarrow(x, randn([3, 3, 3, 3]).requiresGrad_(true)), /inference only/);
  assert.throws(() => noGrad(() => F.reflectConvNarrow(x, randn([5, 3, 3, 3]))), /O ≤ 4/);
  assert.throws(() => noGrad(() => F.reflectConvNarrow(x, randn([3, 3, 2, 2]))), /K odd/);
  assert.throws(() => noGrad(() => F.reflectConvNarrow(randn([1, 3, 3, 3]), randn([3, 3, 7, 7]))), /larger than it/);
}));

test("nn.Sequential in synthesis (withInPlaceNorms, no_grad) runs a generator's last layers through it, with the plain path's output; not otherwise", () => tidy(() => {
  const head = new nn.Sequential(new nn.InstanceNorm2d(6), new nn.ReLU(true), new nn.ReflectionPad2d(3), new nn.Conv2d(6, 3, 7), new nn.Tanh());
  const x = randn([1, 6, 20, 45]);
  const profiled = (fn: () => Tensor): { out: Tensor; fused: boolean } => {
    let out: Tensor | null = null;
    const fused = opsRun(() => { out = fn(); }).includes('pix2pixhd::reflect_conv_narrow');
    return { out: out!, fused };
  };
  const plain = profiled(() => noGrad(() => head.forward(x)));
  const synthesis = profiled(() => nn.withInPlaceNorms(() => noGrad(() => head.forward(x))));
  assert.equal(plain.fused, false);
  assert.equal(synthesis.fused, true);
  assertClose(values(synthesis.out), values(plain.out), { rtol: 1e-5, atol: 1e-5 });
}));
