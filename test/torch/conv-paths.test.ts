// The convolution paths chosen for float32 on the CPU, against ATen's float64 path:
// - transposed convolutions run in oneDNN as a convolution's input gradient (native/src/conv_transpose.cpp):
//   outputs and the gradients of input, weight and bias, for the generators' geometry and others
//   (stride 1, kernel 4, dilation, non-square, a batch of two, no bias);
// - 1024-channel convolutions over few pixels run as im2col and a GEMM (F.conv2d's takesGemmPath),
//   and only those.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { F, randn, tidy, type Tensor } from '../../src/torch/index.js';
import { assertClose, opsRun } from './helpers.js';

const values = (t: Tensor): number[] => Array.from(t.toArray() as Float32Array | Float64Array);

const cases = [
  { name: "the generators' up-sampling (k3 s2 p1 op1)", x: [1, 8, 6, 10], w: [8, 4, 3, 3], stride: 2, padding: 1, outputPadding: 1, dilation: 1, bias: true },
  { name: 'stride 1, no padding, batch 2, no bias', x: [2, 5, 7, 4], w: [5, 6, 3, 3], stride: 1, padding: 0, outputPadding: 0, dilation: 1, bias: false },
  { name: 'k4 s2 p1', x: [1, 3, 5, 9], w: [3, 7, 4, 4], stride: 2, padding: 1, outputPadding: 0, dilation: 1, bias: true },
  { name: 'dilation 2, stride 3, output padding 2', x: [1, 4, 5, 6], w: [4, 3, 3, 2], stride: 3, padding: 2, outputPadding: 2, dilation: 2, bias: true },
] as const;

for (const c of cases) {
  test(`convTranspose2d in float32 (oneDNN) equals ATen's float64 path, gradients too: ${c.name}`, () => tidy(() => {
    const x64 = randn([...c.x], { dtype: 'float64' });
    const w64 = randn([...c.w], { dtype: 'float64' }).mul(0.3);
    const b64 = randn([c.w[1]], { dtype: 'float64' });
    const opts = { stride: c.stride, padding: c.padding, outputPadding: c.outputPadding, dilation: c.dilation };
    // A weighting of the output that differs per position, so that every gradient entry is checked.
    let weights64: Tensor | null = null;
    const run = (dtype: 'float32' | 'float64') => {
      const x = x64.to('cpu', { dtype }).detach().requiresGrad_(true);
      const w = w64.to('cpu', { dtype }).detach().requiresGrad_(true);
      const b = c.bias ? b64.to('cpu', { dtype }).detach().requiresGrad_(true) : null;
      const y = F.convTranspose2d(x, w, b, opts);
      weights64 ??= randn(y.shape, { dtype: 'float64' });
      y.mul(weights64.to('cpu', { dtype })).sum().backward();
      return { y, gx: x.grad!, gw: w.grad!, gb: b?.grad ?? null };
    };
    const expected = run('float64');
    const got = run('float32');
    assert.deepEqual(got.y.shape, expected.y.shape);
    const tol = { rtol: 1e-4, atol: 1e-4 };
    assertClose(values(got.y), values(expected.y), tol, 'output');
    assertClose(values(got.gx), values(expected.gx), tol, 'input gradient');
    assertClose(values(got.gw), values(expected.gw), tol, 'weight gradient');
    if (c.bias) assertClose(values(got.gb!), values(expected.gb!), tol, 'bias gradient');
  }));
}

test('convTranspose2d in float32 computes only the gradients asked for (weight only, input only)', () => tidy(() => {
  const x = randn([1, 4, 5, 5]);
  const w = randn([4, 2, 3, 3]).requiresGrad_(true);
  F.convTranspose2d(x, w, null, { stride: 2, padding: 1, outputPadding: 1 }).sum().backward();
  assert.equal(x.grad, null);
  assert.deepEqual(w.grad!.shape, [4, 2, 3, 3]);
  const x2 = randn([1, 4, 5, 5]).requiresGrad_(true);
  const w2 = randn([4, 2, 3, 3]);
  F.convTranspose2d(x2, w2, null, { stride: 2, padding: 1, outputPadding: 1 }).sum().backward();
  assert.deepEqual(x2.grad!.shape, [1, 4, 5, 5]);
  assert.equal(w2.grad, null);
}));

test("a 1024-channel convolution over ≤ 512 output pixels runs as a GEMM, equal to the float64 path with its gradients; above 512 pixels it stays in oneDNN", () => tidy(() => {
  const x64 = randn([1, 1024, 6, 10], { dtype: 'float64' });
  const w64 = randn([1024, 1024, 3, 3], { dtype: 'float64' }).mul(0.01);
  const b64 = randn([1024], { dtype: 'float64' });
  const g64 = randn([1, 1024, 4, 8], { dtype: 'float64' });
  const run = (dtype: 'float32' | 'float64') => {
    const x = x64.to('cpu', { dtype }).detach().requiresGrad_(true);
    const w = w64.to('cpu', { dtype }).detach().requiresGrad_(true);
    const b = b64.to('cpu', { dtype }).detach().requiresGrad_(true);
    let y: Tensor | null = null;
    const ops = opsRun(() => {
      y = F.conv2d(x, w, b);
      y.mul(g64.to('cpu', { dtype })).sum().backward();
    });
    return { y: y!, gx: x.grad!, gw: w.grad!, gb: b.grad!, ops };
  };
  const expected = run('float64');
  const got = run('float32');
  assert.match(got.ops, /thnn_conv2d/);
  assert.doesNotMatch(got.ops, /mkldnn_convolution/);
  const tol = { rtol: 1e-4, atol: 1e-4 };
  assertClose(values(got.y), values(expected.y), tol, 'output');
  assertClose(values(got.gx), values(expected.gx), tol, 'input gradient');
  assertClose(values(got.gw), values(expected.gw), tol, 'weight gradient');
  assertClose(values(got.gb), values(expected.gb), tol, 'bias gradient');
  // 24×24 output pixels (576): oneDNN.
  const big = opsRun(() => F.conv2d(randn([1, 1024, 26, 26]), w64.to('cpu', { dtype: 'float32' }), null));
  assert.match(big, /mkldnn_convolution/);
  assert.doesNotMatch(big, /thnn_conv2d/);
}));
