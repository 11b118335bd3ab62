// Tensor methods and creation functions against hand-worked values or plain-JS computations:
// arithmetic and dtype promotion, comparisons and logic, unary maths, reductions, shape and view
// ops, indexing, in-place ops, conversions and typed-array kinds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  arange, cat, empty, full, fullLike, manualSeed, ones, onesLike, rand, randint, randn, randnLike, randperm,
  scalarTensor, stack, tensor, tidy, where, zeros, zerosLike, type DType, type Tensor,
} from '../../src/torch/index.js';
import { assertClose, randomValues, values } from './helpers.js';

const t = (data: readonly number[], shape?: number[], dtype: DType = 'float32'): Tensor => tensor(data, shape, { dtype });

test('add/sub/mul/div with tensors, scalars and alpha', () => tidy(() => {
  const a = t([1, 2, 3, 4], [2, 2]);
  const b = t([10, 20, 30, 40], [2, 2]);
  assert.deepEqual(values(a.add(b), [2, 2]), [11, 22, 33, 44]);
  assert.deepEqual(values(a.add(b, 2)), [21, 42, 63, 84]);
  assert.deepEqual(values(b.sub(a)), [9, 18, 27, 36]);
  assert.deepEqual(values(b.sub(a, 3)), [7, 14, 21, 28]);
  assert.deepEqual(values(a.mul(b)), [10, 40, 90, 160]);
  assert.deepEqual(values(b.div(a)), [10, 10, 10, 10]);
  assert.deepEqual(values(a.add(0.5)), [1.5, 2.5, 3.5, 4.5]);
  assert.deepEqual(values(a.add(1, 3)), [4, 5, 6, 7]);
  assert.deepEqual(values(a.sub(1)), [0, 1, 2, 3]);
  assert.deepEqual(values(a.sub(1, 2)), [-1, 0, 1, 2]);
  assert.deepEqual(values(a.mul(-2)), [-2, -4, -6, -8]);
  assert.deepEqual(values(a.div(4)), [0.25, 0.5, 0.75, 1]);
  assert.deepEqual(values(a.rsub(10)), [9, 8, 7, 6]);
  assert.deepEqual(values(a.neg()), [-1, -2, -3, -4]);
}));

test('broadcasting follows numpy rules', () => tidy(() => {
  const col = t([1, 2, 3], [3, 1]);
  const row = t([10, 20], [1, 2]);
  const expected: number[] = [];
  for (const c of [1, 2, 3]) for (const r of [10, 20]) expected.push(c + r);
  assert.deepEqual(values(col.add(row), [3, 2]), expected);
  const m = t([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.deepEqual(values(m.mul(t([1, 10, 100], [3])), [2, 3]), [1, 20, 300, 4, 50, 600]);
  assert.deepEqual(values(m.sub(scalarTensor(1))), [0, 1, 2, 3, 4, 5]);
}));

test('dtype promotion: integer scalars keep integer tensors integer, true division floats', () => tidy(() => {
  const i64 = t([1, 2, 3], [3], 'int64');
  const r1 = i64.add(2);
  assert.equal(r1.dtype, 'int64');
  assert.deepEqual(values(r1), [3, 4, 5]);
  assert.equal(i64.mul(3).dtype, 'int64');
  assert.equal(i64.sub(1).dtype, 'int64');
  assert.equal(i64.pow(2).dtype, 'int64');
  assert.deepEqual(values(i64.pow(2)), [1, 4, 9]);
  const frac = i64.add(0.5);
  assert.equal(frac.dtype, 'float32', 'a fractional scalar promotes to the default float dtype');
  assert.deepEqual(values(frac), [1.5, 2.5, 3.5]);
  const q = i64.div(2);
  assert.equal(q.dtype, 'float32', 'div is true division');
  assert.deepEqual(values(q), [0.5, 1, 1.5]);
  const i32 = t([5, 6], [2], 'int32');
  assert.equal(i32.mul(2).dtype, 'int32');
  assert.equal(t([250, 3], [2], 'uint8').add(1).dtype, 'uint8');
  // A float32 tensor is not widened by a scalar, an int tensor operand takes the float type.
  assert.equal(t([1], [1]).add(1).dtype, 'float32');
  assert.equal(t([1], [1]).mul(1.5).dtype, 'float32');
  assert.equal(i64.add(t([0.5, 0.5, 0.5], [3])).dtype, 'float32');
  assert.equal(t([1], [1], 'float64').add(t([1], [1])).dtype, 'float64');
  assert.equal(i32.add(t([1, 1], [2], 'int64')).dtype, 'int64');
}));

test('comparisons return bool tensors, against tensors and scalars', () => tidy(() => {
  const a = t([1, 2, 3, 4], [4]);
  const b = t([4, 2, 2, 5], [4]);
  const cases: [Tensor, number[]][] = [
    [a.eq(b), [0, 1, 0, 0]], [a.ne(b), [1, 0, 1, 1]], [a.lt(b), [1, 0, 0, 1]],
    [a.le(b), [1, 1, 0, 1]], [a.gt(b), [0, 0, 1, 0]], [a.ge(b), [0, 1, 1, 0]],
    [a.eq(2), [0, 1, 0, 0]], [a.ne(2), [1, 0, 1, 1]], [a.lt(3), [1, 1, 0, 0]],
    [a.le(3), [1, 1, 1, 0]], [a.gt(2.5), [0, 0, 1, 1]], [a.ge(4), [0, 0, 0, 1]],
  ];
  for (const [r, e] of cases) {
    assert.equal(r.dtype, 'bool');
    assert.deepEqual(values(r), e);
  }
}));

test('logical ops, any, all, where', () => tidy(() => {
  const p = tensor([true, true, false, false]);
  const q = tensor([true, false, true, false]);
  assert.equal(p.dtype, 'bool');
  assert.deepEqual(values(p.logicalAnd(q)), [1, 0, 0, 0]);
  assert.deepEqual(values(p.logicalOr(q)), [1, 1, 1, 0]);
  assert.deepEqual(values(p.logicalXor(q)), [0, 1, 1, 0]);
  assert.deepEqual(values(p.logicalNot()), [0, 0, 1, 1]);
  assert.equal(p.any().item(), 1);
  assert.equal(p.all().item(), 0);
  assert.equal(tensor([false, false]).any().item(), 0);
  assert.equal(tensor([true, true]).all().item(), 1);
  // logical ops on numbers treat non-zero as true
  assert.deepEqual(values(t([0, 2, -1, 0], [4]).logicalAnd(t([1, 1, 0, 0], [4]))), [0, 1, 0, 0]);

  const x = t([1, 2, 3, 4], [4]);
  const y = t([-1, -2, -3, -4], [4]);
  const cond = tensor([true, false, false, true]);
  assert.deepEqual(values(x.where(cond, y)), [1, -2, -3, 4]);
  assert.deepEqual(values(x.where(cond, 0)), [1, 0, 0, 4]);
  assert.deepEqual(values(where(cond, y, x)), [-1, 2, 3, -4]);
  // where broadcasts its condition
  assert.deepEqual(values(where(tensor([true, false]).reshape([1, 2]), t([1, 2, 3, 4], [2, 2]), t([0], [1]))), [1, 0, 3, 0]);
}));

test('unary maths against Math.*', () => tidy(() => {
  const xs = [0.25, 1, 2.5, 4, 9];
  const x = t(xs, [5], 'float64');
  const sx = [-2.5, -1, 0, 1.5, 3];
  const s = t(sx, [5], 'float64');
  assertClose(values(s.abs()), sx.map(Math.abs));
  assertClose(values(x.sqrt()), xs.map(Math.sqrt), { atol: 0, rtol: 1e-15 });
  assertClose(values(x.rsqrt()), xs.map((v) => 1 / Math.sqrt(v)), { atol: 0, rtol: 1e-15 });
  assertClose(values(s.exp()), sx.map(Math.exp), { atol: 0, rtol: 1e-15 });
  assertClose(values(x.log()), xs.map(Math.log), { atol: 1e-15, rtol: 1e-15 });
  assertClose(values(s.square()), sx.map((v) => v * v));
  assertClose(values(x.reciprocal()), xs.map((v) => 1 / v));
  assertClose(values(s.sign()), sx.map(Math.sign));
  assertClose(values(t([-1.5, -0.4, 0.4, 1.6], [4]).floor()), [-2, -1, 0, 1]);
  // round: half to even, as torch.round
  assertClose(values(t([-1.5, -0.5, 0.5, 1.5, 2.5, 2.6], [6]).round()), [-2, -0, 0, 2, 2, 3]);
  assertClose(values(x.pow(1.5)), xs.map((v) => v ** 1.5), { atol: 0, rtol: 1e-14 });
  assertClose(values(x.pow(t([2, 0.5, 1, 0, -1], [5], 'float64'))), [0.0625, 1, 2.5, 1, 1 / 9], { atol: 0, rtol: 1e-15 });
  assertClose(values(t([-7, -1, 5, 7], [4]).remainder(3)), [2, 2, 2, 1], {}, 'remainder takes the divisor sign (Python %)');
  assert.ok(Number.isNaN(values(t([-1], [1]).sqrt())[0]!));
  assert.equal(values(t([0], [1]).log())[0], -Infinity);
}));

test('clamp, maximum, minimum', () => tidy(() => {
  const x = t([-3, -1, 0, 2, 5], [5]);
  assert.deepEqual(values(x.clamp(-1, 2)), [-1, -1, 0, 2, 2]);
  assert.deepEqual(values(x.clamp(0)), [0, 0, 0, 2, 5]);
  assert.deepEqual(values(x.clamp(null, 1)), [-3, -1, 0, 1, 1]);
  assert.deepEqual(values(x.clamp(-0.5, 0.5)), [-0.5, -0.5, 0, 0.5, 0.5]);
  const y = t([0, 0, 1, 1, 9], [5]);
  assert.deepEqual(values(x.maximum(y)), [0, 0, 1, 2, 9]);
  assert.deepEqual(values(x.minimum(y)), [-3, -1, 0, 1, 5]);
  const i = t([-3, 8], [2], 'int64').clamp(0, 5);
  assert.equal(i.dtype, 'int64');
  assert.deepEqual(values(i), [0, 5]);
}));

test('activations: relu, leakyRelu, tanh, sigmoid, softmax', () => tidy(() => {
  const xs = [-2, -0.5, 0, 0.5, 3];
  const x = t(xs, [5], 'float64');
  assert.deepEqual(values(x.relu()), [0, 0, 0, 0.5, 3]);
  assertClose(values(x.leakyRelu()), xs.map((v) => (v > 0 ? v : 0.01 * v)), { atol: 1e-15 });
  assertClose(values(x.leakyRelu(0.2)), xs.map((v) => (v > 0 ? v : 0.2 * v)), { atol: 1e-15 });
  assertClose(values(x.tanh()), xs.map(Math.tanh), { atol: 1e-15, rtol: 1e-14 });
  assertClose(values(x.sigmoid()), xs.map((v) => 1 / (1 + Math.exp(-v))), { atol: 1e-15, rtol: 1e-14 });
  const m = t([1, 2, 3, 1, 1, 1], [2, 3], 'float64');
  const sm = values(m.softmax(1));
  const e = [1, 2, 3].map(Math.exp);
  const z = e.reduce((a, b) => a + b);
  assertClose(sm, [...e.map((v) => v / z), 1 / 3, 1 / 3, 1 / 3], { atol: 1e-15 });
  const sm0 = values(m.softmax(0));
  const col = (a: number, b: number) => [Math.exp(a) / (Math.exp(a) + Math.exp(b)), Math.exp(b) / (Math.exp(a) + Math.exp(b))];
  const [c0, c1, c2] = [col(1, 1), col(2, 1), col(3, 1)];
  assertClose(sm0, [c0[0]!, c1[0]!, c2[0]!, c0[1]!, c1[1]!, c2[1]!], { atol: 1e-15 });
}));

test('sum and mean over all, one and several dims, with keepdim', () => tidy(() => {
  // x[i][j][k] = i*100 + j*10 + k, shape [2, 3, 4]
  const data: number[] = [];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) data.push(i * 100 + j * 10 + k);
  const x = t(data, [2, 3, 4], 'float64');
  const total = data.reduce((a, b) => a + b);
  assert.equal(x.sum().item(), total);
  assert.deepEqual(x.sum().shape, []);
  assert.equal(x.mean().item(), total / 24);
  const s1: number[] = [];
  for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) { let a = 0; for (let j = 0; j < 3; j++) a += data[i * 12 + j * 4 + k]!; s1.push(a); }
  assert.deepEqual(values(x.sum(1), [2, 4]), s1);
  assert.deepEqual(values(x.sum(1, true), [2, 1, 4]), s1);
  assertClose(values(x.mean(1), [2, 4]), s1.map((v) => v / 3));
  const s02: number[] = [];
  for (let j = 0; j < 3; j++) { let a = 0; for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) a += data[i * 12 + j * 4 + k]!; s02.push(a); }
  assert.deepEqual(values(x.sum([0, 2]), [3]), s02);
  assert.deepEqual(values(x.sum([0, 2], true), [1, 3, 1]), s02);
  assertClose(values(x.mean([0, 2], true), [1, 3, 1]), s02.map((v) => v / 8));
  assert.deepEqual(values(x.sum(-1), [2, 3]), [6, 46, 86, 406, 446, 486]);
  // sum of an int tensor stays int64, as torch.sum
  const si = t([1, 2, 3], [3], 'int32').sum();
  assert.equal(si.dtype, 'int64');
  assert.equal(si.item(), 6);
}));

test('max/min/amax/argmax/maxDim/minDim/norm', () => tidy(() => {
  const x = t([3, -1, 7, 2, 9, -5], [2, 3]);
  assert.equal(x.max().item(), 9);
  assert.equal(x.min().item(), -5);
  const mx = x.maxDim(1);
  assert.deepEqual(values(mx.values, [2]), [7, 9]);
  assert.deepEqual(values(mx.indices, [2]), [2, 1]);
  assert.equal(mx.indices.dtype, 'int64');
  const mn = x.minDim(0, true);
  assert.deepEqual(values(mn.values, [1, 3]), [2, -1, -5]);
  assert.deepEqual(values(mn.indices, [1, 3]), [1, 0, 1]);
  assert.deepEqual(values(x.amax(0), [3]), [3, 9, 7]);
  assert.deepEqual(values(x.amax([0, 1], true), [1, 1]), [9]);
  assert.equal(x.argmax().item(), 4);
  assert.deepEqual(values(x.argmax(1), [2]), [2, 1]);
  assert.deepEqual(values(x.argmax(0, true), [1, 3]), [0, 1, 0]);
  assertClose([t([3, 4, 12], [3]).norm().item()], [13]);
}));

test('reshape, view, flatten, permute, transpose, squeeze, unsqueeze', () => tidy(() => {
  const x = arange(0, 24).reshape([2, 3, 4]);
  assert.deepEqual(x.shape, [2, 3, 4]);
  assert.equal(x.ndim, 3);
  assert.equal(x.numel, 24);
  assert.equal(x.size(-1), 4);
  assert.throws(() => x.size(3), RangeError);
  assert.deepEqual(x.strides(), [12, 4, 1]);
  const v = x.view([6, 4]);
  assert.ok(v.isAliasOf(x), 'view shares storage');
  assert.deepEqual(values(v.select(0, 5)), [20, 21, 22, 23]);
  assert.deepEqual(x.reshape([4, -1]).shape, [4, 6]);
  assert.deepEqual(x.flatten().shape, [24]);
  assert.deepEqual(x.flatten(1).shape, [2, 12]);
  const p = x.permute([2, 0, 1]);
  assert.deepEqual(p.shape, [4, 2, 3]);
  const pv = values(p);
  for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) {
    assert.equal(pv[k * 6 + i * 3 + j], i * 12 + j * 4 + k);
  }
  assert.ok(p.isAliasOf(x));
  assert.deepEqual(p.strides(), [1, 12, 4]);
  assert.throws(() => p.view([24]), /view/i, 'view of a non-contiguous permutation fails as in PyTorch');
  assert.deepEqual(values(p.reshape([24])), pv, 'reshape copies when it must');
  const c = p.contiguous();
  assert.deepEqual(c.strides(), [6, 3, 1]);
  assert.deepEqual(values(c), pv);
  const tr = t([1, 2, 3, 4, 5, 6], [2, 3]).transpose(0, 1);
  assert.deepEqual(values(tr, [3, 2]), [1, 4, 2, 5, 3, 6]);
  const s = zeros([1, 3, 1, 2]);
  assert.deepEqual(s.squeeze().shape, [3, 2]);
  assert.deepEqual(s.squeeze(2).shape, [1, 3, 2]);
  assert.deepEqual(s.squeeze(1).shape, [1, 3, 1, 2], 'squeezing a non-1 dim is a no-op');
  assert.deepEqual(s.unsqueeze(0).shape, [1, 1, 3, 1, 2]);
  assert.deepEqual(s.unsqueeze(-1).shape, [1, 3, 1, 2, 1]);
}));

test('narrow, slice, select, flip, repeat, chunk, expand', () => tidy(() => {
  const x = arange(0, 12).reshape([3, 4]);
  assert.deepEqual(values(x.narrow(1, 1, 2), [3, 2]), [1, 2, 5, 6, 9, 10]);
  assert.deepEqual(values(x.narrow(0, 2, 1), [1, 4]), [8, 9, 10, 11]);
  assert.deepEqual(values(x.slice(1, 1, null, 2), [3, 2]), [1, 3, 5, 7, 9, 11]);
  assert.deepEqual(values(x.slice(0, null, null, 2), [2, 4]), [0, 1, 2, 3, 8, 9, 10, 11]);
  assert.deepEqual(values(x.slice(1, -2), [3, 2]), [2, 3, 6, 7, 10, 11]);
  assert.deepEqual(values(x.slice(0, 0, 2), [2, 4]), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(values(x.select(1, 3), [3]), [3, 7, 11]);
  assert.deepEqual(values(x.select(0, -1), [4]), [8, 9, 10, 11]);
  // narrow and select are views: writing through them changes the base
  const base = zeros([2, 3]);
  base.narrow(1, 1, 1).fill_(7);
  base.select(0, 1).add_(1);
  assert.deepEqual(values(base), [0, 7, 0, 1, 8, 1]);
  assert.deepEqual(values(x.flip(1), [3, 4]), [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8]);
  assert.deepEqual(values(x.flip([0, 1])), [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  assert.deepEqual(values(t([1, 2], [1, 2]).repeat([2, 3]), [2, 6]), [1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
  const parts = arange(0, 7).chunk(3);
  assert.deepEqual(parts.map((p) => values(p)), [[0, 1, 2], [3, 4, 5], [6]]);
  const cparts = x.chunk(2, 1);
  assert.deepEqual(values(cparts[1]!, [3, 2]), [2, 3, 6, 7, 10, 11]);
  const e = t([1, 2, 3], [3, 1]).expand([3, 4]);
  assert.deepEqual(values(e, [3, 4]), [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
  assert.deepEqual(e.strides(), [1, 0], 'expand is a stride-0 view');
  assert.deepEqual(t([5, 6], [2]).expand([2, 2]).toNumbers(), [5, 6, 5, 6]);
  assert.deepEqual(t([1, 2, 3], [3, 1]).expand([-1, 2]).shape, [3, 2]);
  assert.deepEqual(t([4], [1, 1]).expandAs(zeros([2, 3])).toNumbers(), [4, 4, 4, 4, 4, 4]);
}));

test('cat and stack', () => tidy(() => {
  const a = t([1, 2, 3, 4], [2, 2]);
  const b = t([5, 6], [1, 2]);
  assert.deepEqual(values(cat([a, b]), [3, 2]), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(values(cat([a, t([7, 8], [2, 1])], 1), [2, 3]), [1, 2, 7, 3, 4, 8]);
  assert.deepEqual(values(cat([a, a], -1), [2, 4]), [1, 2, 1, 2, 3, 4, 3, 4]);
  const c = t([10, 20, 30, 40], [2, 2]);
  assert.deepEqual(values(stack([a, c]), [2, 2, 2]), [1, 2, 3, 4, 10, 20, 30, 40]);
  assert.deepEqual(values(stack([a, c], 1), [2, 2, 2]), [1, 2, 10, 20, 3, 4, 30, 40]);
  assert.deepEqual(values(stack([a, c], 2), [2, 2, 2]), [1, 10, 2, 20, 3, 30, 4, 40]);
}));

test('indexSelect, gather, scatter, scatterAdd, indexAdd, maskedSelect, maskedFill', () => tidy(() => {
  const x = t([1, 2, 3, 4, 5, 6], [2, 3]);
  const i64 = (d: number[], s?: number[]) => t(d, s, 'int64');
  assert.deepEqual(values(x.indexSelect(1, i64([2, 0, 2])), [2, 3]), [3, 1, 3, 6, 4, 6]);
  assert.deepEqual(values(x.indexSelect(0, i64([1])), [1, 3]), [4, 5, 6]);
  // gather: out[i][j] = x[i][idx[i][j]] along dim 1
  assert.deepEqual(values(x.gather(1, i64([2, 0, 1, 1], [2, 2])), [2, 2]), [3, 1, 5, 5]);
  // along dim 0: out[i][j] = x[idx[i][j]][j]
  assert.deepEqual(values(x.gather(0, i64([1, 0, 1], [1, 3])), [1, 3]), [4, 2, 6]);
  // scatter: out[i][idx[i][j]] = src[i][j]
  const z = zeros([2, 4]);
  const src = t([1, 2, 3, 4], [2, 2]);
  assert.deepEqual(values(z.scatter(1, i64([3, 0, 1, 2], [2, 2]), src), [2, 4]), [2, 0, 0, 1, 0, 3, 4, 0]);
  assert.deepEqual(values(z.scatter(1, i64([1, 2], [2, 1]), 9)), [0, 9, 0, 0, 0, 0, 9, 0]);
  assert.deepEqual(values(z), [0, 0, 0, 0, 0, 0, 0, 0], 'scatter leaves its input untouched');
  // scatterAdd sums collisions
  assert.deepEqual(values(zeros([2, 3]).scatterAdd(1, i64([0, 0, 2, 1, 1, 1], [2, 3]), t([1, 2, 3, 4, 5, 6], [2, 3]))), [3, 0, 3, 0, 15, 0]);
  const zz = zeros([3]);
  zz.scatter_(0, i64([2]), 5);
  assert.deepEqual(values(zz), [0, 0, 5]);
  zz.scatter_(0, i64([0, 1]), t([7, 8], [2]));
  assert.deepEqual(values(zz), [7, 8, 5]);
  assert.deepEqual(values(zeros([3, 2]).indexAdd(0, i64([0, 2, 0]), t([1, 1, 2, 2, 3, 3], [3, 2]))), [4, 4, 0, 0, 2, 2]);
  const mask = tensor([true, false, true, false, false, true]).reshape([2, 3]);
  assert.deepEqual(values(x.maskedSelect(mask), [3]), [1, 3, 6]);
  assert.deepEqual(values(x.maskedFill(mask, -1)), [-1, 2, -1, 4, 5, -1]);
}));

test('oneHot, nonzero, unique with inverse and counts', () => tidy(() => {
  const ids = t([2, 0, 1, 2], [2, 2], 'int64');
  const oh = ids.oneHot(3);
  assert.equal(oh.dtype, 'int64');
  assert.deepEqual(values(oh, [2, 2, 3]), [0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.deepEqual(values(t([0, 1], [2], 'int64').oneHot(4), [2, 4]), [1, 0, 0, 0, 0, 1, 0, 0]);
  const nz = t([0, 3, 0, 0, 5, 6], [2, 3]).nonzero();
  assert.equal(nz.dtype, 'int64');
  assert.deepEqual(values(nz, [3, 2]), [0, 1, 1, 1, 1, 2]);
  assert.deepEqual(values(zeros([4]).nonzero(), [0, 1]), []);
  const data = [5, 2, 9, 2, 5, 5, 1];
  const u = t(data, [data.length], 'int64').unique({ inverse: true, counts: true });
  const sorted = [...new Set(data)].sort((a, b) => a - b);
  assert.deepEqual(values(u.values), sorted);
  assert.deepEqual(values(u.inverse, [data.length]), data.map((v) => sorted.indexOf(v)));
  assert.deepEqual(values(u.counts), sorted.map((s) => data.filter((v) => v === s).length));
  // inverse keeps the input's shape
  const u2 = t([3, 1, 3, 1], [2, 2]).unique({ inverse: true });
  assert.deepEqual(values(u2.values), [1, 3]);
  assert.deepEqual(values(u2.inverse, [2, 2]), [1, 0, 1, 0]);
}));

test('matmul against a JS loop', () => tidy(() => {
  const A = randomValues(6, 1);
  const B = randomValues(12, 2);
  const ref: number[] = [];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 4; j++) { let s = 0; for (let k = 0; k < 3; k++) s += A[i * 3 + k]! * B[k * 4 + j]!; ref.push(s); }
  assertClose(values(t(A, [2, 3], 'float64').matmul(t(B, [3, 4], 'float64')), [2, 4]), ref, { atol: 1e-14 });
  assertClose(values(t(A, [2, 3]).matmul(t(B, [3, 4])), [2, 4]), ref, { atol: 1e-6 });
}));

test('in-place ops mutate and return this', () => tidy(() => {
  const x = t([1, 2, 3], [3], 'float64');
  assert.equal(x.add_(1), x);
  assert.deepEqual(values(x), [2, 3, 4]);
  x.add_(t([1, 1, 1], [3], 'float64'), 2);
  assert.deepEqual(values(x), [4, 5, 6]);
  x.sub_(1);
  assert.deepEqual(values(x), [3, 4, 5]);
  x.sub_(t([1, 2, 3], [3], 'float64'), 0.5);
  assert.deepEqual(values(x), [2.5, 3, 3.5]);
  x.mul_(2);
  assert.deepEqual(values(x), [5, 6, 7]);
  x.mul_(t([2, 0, 1], [3], 'float64'));
  assert.deepEqual(values(x), [10, 0, 7]);
  x.div_(2);
  assert.deepEqual(values(x), [5, 0, 3.5]);
  x.div_(t([5, 1, 7], [3], 'float64'));
  assert.deepEqual(values(x), [1, 0, 0.5]);
  x.addcmul_(t([1, 2, 3], [3], 'float64'), t([4, 5, 6], [3], 'float64'), 0.5);
  assert.deepEqual(values(x), [3, 5, 9.5]);
  x.addcdiv_(t([1, 2, 3], [3], 'float64'), t([4, 8, 12], [3], 'float64'), -4);
  assert.deepEqual(values(x), [2, 4, 8.5]);
  x.sqrt_();
  assertClose(values(x), [Math.SQRT2, 2, Math.sqrt(8.5)], { atol: 1e-15 });
  x.clamp_(1.5, 2.5);
  assertClose(values(x), [1.5, 2, 2.5]);
  x.fill_(3);
  assert.deepEqual(values(x), [3, 3, 3]);
  const y = t([9, 8, 7], [3], 'float64');
  x.copy_(y);
  assert.deepEqual(values(x), [9, 8, 7]);
  assert.ok(!x.isAliasOf(y), 'copy_ copies');
  x.zero_();
  assert.deepEqual(values(x), [0, 0, 0]);
  // copy_ converts dtypes
  const i = zeros([2], { dtype: 'int64' });
  i.copy_(t([1.9, -2.2], [2]));
  assert.deepEqual(values(i), [1, -2]);
}));

test('random fills and random creation: seeded, in range', () => tidy(() => {
  manualSeed(7);
  const a = values(randn([1000]));
  manualSeed(7);
  const b = values(randn([1000]));
  assert.deepEqual(a, b, 'manualSeed makes randn repeatable');
  const mean = a.reduce((s, v) => s + v) / a.length;
  const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
  assert.ok(Math.abs(mean) < 0.15 && Math.abs(variance - 1) < 0.2, `randn mean ${mean}, var ${variance}`);
  const u = values(rand([1000]));
  assert.ok(u.every((v) => v >= 0 && v < 1));
  assert.ok(Math.max(...u) > 0.9 && Math.min(...u) < 0.1);
  const ri = randint(3, 7, [500]);
  assert.equal(ri.dtype, 'int64');
  const rv = values(ri);
  assert.ok(rv.every((v) => Number.isInteger(v) && v >= 3 && v < 7));
  assert.deepEqual([...new Set(rv)].sort(), [3, 4, 5, 6]);
  const perm = randperm(10);
  assert.equal(perm.dtype, 'int64');
  assert.deepEqual([...values(perm)].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const nu = values(empty([2000]).normal_(5, 0.5));
  const nm = nu.reduce((s, v) => s + v) / nu.length;
  assert.ok(Math.abs(nm - 5) < 0.05, `normal_ mean ${nm}`);
  const uu = values(empty([2000]).uniform_(-3, -2));
  assert.ok(uu.every((v) => v >= -3 && v <= -2));
  const rl = randnLike(zeros([2, 3], { dtype: 'float64' }));
  assert.deepEqual(rl.shape, [2, 3]);
  assert.equal(rl.dtype, 'float64');
}));

test('constant creation: zeros, ones, full, arange, *Like, scalarTensor', () => tidy(() => {
  const z = zeros([2, 3]);
  assert.equal(z.dtype, 'float32');
  assert.deepEqual(values(z, [2, 3]), [0, 0, 0, 0, 0, 0]);
  assert.equal(zeros([2], { dtype: 'int32' }).dtype, 'int32');
  assert.deepEqual(values(ones([2], { dtype: 'float64' })), [1, 1]);
  assert.equal(ones([1], { dtype: 'float64' }).dtype, 'float64');
  const f = full([2, 2], 2.5);
  assert.equal(f.dtype, 'float32');
  assert.deepEqual(values(f), [2.5, 2.5, 2.5, 2.5]);
  assert.equal(full([1], 3, { dtype: 'int64' }).dtype, 'int64');
  assert.equal(empty([3, 0]).numel, 0);
  const r = arange(5);
  assert.equal(r.dtype, 'int64');
  assert.deepEqual(values(r), [0, 1, 2, 3, 4]);
  assert.deepEqual(values(arange(2, 10, 3)), [2, 5, 8]);
  const fr = arange(0, 1, 0.25);
  assert.equal(fr.dtype, 'float32');
  assert.deepEqual(values(fr), [0, 0.25, 0.5, 0.75]);
  assert.deepEqual(values(arange(3, 0, -1)), [3, 2, 1]);
  assert.equal(arange(0, 3, 1, { dtype: 'float64' }).dtype, 'float64');
  const base = t([1, 2, 3, 4], [2, 2], 'float64');
  for (const [like, v] of [[zerosLike(base), 0], [onesLike(base), 1], [fullLike(base, -2), -2]] as const) {
    assert.deepEqual(like.shape, [2, 2]);
    assert.equal(like.dtype, 'float64');
    assert.deepEqual(values(like), [v, v, v, v]);
  }
  const s = scalarTensor(4.5);
  assert.deepEqual(s.shape, []);
  assert.equal(s.numel, 1);
  assert.equal(s.item(), 4.5);
  assert.equal(scalarTensor(3, { dtype: 'int64' }).dtype, 'int64');
}));

test('tensor(): plain arrays, typed arrays and dtype conversion at creation', () => tidy(() => {
  assert.equal(tensor([1, 2]).dtype, 'float32');
  assert.deepEqual(tensor([1, 2, 3, 4, 5, 6], [2, 3]).shape, [2, 3]);
  assert.equal(tensor(new Float64Array([1])).dtype, 'float64');
  assert.equal(tensor(new BigInt64Array([1n])).dtype, 'int64');
  assert.equal(tensor(new Int32Array([1])).dtype, 'int32');
  assert.equal(tensor(new Int16Array([1])).dtype, 'int16');
  assert.equal(tensor(new Int8Array([1])).dtype, 'int8');
  assert.equal(tensor(new Uint8Array([1])).dtype, 'uint8');
  assert.equal(tensor(new Uint8Array([1, 0]), [2], { dtype: 'bool' }).dtype, 'bool');
  assert.equal(tensor([true, false]).dtype, 'bool');
  // a typed array of another type is converted
  const conv = tensor(new Float32Array([1.5, -2.5]), [2], { dtype: 'int32' });
  assert.equal(conv.dtype, 'int32');
  assert.deepEqual(values(conv), [1, -2]);
  assert.deepEqual(values(tensor(new BigInt64Array([2n ** 40n, -3n]), [2], { dtype: 'float64' })), [2 ** 40, -3]);
  // exact widenings (label maps: Int32Array → int64) are copied as given and widened natively
  const ids = tensor(new Int32Array([0, -1, 2 ** 31 - 1, -(2 ** 31), 34]), [5], { dtype: 'int64' });
  assert.equal(ids.dtype, 'int64');
  assert.deepEqual(values(ids), [0, -1, 2 ** 31 - 1, -(2 ** 31), 34]);
  assert.deepEqual(tensor(new Int32Array(6).fill(7), [1, 2, 3], { dtype: 'int64' }).shape, [1, 2, 3]);
  assert.deepEqual(values(tensor(new Uint8Array([255, 0]), [2], { dtype: 'float64' })), [255, 0]);
  assert.deepEqual(values(tensor(new Int8Array([-128, 5]), [2], { dtype: 'int64' })), [-128, 5]);
  const f = new Float32Array([0.1, -3.3e38]);
  assert.deepEqual(values(tensor(f, [2], { dtype: 'float64' })), [f[0], f[1]]);
  // the tensor holds a copy: changing the source later has no effect
  const src = new Float32Array([1, 2]);
  const copy = tensor(src);
  src[0] = 99;
  assert.deepEqual(values(copy), [1, 2]);
  // int64 values beyond 2^53 survive through BigInt64Array
  const big = tensor(new BigInt64Array([2n ** 62n + 1n]));
  assert.equal((big.toArray() as BigInt64Array)[0], 2n ** 62n + 1n);
  // float16 / bfloat16 from raw bits in a Uint16Array
  const h = tensor(new Uint16Array([0x3c00, 0xc000]), [2], { dtype: 'float16' });
  assert.equal(h.dtype, 'float16');
  assert.deepEqual(values(h.float()), [1, -2]);
  const bf = tensor(new Uint16Array([0x3f80, 0x4040]), [2], { dtype: 'bfloat16' });
  assert.deepEqual(values(bf.float()), [1, 3]);
}));

test('dtype conversions and toArray typed-array kinds', () => tidy(() => {
  const x = t([1.75, -2.25, 0, 3], [4]);
  const kinds: [DType, new (...a: never[]) => ArrayLike<unknown>, number[]][] = [
    ['float32', Float32Array, [1.75, -2.25, 0, 3]],
    ['float64', Float64Array, [1.75, -2.25, 0, 3]],
    ['int64', BigInt64Array, [1, -2, 0, 3]],
    ['int32', Int32Array, [1, -2, 0, 3]],
    ['uint8', Uint8Array, [1, 254, 0, 3]],
    ['bool', Uint8Array, [1, 1, 0, 1]],
  ];
  for (const [dtype, Kind, expected] of kinds) {
    const y = x.to(dtype);
    assert.equal(y.dtype, dtype);
    const arr = y.toArray();
    assert.ok(arr instanceof Kind, `${dtype}.toArray() is a ${Kind.name}, got ${arr.constructor.name}`);
    assert.deepEqual(y.toNumbers(), expected, dtype);
  }
  assert.deepEqual(Array.from(x.to('int64').toArray() as BigInt64Array), [1n, -2n, 0n, 3n]);
  assert.equal(x.float().dtype, 'float32');
  assert.equal(x.long().dtype, 'int64');
  assert.equal(x.bool().dtype, 'bool');
  assert.deepEqual(x.toFloat32Array(), new Float32Array([1.75, -2.25, 0, 3]));
  assert.deepEqual(t([1, 2], [2], 'int64').toFloat32Array(), new Float32Array([1, 2]));
  assert.equal(x.to('cpu').device, 'cpu');
  assert.equal(x.to('cpu', { dtype: 'float64' }).dtype, 'float64');
  assert.equal(x.device, 'cpu');
  // bool → float gives 0/1; item() of a bool is a number
  assert.deepEqual(values(tensor([true, false]).float()), [1, 0]);
  assert.equal(tensor([true]).item(), 1);
  assert.equal(t([7], [1], 'int64').item(), 7);
  // clone copies, detach shares
  const c = x.clone();
  assert.ok(!c.isAliasOf(x));
  assert.ok(x.detach().isAliasOf(x));
  assert.match(x.toString(), /shape=\[4\].*float32.*cpu/);
}));
