// torch.nn.functional equivalents against plain-JS loops and hand-worked cases: convolutions,
// normalisation, padding, pooling, resampling, losses, dropout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { F, manualSeed, ones, tensor, tidy, zeros, type DType, type Tensor } from '../../src/torch/index.js';
import { assertClose, conv2dRef, convTranspose2dRef, instanceNormRef, prod, randomValues, values } from './helpers.js';

const t = (data: readonly number[], shape?: number[], dtype: DType = 'float32'): Tensor => tensor(data, shape, { dtype });

test('conv2d matches a direct loop: stride, padding, dilation, groups, bias', () => tidy(() => {
  const configs: { xs: number[]; ws: number[]; bias: boolean; stride?: [number, number]; padding?: [number, number]; dilation?: [number, number]; groups?: number }[] = [
    { xs: [1, 1, 4, 4], ws: [1, 1, 3, 3], bias: false },
    { xs: [2, 3, 6, 5], ws: [4, 3, 3, 3], bias: true, padding: [1, 1] },
    { xs: [1, 2, 7, 7], ws: [3, 2, 3, 2], bias: true, stride: [2, 3], padding: [1, 0] },
    { xs: [1, 2, 8, 8], ws: [2, 2, 3, 3], bias: false, dilation: [2, 2], padding: [2, 1] },
    { xs: [2, 4, 5, 5], ws: [6, 2, 3, 3], bias: true, groups: 2, padding: [1, 1], stride: [2, 2] },
    { xs: [1, 4, 4, 4], ws: [4, 1, 1, 1], bias: true, groups: 4 },
  ];
  configs.forEach((c, k) => {
    const x = randomValues(prod(c.xs), 10 + k);
    const w = randomValues(prod(c.ws), 20 + k);
    const b = c.bias ? randomValues(c.ws[0]!, 30 + k) : null;
    const ref = conv2dRef(x, c.xs, w, c.ws, b, c);
    for (const dtype of ['float32', 'float64'] as const) {
      const out = F.conv2d(t(x, c.xs, dtype), t(w, c.ws, dtype), b ? t(b, [b.length], dtype) : null, c);
      assert.equal(out.dtype, dtype);
      assertClose(values(out, ref.shape), ref.data, dtype === 'float64' ? { atol: 1e-12 } : { atol: 1e-5 }, `conv config ${k} ${dtype}`);
    }
  });
  // numbers given for stride/padding apply to both sides
  const x = randomValues(50, 1);
  const w = randomValues(18, 2);
  const ref = conv2dRef(x, [1, 2, 5, 5], w, [1, 2, 3, 3], null, { stride: [2, 2], padding: [1, 1] });
  assertClose(values(F.conv2d(t(x, [1, 2, 5, 5]), t(w, [1, 2, 3, 3]), null, { stride: 2, padding: 1 }), ref.shape), ref.data, { atol: 1e-5 });
}));

test('conv2d hand-worked 3x3 ones kernel', () => tidy(() => {
  // [[1..9]] with a 2x2 ones kernel: sums of each 2x2 window
  const out = F.conv2d(t([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]), ones([1, 1, 2, 2]), t([0.5], [1]));
  assert.deepEqual(values(out, [1, 1, 2, 2]), [12.5, 16.5, 24.5, 28.5]);
}));

test('convTranspose2d matches a scatter loop, output padding included', () => tidy(() => {
  const configs: { xs: number[]; ws: number[]; bias: boolean; stride?: [number, number]; padding?: [number, number]; outputPadding?: [number, number]; groups?: number; dilation?: [number, number] }[] = [
    { xs: [1, 1, 2, 2], ws: [1, 1, 2, 2], bias: false },
    { xs: [2, 3, 3, 4], ws: [3, 2, 3, 3], bias: true, stride: [2, 2], padding: [1, 1], outputPadding: [1, 1] },
    { xs: [1, 2, 4, 3], ws: [2, 3, 3, 2], bias: true, stride: [3, 2], padding: [0, 1], outputPadding: [2, 1] },
    { xs: [1, 4, 3, 3], ws: [4, 1, 3, 3], bias: true, stride: [2, 2], padding: [1, 1], outputPadding: [1, 0], groups: 2 },
    { xs: [1, 2, 3, 3], ws: [2, 2, 2, 2], bias: false, dilation: [2, 2] },
  ];
  configs.forEach((c, k) => {
    const x = randomValues(prod(c.xs), 40 + k);
    const w = randomValues(prod(c.ws), 50 + k);
    const b = c.bias ? randomValues(c.ws[1]! * (c.groups ?? 1), 60 + k) : null;
    const ref = convTranspose2dRef(x, c.xs, w, c.ws, b, c);
    for (const dtype of ['float32', 'float64'] as const) {
      const out = F.convTranspose2d(t(x, c.xs, dtype), t(w, c.ws, dtype), b ? t(b, [b.length], dtype) : null, c);
      assertClose(values(out, ref.shape), ref.data, dtype === 'float64' ? { atol: 1e-12 } : { atol: 1e-5 }, `convT config ${k} ${dtype}`);
    }
  });
  // pix2pixHD's upsampler: k3 s2 p1 op1 doubles the size exactly
  const y = F.convTranspose2d(zeros([1, 4, 5, 7]), zeros([4, 2, 3, 3]), null, { stride: 2, padding: 1, outputPadding: 1 });
  assert.deepEqual(y.shape, [1, 2, 10, 14]);
}));

test('convTranspose2d hand-worked: 2x2 input, 2x2 ones kernel, stride 2', () => tidy(() => {
  // Each input pixel becomes a 2x2 block; with output padding 1 an extra zero row/column (bias 1 there).
  const out = F.convTranspose2d(t([1, 2, 3, 4], [1, 1, 2, 2]), ones([1, 1, 2, 2]), t([1], [1]), { stride: 2, outputPadding: 1 });
  assert.deepEqual(values(out, [1, 1, 5, 5]), [
    2, 2, 3, 3, 1,
    2, 2, 3, 3, 1,
    4, 4, 5, 5, 1,
    4, 4, 5, 5, 1,
    1, 1, 1, 1, 1,
  ]);
}));

test('instanceNorm normalises each plane; affine weight and bias; eps', () => tidy(() => {
  const xs = [2, 3, 4, 5];
  const x = randomValues(prod(xs), 3, -2, 3);
  assertClose(values(F.instanceNorm(t(x, xs, 'float64')), xs), instanceNormRef(x, xs), { atol: 1e-12 });
  assertClose(values(F.instanceNorm(t(x, xs)), xs), instanceNormRef(x, xs), { atol: 1e-5 });
  const w = [0.5, -1, 2];
  const b = [0.1, 0.2, -0.3];
  const out = F.instanceNorm(t(x, xs, 'float64'), { weight: t(w, [3], 'float64'), bias: t(b, [3], 'float64'), eps: 1e-3 });
  assertClose(values(out), instanceNormRef(x, xs, 1e-3, w, b), { atol: 1e-12 });
  // hand-worked: [1, 3] → mean 2, var 1 → ±1/sqrt(1+eps)
  assertClose(values(F.instanceNorm(t([1, 3], [1, 1, 1, 2], 'float64'))), [-1 / Math.sqrt(1 + 1e-5), 1 / Math.sqrt(1 + 1e-5)], { atol: 1e-15 });
}));

test('instanceNorm with running stats updates them from the batch-averaged instance statistics', () => tidy(() => {
  const xs = [2, 1, 2, 2];
  const x = [1, 2, 3, 4, 10, 10, 14, 14];
  const rm = zeros([1], { dtype: 'float64' });
  const rv = ones([1], { dtype: 'float64' });
  F.instanceNorm(t(x, xs, 'float64'), { runningMean: rm, runningVar: rv, momentum: 0.5 });
  // instance means 2.5 and 12; unbiased variances 5/3 and 16/3; averaged over the batch
  assertClose(values(rm), [0.5 * 0 + 0.5 * (2.5 + 12) / 2], { atol: 1e-12 });
  assertClose(values(rv), [0.5 * 1 + 0.5 * (5 / 3 + 16 / 3) / 2], { atol: 1e-12 });
  // useInputStats false normalises with the running statistics
  const e = F.instanceNorm(t([4, 8], [1, 1, 1, 2], 'float64'), { runningMean: t([2], [1], 'float64'), runningVar: t([4], [1], 'float64'), useInputStats: false, eps: 0 });
  assertClose(values(e), [1, 3], { atol: 1e-12 });
}));

test('batchNorm: training uses batch statistics and updates running ones; eval uses running ones', () => tidy(() => {
  const xs = [2, 2, 2, 2];
  const x = randomValues(prod(xs), 5, -1, 4);
  const rm0 = [0.3, -0.2];
  const rv0 = [1.5, 0.7];
  const rm = t(rm0, [2], 'float64');
  const rv = t(rv0, [2], 'float64');
  const w = [2, 0.5];
  const b = [-1, 1];
  const momentum = 0.2;
  const eps = 1e-5;
  const out = F.batchNorm(t(x, xs, 'float64'), rm, rv, { weight: t(w, [2], 'float64'), bias: t(b, [2], 'float64'), training: true, momentum, eps });
  const expected = new Array<number>(x.length);
  const expRm: number[] = [];
  const expRv: number[] = [];
  for (let c = 0; c < 2; c++) {
    const idx: number[] = [];
    for (let n = 0; n < 2; n++) for (let i = 0; i < 4; i++) idx.push((n * 2 + c) * 4 + i);
    const mean = idx.reduce((s, i) => s + x[i]!, 0) / idx.length;
    const ss = idx.reduce((s, i) => s + (x[i]! - mean) ** 2, 0);
    const biased = ss / idx.length;
    const unbiased = ss / (idx.length - 1);
    for (const i of idx) expected[i] = (x[i]! - mean) / Math.sqrt(biased + eps) * w[c]! + b[c]!;
    expRm.push((1 - momentum) * rm0[c]! + momentum * mean);
    expRv.push((1 - momentum) * rv0[c]! + momentum * unbiased);
  }
  assertClose(values(out, xs), expected, { atol: 1e-12 });
  assertClose(values(rm), expRm, { atol: 1e-12 }, 'running mean');
  assertClose(values(rv), expRv, { atol: 1e-12 }, 'running var (unbiased)');
  // eval: (x - running_mean) / sqrt(running_var + eps) * w + b, running stats untouched
  const ev = F.batchNorm(t(x, xs, 'float64'), rm, rv, { weight: t(w, [2], 'float64'), bias: t(b, [2], 'float64'), training: false, eps });
  const expEv = x.map((v, i) => {
    const c = Math.floor(i / 4) % 2;
    return (v - expRm[c]!) / Math.sqrt(expRv[c]! + eps) * w[c]! + b[c]!;
  });
  assertClose(values(ev), expEv, { atol: 1e-12 });
  assertClose(values(rm), expRm, { atol: 1e-12 }, 'eval leaves running mean');
}));

test('relu/leakyRelu/tanh/sigmoid on a 4-D activation', () => tidy(() => {
  const xs = [1, 2, 3, 3];
  const x = randomValues(prod(xs), 8, -3, 3);
  const tx = t(x, xs, 'float64');
  assertClose(values(tx.relu(), xs), x.map((v) => Math.max(0, v)));
  assertClose(values(tx.leakyRelu(0.2)), x.map((v) => (v >= 0 ? v : 0.2 * v)), { atol: 1e-15 });
  assertClose(values(tx.tanh()), x.map(Math.tanh), { atol: 1e-15 });
  assertClose(values(tx.sigmoid()), x.map((v) => 1 / (1 + Math.exp(-v))), { atol: 1e-15 });
}));

test('pad: reflect, replicate, constant (hand-worked)', () => tidy(() => {
  const x = t([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
  // left 2, right 1, top 1, bottom 0
  assert.deepEqual(values(F.pad(x, [2, 1, 1, 0], 'reflect'), [1, 1, 4, 6]), [
    6, 5, 4, 5, 6, 5,
    3, 2, 1, 2, 3, 2,
    6, 5, 4, 5, 6, 5,
    9, 8, 7, 8, 9, 8,
  ]);
  assert.deepEqual(values(F.pad(x, [1, 1, 1, 1], 'reflect'), [1, 1, 5, 5]), [
    5, 4, 5, 6, 5,
    2, 1, 2, 3, 2,
    5, 4, 5, 6, 5,
    8, 7, 8, 9, 8,
    5, 4, 5, 6, 5,
  ]);
  assert.deepEqual(values(F.pad(t([1, 2, 3, 4], [1, 1, 2, 2]), [1, 1, 1, 1], 'replicate'), [1, 1, 4, 4]), [
    1, 1, 2, 2,
    1, 1, 2, 2,
    3, 3, 4, 4,
    3, 3, 4, 4,
  ]);
  assert.deepEqual(values(F.pad(x, [0, 2, 1, 0], 'replicate'), [1, 1, 4, 5]), [
    1, 2, 3, 3, 3,
    1, 2, 3, 3, 3,
    4, 5, 6, 6, 6,
    7, 8, 9, 9, 9,
  ]);
  assert.deepEqual(values(F.pad(t([1, 2, 3, 4], [1, 1, 2, 2]), [1, 0, 0, 1], 'constant', 9), [1, 1, 3, 3]), [
    9, 1, 2,
    9, 3, 4,
    9, 9, 9,
  ]);
  assert.deepEqual(values(F.pad(t([1, 2], [1, 1, 1, 2]), [1, 1])), [0, 1, 2, 0], 'constant defaults to 0');
  // negative constant padding crops
  assert.deepEqual(values(F.pad(x, [-1, 0, 0, -1]), [1, 1, 2, 2]), [2, 3, 5, 6]);
  // reflect on a 3-D (C, H, W) input
  assert.deepEqual(values(F.pad(t([1, 2, 3], [1, 1, 3]), [2, 2], 'reflect'), [1, 1, 7]), [3, 2, 1, 2, 3, 2, 1]);
  assert.deepEqual(values(F.pad(t([1, 2, 3], [1, 1, 3]), [1, 1], 'circular'), [1, 1, 5]), [3, 1, 2, 3, 1]);
}));

test('avgPool2d: plain, with padding, countIncludePad false at borders, ceilMode (hand-worked)', () => tidy(() => {
  const x4 = t([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 1, 4, 4]);
  assert.deepEqual(values(F.avgPool2d(x4, 2), [1, 1, 2, 2]), [3.5, 5.5, 11.5, 13.5]);
  const x = t([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3], 'float64');
  // 3x3 windows, stride 1, padding 1: window sums
  const sums = [12, 21, 16, 27, 45, 33, 24, 39, 28];
  const counts = [4, 6, 4, 6, 9, 6, 4, 6, 4];
  assertClose(values(F.avgPool2d(x, 3, { stride: 1, padding: 1 }), [1, 1, 3, 3]), sums.map((s) => s / 9), { atol: 1e-15 });
  assertClose(values(F.avgPool2d(x, 3, { stride: 1, padding: 1, countIncludePad: false })), sums.map((s, i) => s / counts[i]!), { atol: 1e-15 });
  // pix2pixHD's downsampler: kernel 3, stride 2, padding 1, count_include_pad=False
  assertClose(values(F.avgPool2d(x4.to('float64'), 3, { stride: 2, padding: 1, countIncludePad: false }), [1, 1, 2, 2]), [
    (1 + 2 + 5 + 6) / 4, (2 + 3 + 4 + 6 + 7 + 8) / 6,
    (5 + 6 + 9 + 10 + 13 + 14) / 6, (6 + 7 + 8 + 10 + 11 + 12 + 14 + 15 + 16) / 9,
  ], { atol: 1e-15 });
  // ceilMode keeps the partial last window (averaged over the elements it has)
  assertClose(values(F.avgPool2d(t([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]), 2, { ceilMode: true }), [1, 1, 2, 2]), [3, 4.5, 7.5, 9]);
  assert.deepEqual(values(F.avgPool2d(t([1, 2, 3, 4, 5, 6], [1, 1, 2, 3]), [2, 1]), [1, 1, 1, 3]), [2.5, 3.5, 4.5]);
}));

test('maxPool2d (hand-worked)', () => tidy(() => {
  const x = t([1, 5, 2, 0, 3, 4, 8, 1, 9, 0, 2, 2, 1, 7, 3, 6], [1, 1, 4, 4]);
  assert.deepEqual(values(F.maxPool2d(x, 2), [1, 1, 2, 2]), [5, 8, 9, 6]);
  // kernel 3, stride 2, padding 1: windows rows/cols {-1..1}, {1..3}
  assert.deepEqual(values(F.maxPool2d(x, 3, { stride: 2, padding: 1 }), [1, 1, 2, 2]), [5, 8, 9, 8]);
  assert.deepEqual(values(F.maxPool2d(x, 2, { stride: 1 }), [1, 1, 3, 3]), [5, 8, 8, 9, 8, 8, 9, 7, 6]);
  assert.deepEqual(values(F.maxPool2d(x, 2, { stride: 1, dilation: 2 }), [1, 1, 2, 2]), [9, 5, 8, 7]);
  assert.deepEqual(values(F.maxPool2d(t([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]), 2, { ceilMode: true }), [1, 1, 2, 2]), [5, 6, 8, 9]);
}));

test('interpolate nearest and bilinear (align_corners false), hand-worked 2x2 → 4x4', () => tidy(() => {
  const x = t([1, 2, 3, 4], [1, 1, 2, 2]);
  const nearest = [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4];
  assert.deepEqual(values(F.interpolate(x, { scaleFactor: 2 }), [1, 1, 4, 4]), nearest);
  assert.deepEqual(values(F.interpolate(x, { size: [4, 4], mode: 'nearest' }), [1, 1, 4, 4]), nearest);
  // source coordinate (i + 0.5) / 2 - 0.5, clamped at 0: -0.25→0, 0.25, 0.75, 1.25→last
  // rows: [1,2] → [1, 1.25, 1.75, 2], [3,4] → [3, 3.25, 3.75, 4]; then the same weights vertically
  const bilinear = [
    1, 1.25, 1.75, 2,
    1.5, 1.75, 2.25, 2.5,
    2.5, 2.75, 3.25, 3.5,
    3, 3.25, 3.75, 4,
  ];
  assertClose(values(F.interpolate(x, { scaleFactor: 2, mode: 'bilinear' }), [1, 1, 4, 4]), bilinear, { atol: 1e-6 });
  assertClose(values(F.interpolate(x, { size: [4, 4], mode: 'bilinear' }), [1, 1, 4, 4]), bilinear, { atol: 1e-6 });
  // align_corners true maps corners to corners: 1D [1,2] → [1, 4/3, 5/3, 2]
  const ac = values(F.interpolate(t([1, 2], [1, 1, 1, 2]), { size: [1, 4], mode: 'bilinear', alignCorners: true }), [1, 1, 1, 4]);
  assertClose(ac, [1, 4 / 3, 5 / 3, 2], { atol: 1e-6 });
  // nearest downsampling by 2 takes the top-left of each block (floor(i * 2))
  const x4 = t([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 1, 4, 4]);
  assert.deepEqual(values(F.interpolate(x4, { size: [2, 2] }), [1, 1, 2, 2]), [1, 3, 9, 11]);
  // nearest to a non-integer size: src index floor(i * in / out)
  assert.deepEqual(values(F.interpolate(t([1, 2, 3], [1, 1, 1, 3]), { size: [1, 5] }), [1, 1, 1, 5]), [1, 1, 2, 2, 3]);
  // bicubic preserves a constant image
  assertClose(values(F.interpolate(ones([1, 2, 3, 3]).mul(7), { size: [5, 6], mode: 'bicubic' }), [1, 2, 5, 6]), new Array(60).fill(7), { atol: 1e-5 });
  assert.throws(() => F.interpolate(x, {}), /size or scaleFactor/);
}));

test('l1, mse, bce and bce-with-logits losses with every reduction', () => tidy(() => {
  const a = [0.5, -1, 2, 3];
  const b = [1, 1, 1, -1];
  const ta = t(a, [2, 2], 'float64');
  const tb = t(b, [2, 2], 'float64');
  const l1 = a.map((v, i) => Math.abs(v - b[i]!));
  const mse = a.map((v, i) => (v - b[i]!) ** 2);
  const sum = (xs: number[]) => xs.reduce((s, v) => s + v, 0);
  assertClose(values(F.l1Loss(ta, tb, 'none'), [2, 2]), l1);
  assertClose([F.l1Loss(ta, tb).item()], [sum(l1) / 4]);
  assertClose([F.l1Loss(ta, tb, 'sum').item()], [sum(l1)]);
  assert.deepEqual(F.l1Loss(ta, tb).shape, []);
  assertClose(values(F.mseLoss(ta, tb, 'none'), [2, 2]), mse);
  assertClose([F.mseLoss(ta, tb).item()], [sum(mse) / 4]);
  assertClose([F.mseLoss(ta, tb, 'sum').item()], [sum(mse)]);
  const p = [0.1, 0.5, 0.9, 0.999];
  const y = [0, 1, 1, 0.25];
  const bce = p.map((v, i) => -(y[i]! * Math.log(v) + (1 - y[i]!) * Math.log(1 - v)));
  const tp = t(p, [4], 'float64');
  const ty = t(y, [4], 'float64');
  assertClose(values(F.bceLoss(tp, ty, 'none')), bce, { atol: 1e-12 });
  assertClose([F.bceLoss(tp, ty).item()], [sum(bce) / 4], { atol: 1e-12 });
  assertClose([F.bceLoss(tp, ty, 'sum').item()], [sum(bce)], { atol: 1e-12 });
  // BCE clamps log at -100, so p = 0 with target 1 gives 100, not Infinity
  assertClose(values(F.bceLoss(t([0], [1], 'float64'), t([1], [1], 'float64'), 'none')), [100]);
  const z = [-3, -0.5, 0, 4];
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const bcel = z.map((v, i) => -(y[i]! * Math.log(sig(v)) + (1 - y[i]!) * Math.log(1 - sig(v))));
  const tz = t(z, [4], 'float64');
  assertClose(values(F.bceWithLogitsLoss(tz, ty, 'none')), bcel, { atol: 1e-12 });
  assertClose([F.bceWithLogitsLoss(tz, ty).item()], [sum(bcel) / 4], { atol: 1e-12 });
  assertClose([F.bceWithLogitsLoss(tz, ty, 'sum').item()], [sum(bcel)], { atol: 1e-12 });
  // broadcasting the target is what mse_loss does (with a warning in Python); shapes must broadcast
  assert.throws(() => F.l1Loss(ta, tb, 'avg' as never), /reduction must be/);
}));

test('dropout: identity when not training; zeroes and rescales by 1/(1-p) when training', () => tidy(() => {
  const x = ones([4000]);
  assert.deepEqual(values(F.dropout(x, 0.5, false)), new Array(4000).fill(1));
  manualSeed(3);
  const d = values(F.dropout(x, 0.25, true));
  assert.ok(d.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6), 'every element is 0 or 1/(1-p)');
  const zeros_ = d.filter((v) => v === 0).length / d.length;
  assert.ok(Math.abs(zeros_ - 0.25) < 0.04, `dropped fraction ${zeros_}`);
}));
