// Gradients against central finite differences (float64, eps 1e-6), and the autograd controls:
// noGrad, detach, accumulation, freezing, retainGraph, retainGrad, explicit output gradients.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { availableParallelism } from 'node:os';
import {
  backward, cudaDeviceCount, F, getNumThreads, isGradEnabled, nn, noGrad, ones, setNumThreads, tensor, tidy, type Tensor,
} from '../../src/torch/index.js';
import { assertClose, conv2dRef, gradCheck, prod, randomValues, type GradInput } from './helpers.js';

const input = (shape: number[], seed: number, lo = -1, hi = 1): GradInput => ({ data: randomValues(prod(shape), seed, lo, hi), shape });

test('gradcheck conv2d: input, weight and bias (padding, stride, groups)', () => {
  gradCheck(([x, w, b]) => F.conv2d(x!, w!, b!, { padding: 1 }), [input([1, 2, 5, 5], 1), input([3, 2, 3, 3], 2), input([3], 3)]);
  gradCheck(([x, w, b]) => F.conv2d(x!, w!, b!, { stride: 2, padding: [1, 0], dilation: [1, 2] }), [input([2, 2, 6, 6], 4), input([2, 2, 3, 2], 5), input([2], 6)]);
  gradCheck(([x, w, b]) => F.conv2d(x!, w!, b!, { groups: 2 }), [input([1, 4, 4, 4], 7), input([4, 2, 2, 2], 8), input([4], 9)]);
});

test('gradcheck convTranspose2d with output padding: input, weight and bias', () => {
  gradCheck(
    ([x, w, b]) => F.convTranspose2d(x!, w!, b!, { stride: 2, padding: 1, outputPadding: 1 }),
    [input([1, 3, 3, 3], 11), input([3, 2, 3, 3], 12), input([2], 13)],
  );
  gradCheck(([x, w]) => F.convTranspose2d(x!, w!, null, { stride: [1, 2] }), [input([2, 2, 2, 3], 14), input([2, 3, 2, 2], 15)]);
});

test('gradcheck instanceNorm, with and without affine parameters', () => {
  gradCheck(([x]) => F.instanceNorm(x!), [input([2, 2, 3, 4], 21, -2, 2)]);
  gradCheck(([x, w, b]) => F.instanceNorm(x!, { weight: w!, bias: b! }), [input([2, 3, 3, 3], 22), input([3], 23, 0.5, 1.5), input([3], 24)]);
});

test('gradcheck reflection and replication pad', () => {
  gradCheck(([x]) => F.pad(x!, [2, 1, 1, 2], 'reflect'), [input([1, 2, 4, 4], 31)]);
  gradCheck(([x]) => F.pad(x!, [1, 2, 0, 1], 'replicate'), [input([1, 1, 3, 3], 32)]);
  gradCheck(([x]) => F.pad(x!, [1, 1, 1, 1], 'constant', 0.5), [input([1, 1, 2, 3], 33)]);
});

test('gradcheck avgPool2d (countIncludePad false) and maxPool2d', () => {
  gradCheck(([x]) => F.avgPool2d(x!, 3, { stride: 2, padding: 1, countIncludePad: false }), [input([1, 2, 5, 5], 41)]);
  gradCheck(([x]) => F.avgPool2d(x!, 2), [input([1, 1, 4, 4], 42)]);
  // distinct values keep the max away from ties, where max is not differentiable
  const distinct = { data: Array.from({ length: 16 }, (_, i) => ((i * 7) % 16) / 4), shape: [1, 1, 4, 4] };
  gradCheck(([x]) => F.maxPool2d(x!, 2), [distinct]);
});

test('gradcheck tanh, leakyRelu, sigmoid, and bilinear interpolation', () => {
  // leakyRelu's kink is at 0; these values stay far from it
  const away = { data: randomValues(12, 51).map((v) => (v >= 0 ? v + 0.1 : v - 0.1)), shape: [3, 4] };
  gradCheck(([x]) => x!.tanh(), [input([3, 4], 52, -2, 2)]);
  gradCheck(([x]) => x!.leakyRelu(0.2), [away]);
  gradCheck(([x]) => x!.sigmoid(), [input([3, 4], 53, -3, 3)]);
  gradCheck(([x]) => F.interpolate(x!, { scaleFactor: 2, mode: 'bilinear' }), [input([1, 1, 3, 3], 54)]);
});

test('gradcheck l1 and mse losses with both arguments', () => {
  // |a - b| has a kink where a = b; keep the pairs apart
  const a = input([2, 3], 61);
  const b = { data: a.data.map((v, i) => v + (i % 2 ? 0.3 : -0.4)), shape: [2, 3] };
  gradCheck(([x, y]) => F.l1Loss(x!, y!), [a, b]);
  gradCheck(([x, y]) => F.l1Loss(x!, y!, 'sum'), [a, b]);
  gradCheck(([x, y]) => F.mseLoss(x!, y!), [input([2, 3], 62), input([2, 3], 63)]);
  gradCheck(([x, y]) => F.mseLoss(x!, y!, 'none'), [input([2, 3], 64), input([2, 3], 65)]);
  gradCheck(([x, y]) => F.bceLoss(x!.sigmoid(), y!), [input([4], 66), input([4], 67, 0, 1)], { check: [0] });
});

test('gradcheck arithmetic with broadcasting, reductions, indexing', () => {
  gradCheck(([x, y]) => x!.mul(y!).add(x!.div(y!.abs().add(1))).sub(y!.pow(2)), [input([2, 3], 71), input([3], 72)]);
  gradCheck(([x]) => x!.exp().add(1).log().sqrt(), [input([4], 73)]);
  gradCheck(([x]) => x!.sum(1, true).mul(x!.mean(0)), [input([3, 4], 74)]);
  gradCheck(([x]) => x!.permute([1, 0]).narrow(0, 1, 2).reshape([6]), [input([3, 4], 75)]);
});

test('gradcheck a composed net: Sequential(Conv2d, InstanceNorm2d, ReLU), against a float64 mirror', () => tidy(() => {
  const net = new nn.Sequential(new nn.Conv2d(2, 3, 3, { padding: 1 }), new nn.InstanceNorm2d(3, { affine: true }), new nn.ReLU());
  // non-trivial affine parameters
  net.loadStateDict(new Map([
    ...net.stateDict(),
    ['1.weight', tensor([0.7, 1.3, -0.9], [3])],
    ['1.bias', tensor([0.1, -0.2, 0.3], [3])],
  ]));
  const xData = randomValues(2 * 2 * 4 * 4, 81);
  const R = randomValues(2 * 3 * 4 * 4, 82);
  const x = tensor(xData, [2, 2, 4, 4]).requiresGrad_(true);
  net.forward(x).mul(tensor(R, [2, 3, 4, 4])).sum().backward();
  const params = net.namedParameters();
  assert.deepEqual(params.map(([k]) => k), ['0.weight', '0.bias', '1.weight', '1.bias']);
  const analytic = [x.grad!.toNumbers(), ...params.map(([, p]) => p.grad!.toNumbers())];
  const start = [xData, ...params.map(([, p]) => p.toNumbers())];
  const shapes = [[2, 2, 4, 4], ...params.map(([, p]) => p.shape)];

  // the same function written with float64 functional ops, evaluated on perturbed copies
  const mirror = (d: number[][]): number => tidy(() => noGrad(() => {
    const [xi, w, b, nw, nb] = d.map((v, i) => tensor(v, shapes[i], { dtype: 'float64' })) as Tensor[];
    const y = F.instanceNorm(F.conv2d(xi!, w!, b!, { padding: 1 }), { weight: nw!, bias: nb! }).relu();
    return y.mul(tensor(R, [2, 3, 4, 4], { dtype: 'float64' })).sum().item();
  }));
  // the mirror's forward equals the module's
  const mod = tidy(() => noGrad(() => net.forward(tensor(xData, [2, 2, 4, 4])).mul(tensor(R, [2, 3, 4, 4])).sum().item()));
  assertClose([mod], [mirror(start)], { atol: 1e-4, rtol: 1e-5 });
  const eps = 1e-6;
  for (let i = 0; i < start.length; i++) {
    const numeric: number[] = [];
    for (let j = 0; j < start[i]!.length; j++) {
      const d = start.map((v) => [...v]);
      d[i]![j] = start[i]![j]! + eps;
      const fp = mirror(d);
      d[i]![j] = start[i]![j]! - eps;
      numeric.push((fp - mirror(d)) / (2 * eps));
    }
    // float32 analytic gradients against float64 numeric ones
    assertClose(analytic[i]!, numeric, { atol: 2e-4, rtol: 1e-3 }, `d/d ${i === 0 ? 'input' : params[i - 1]![0]}`);
  }
  // conv bias gradients vanish: instance norm removes any per-channel constant
  assertClose(analytic[2]!, [0, 0, 0], { atol: 1e-4 });
  net.dispose();
}));

test('noGrad records no graph, restores the mode, also after a throw', () => tidy(() => {
  const x = tensor([1, 2, 3]).requiresGrad_(true);
  assert.equal(isGradEnabled(), true);
  const y = noGrad(() => {
    assert.equal(isGradEnabled(), false);
    return x.mul(2).add(1);
  });
  assert.equal(y.requiresGrad, false);
  assert.equal(isGradEnabled(), true);
  assert.equal(x.mul(2).requiresGrad, true);
  assert.throws(() => noGrad(() => { throw new Error('inside'); }), /inside/);
  assert.equal(isGradEnabled(), true, 'mode restored after a throw');
  // nested noGrad keeps it off until the outer one ends
  noGrad(() => {
    noGrad(() => undefined);
    assert.equal(isGradEnabled(), false);
  });
  assert.throws(() => y.sum().backward(), /does not require grad|grad_fn/);
}));

test('detach cuts the graph and shares storage', () => tidy(() => {
  const x = tensor([1, 2, 3], [3], { dtype: 'float64' }).requiresGrad_(true);
  const d = x.detach();
  assert.equal(d.requiresGrad, false);
  assert.ok(d.isAliasOf(x));
  // d(x·detach(x))/dx = detach(x): the detached factor is a constant
  x.mul(d).sum().backward();
  assert.deepEqual(x.grad!.toNumbers(), [1, 2, 3]);
}));

test('gradients accumulate over two backward calls; zeroing and setting grad', () => tidy(() => {
  const x = tensor([1, -2], [2], { dtype: 'float64' }).requiresGrad_(true);
  assert.equal(x.isLeaf, true);
  assert.equal(x.grad, null);
  x.mul(x).sum().backward();
  assert.deepEqual(x.grad!.toNumbers(), [2, -4]);
  x.mul(3).sum().backward();
  assert.deepEqual(x.grad!.toNumbers(), [5, -1], '2x + 3');
  x.grad = null;
  assert.equal(x.grad, null);
  x.mul(3).sum().backward();
  assert.deepEqual(x.grad!.toNumbers(), [3, 3]);
  x.grad = tensor([10, 10], [2], { dtype: 'float64' });
  x.sum().backward();
  assert.deepEqual(x.grad!.toNumbers(), [11, 11]);
}));

test('requiresGrad_(false) freezes: tensors and whole modules', () => tidy(() => {
  const w = tensor([2], [1]).requiresGrad_(true);
  const v = tensor([3], [1]).requiresGrad_(true);
  v.requiresGrad_(false);
  w.mul(v).sum().backward();
  assert.deepEqual(w.grad!.toNumbers(), [3]);
  assert.equal(v.grad, null);

  const frozen = new nn.Conv2d(1, 1, 1);
  const trained = new nn.Conv2d(1, 1, 1);
  frozen.requiresGrad_(false);
  assert.ok(frozen.parameters().every((p) => !p.requiresGrad));
  const x = ones([1, 1, 2, 2]);
  trained.forward(frozen.forward(x)).sum().backward();
  assert.ok(frozen.parameters().every((p) => p.grad === null), 'frozen parameters get no gradient');
  assert.ok(trained.parameters().every((p) => p.grad !== null), 'the trained module after it does');
  // gradient still flows through the frozen module to an input that wants it
  const xi = ones([1, 1, 2, 2]).requiresGrad_(true);
  frozen.forward(xi).sum().backward();
  const wv = frozen.weight.toNumbers()[0]!;
  assertClose(xi.grad!.toNumbers(), [wv, wv, wv, wv]);
  frozen.requiresGrad_(true);
  assert.ok(frozen.parameters().every((p) => p.requiresGrad));
  frozen.dispose();
  trained.dispose();
}));

test('retainGraph allows a second backward; without it the second one throws', () => tidy(() => {
  const x = tensor([1, 2], [2], { dtype: 'float64' }).requiresGrad_(true);
  const y = x.exp().sum();
  y.backward(undefined, { retainGraph: true });
  y.backward();
  assertClose(x.grad!.toNumbers(), [2 * Math.E, 2 * Math.exp(2)]);
  const z = x.exp().sum();
  z.backward();
  assert.throws(() => z.backward(), /second time|already been freed/);
}));

test('non-scalar backward needs an explicit gradient; retainGrad on intermediates; multi-output backward', () => tidy(() => {
  const x = tensor([1, 2, 3], [3], { dtype: 'float64' }).requiresGrad_(true);
  const y = x.mul(x);
  assert.equal(y.isLeaf, false);
  y.retainGrad();
  assert.throws(() => y.backward(), /scalar outputs/);
  y.backward(tensor([1, 0.5, -1], [3], { dtype: 'float64' }));
  assert.deepEqual(x.grad!.toNumbers(), [2, 2, -6]);
  assert.deepEqual(y.grad!.toNumbers(), [1, 0.5, -1]);
  const a = tensor([2], [1], { dtype: 'float64' }).requiresGrad_(true);
  backward([a.mul(3).sum(), a.mul(a).sum()]);
  assert.deepEqual(a.grad!.toNumbers(), [3 + 4]);
  const b = tensor([1, 1], [2], { dtype: 'float64' }).requiresGrad_(true);
  backward([b.mul(2)], [tensor([1, 5], [2], { dtype: 'float64' })]);
  assert.deepEqual(b.grad!.toNumbers(), [2, 10]);
}));

test('in-place ops on tensors in the graph keep correct gradients', () => tidy(() => {
  const x = tensor([1, 2], [2], { dtype: 'float64' }).requiresGrad_(true);
  const y = x.mul(2);
  y.add_(1).mul_(x); // y = (2x + 1) · x → dy/dx = 4x + 1
  y.sum().backward();
  assert.deepEqual(x.grad!.toNumbers(), [5, 9]);
  // modifying a leaf that requires grad in place is refused, as in PyTorch
  assert.throws(() => x.add_(1), /leaf Variable that requires grad/);
}));

test('a conv layer gradient computed by the engine equals the loop reference of d(sum(conv·R))/dW', () => tidy(() => {
  // dL/dW[o][c][ky][kx] = Σ R[o][y][x] · X[c][y+ky][x+kx]: written directly, no finite differences
  const xs = [1, 2, 4, 4];
  const ws = [2, 2, 3, 3];
  const X = randomValues(prod(xs), 91);
  const W = randomValues(prod(ws), 92);
  const out = conv2dRef(X, xs, W, ws, null);
  const R = randomValues(prod(out.shape), 93);
  const w = tensor(W, ws, { dtype: 'float64' }).requiresGrad_(true);
  F.conv2d(tensor(X, xs, { dtype: 'float64' }), w).mul(tensor(R, out.shape, { dtype: 'float64' })).sum().backward();
  const expected: number[] = [];
  for (let o = 0; o < 2; o++) for (let c = 0; c < 2; c++) for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
    let s = 0;
    for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) s += R[(o * 2 + y) * 2 + x]! * X[(c * 4 + y + ky) * 4 + x + kx]!;
    expected.push(s);
  }
  assertClose(w.grad!.toNumbers(), expected, { atol: 1e-12 });
}));

test('process-wide settings: thread count set at load and adjustable; CUDA device count', () => {
  const env = process.env.PIX2PIXHD_THREADS;
  const initial = getNumThreads();
  assert.equal(initial, env ? Number(env) : availableParallelism(), 'threads default to the core count (or PIX2PIXHD_THREADS)');
  setNumThreads(1);
  assert.equal(getNumThreads(), 1);
  tidy(() => assert.equal(ones([64, 64]).matmul(ones([64, 64])).sum().item(), 64 ** 3));
  setNumThreads(initial);
  assert.equal(getNumThreads(), initial);
  assert.throws(() => setNumThreads(0), /at least 1/);
  const n = cudaDeviceCount();
  assert.ok(Number.isInteger(n) && n >= 0);
});

test('backward with onGrad: each input gets its whole gradient once, nothing stays in .grad', () => tidy(() => {
  const w = tensor([1, -2, 3], [3], { dtype: 'float64' }).requiresGrad_(true);
  const b = tensor([0.5], [1], { dtype: 'float64' }).requiresGrad_(true);
  const x = tensor([2, 1, -1], [3], { dtype: 'float64' });
  // w is used twice: d/dw [Σ w·x + Σ w²·b] = x + 2·w·b; d/db = Σ w²
  const loss = () => w.mul(x).sum().add(w.mul(w).mul(b).sum());
  const seen: [number, number[]][] = [];
  backward([loss()], null, { inputs: [w, b], onGrad: (i, g) => { seen.push([i, g.toNumbers()]); } });
  assert.deepEqual(seen.sort((p, q) => p[0] - q[0]), [[0, [3, -1, 2]], [1, [14]]]);
  assert.equal(w.grad, null);
  assert.equal(b.grad, null);
}));

test('backward with onGrad: updating a parameter in place inside the callback leaves the rest of the backward intact', () => tidy(() => {
  // A two-layer chain: by the time w1's gradient is complete, w2's update has already happened,
  // and w1's gradient must still be the one computed with the old w2.
  const w1 = tensor([0.5, -1], [2], { dtype: 'float64' }).requiresGrad_(true);
  const w2 = tensor([2, 3], [2], { dtype: 'float64' }).requiresGrad_(true);
  const x = tensor([1, 2], [2], { dtype: 'float64' });
  const loss = () => x.mul(w1).tanh().mul(w2).sum();
  backward([loss()], null, { inputs: [w1, w2] });
  const expected = [w1.grad!.toNumbers(), w2.grad!.toNumbers()];
  w1.grad = null;
  w2.grad = null;
  const before = [w1.toNumbers(), w2.toNumbers()];
  const got: number[][] = [[], []];
  backward([loss()], null, {
    inputs: [w1, w2],
    onGrad: (i, g) => { got[i] = g.toNumbers(); noGrad(() => [w1, w2][i]!.sub_(g.mul(0.1))); },
  });
  assertClose(got[0]!, expected[0]!, { atol: 1e-15 });
  assertClose(got[1]!, expected[1]!, { atol: 1e-15 });
  assertClose(w1.toNumbers(), before[0]!.map((v, k) => v - 0.1 * expected[0]![k]!), { atol: 1e-15 });
  assertClose(w2.toNumbers(), before[1]!.map((v, k) => v - 0.1 * expected[1]![k]!), { atol: 1e-15 });
}));

test('backward with onGrad: a throwing callback fails the backward and its hook does not outlive it; bad inputs refused', () => tidy(() => {
  const w = tensor([1, 2], [2], { dtype: 'float64' }).requiresGrad_(true);
  const y = w.mul(w).sum();
  assert.throws(
    () => backward([y], null, { retainGraph: true, inputs: [w], onGrad: () => { throw new Error('callback failed'); } }),
    /callback failed/,
  );
  // The graph was retained: a second, plain backward through it accumulates normally and calls
  // no leftover callback.
  backward([y], null, { inputs: [w] });
  assert.deepEqual(w.grad!.toNumbers(), [2, 4]);
  w.grad = null;
  const h = w.mul(2);
  assert.throws(() => backward([h.sum()], null, { inputs: [h], onGrad: () => {} }), /input 0 must be a leaf that requires grad/);
  assert.throws(() => backward([w.sum()], null, { onGrad: () => {} }), /needs the inputs/);
}));
