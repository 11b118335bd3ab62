// Adam and SGD against plain-JS references of PyTorch 1.13's update rules, learning-rate changes,
// parameter groups, and Adam's state-dict round trip.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Adam, adamUpdatesDuring, nn, noGrad, SGD, tensor, tidy, withAdamPath, zerosLike, type AdamHyper, type Tensor } from '../../src/torch/index.js';
import { native } from '../../src/torch/native.js';
import { assertClose, randomValues } from './helpers.js';

// L(p) = Σ c_i p_i² + d_i p_i, so dL/dp_i = 2 c_i p_i + d_i
const C = [0.5, 2, 1, 3];
const D = [0.3, -1, 0, 0.7];
const P0 = [1, -0.5, 2, 0.25];
const grad = (p: readonly number[]) => p.map((v, i) => 2 * C[i]! * v + D[i]!);
function lossStep(p: Tensor): void {
  tidy(() => p.mul(p).mul(tensor(C, [4], { dtype: p.dtype })).add(p.mul(tensor(D, [4], { dtype: p.dtype }))).sum().backward());
}

interface AdamRefState { m: number[]; v: number[]; t: number }
function adamRefStep(p: number[], s: AdamRefState, h: AdamHyper): void {
  const g0 = grad(p);
  s.t += 1;
  const [b1, b2] = h.betas;
  for (let i = 0; i < p.length; i++) {
    const g = g0[i]! + h.weightDecay * p[i]!;
    s.m[i] = b1 * s.m[i]! + (1 - b1) * g;
    s.v[i] = b2 * s.v[i]! + (1 - b2) * g * g;
    const mHat = s.m[i]! / (1 - b1 ** s.t);
    const denom = Math.sqrt(s.v[i]!) / Math.sqrt(1 - b2 ** s.t) + h.eps;
    p[i] = p[i]! - h.lr * mHat / denom;
  }
}

test('Adam, one step hand-worked: the first step moves each parameter by lr·g/(|g|+eps)', () => tidy(() => {
  const p = tensor([1, -3], [2], { dtype: 'float64' }).requiresGrad_(true);
  const opt = new Adam([p], { lr: 0.1 });
  tidy(() => p.mul(p).sum().backward()); // g = 2p = [2, -6]
  opt.step();
  assertClose(p.toNumbers(), [1 - 0.1 * 2 / (2 + 1e-8), -3 + 0.1 * 6 / (6 + 1e-8)], { atol: 1e-15 });
  assert.equal(opt.state.get(0)!.step, 1);
  assertClose(opt.state.get(0)!.expAvg.toNumbers(), [0.2, -0.6], { atol: 1e-15 });
  assertClose(opt.state.get(0)!.expAvgSq.toNumbers(), [0.004, 0.036], { atol: 1e-15 });
  opt.dispose();
}));

test('Adam matches a plain-JS reference for 3 steps: bias correction, weight decay, setLr', () => {
  const h: AdamHyper = { lr: 0.05, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1 };
  for (const dtype of ['float64', 'float32'] as const) tidy(() => {
    const p = tensor(P0, [4], { dtype }).requiresGrad_(true);
    const opt = new Adam([p], { ...h });
    const ref = [...P0];
    const s: AdamRefState = { m: [0, 0, 0, 0], v: [0, 0, 0, 0], t: 0 };
    const lrs = [0.05, 0.05, 0.01];
    for (let k = 0; k < 3; k++) {
      opt.setLr(lrs[k]!);
      assert.equal(opt.lr, lrs[k]);
      opt.zeroGrad();
      lossStep(p);
      opt.step();
      adamRefStep(ref, s, { ...h, lr: lrs[k]! });
      assertClose(p.toNumbers(), ref, dtype === 'float64' ? { atol: 1e-14, rtol: 1e-13 } : { atol: 1e-6, rtol: 1e-6 }, `${dtype} step ${k + 1}`);
    }
    assert.equal(opt.state.get(0)!.step, 3);
    assertClose(opt.state.get(0)!.expAvg.toNumbers(), s.m, dtype === 'float64' ? { atol: 1e-14 } : { atol: 1e-6 });
    assertClose(opt.state.get(0)!.expAvgSq.toNumbers(), s.v, dtype === 'float64' ? { atol: 1e-14 } : { atol: 1e-6 });
    opt.dispose();
  });
});

test('Adam: without zeroGrad gradients accumulate into the step, as in PyTorch', () => tidy(() => {
  const h: AdamHyper = { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 };
  const p = tensor(P0, [4], { dtype: 'float64' }).requiresGrad_(true);
  const opt = new Adam([p], h);
  lossStep(p);
  lossStep(p); // grad is now 2·g
  opt.step();
  const g = grad(P0).map((v) => 2 * v);
  const expected = P0.map((v, i) => v - 0.1 * g[i]! / (Math.abs(g[i]!) + 1e-8));
  assertClose(p.toNumbers(), expected, { atol: 1e-14 });
  opt.dispose();
}));

test('Adam parameter groups keep their own hyper-parameters; parameters without grads are skipped', () => tidy(() => {
  const a = tensor([1], [1], { dtype: 'float64' }).requiresGrad_(true);
  const b = tensor([1], [1], { dtype: 'float64' }).requiresGrad_(true);
  const c = tensor([1], [1], { dtype: 'float64' }).requiresGrad_(true);
  const opt = new Adam([{ params: [a] }, { params: [b, c], hyper: { lr: 0.5 } }], { lr: 0.1 });
  assert.equal(opt.paramGroups[0]!.hyper.lr, 0.1);
  assert.equal(opt.paramGroups[1]!.hyper.lr, 0.5);
  assert.deepEqual(opt.paramGroups[1]!.hyper.betas, [0.9, 0.999]);
  tidy(() => a.add(b).sum().backward()); // c gets no gradient
  opt.step();
  assertClose(a.toNumbers(), [1 - 0.1 / (1 + 1e-8)], { atol: 1e-15 });
  assertClose(b.toNumbers(), [1 - 0.5 / (1 + 1e-8)], { atol: 1e-15 });
  assert.deepEqual(c.toNumbers(), [1]);
  assert.deepEqual([...opt.state.keys()], [0, 1], 'state by index across groups; none for c');
  opt.setLr(0.01);
  assert.deepEqual(opt.paramGroups.map((g) => g.hyper.lr), [0.01, 0.01]);
  opt.zeroGrad();
  assert.ok([a, b].every((t) => t.grad !== null && t.grad.item() === 0), 'zeroed in place, as PyTorch 1.13');
  assert.equal(c.grad, null, 'a parameter without a gradient keeps none');
  opt.zeroGrad(true);
  assert.ok([a, b, c].every((t) => t.grad === null));
  opt.dispose();
}));

test('Adam stateDict/loadStateDict: a restored optimizer continues identically, lr included', () => tidy(() => {
  const h: Partial<AdamHyper> = { lr: 0.05, betas: [0.85, 0.99], weightDecay: 0.01 };
  const pa = tensor(P0, [4], { dtype: 'float64' }).requiresGrad_(true);
  const optA = new Adam([pa], h);
  for (let k = 0; k < 2; k++) { optA.zeroGrad(); lossStep(pa); optA.step(); }
  optA.setLr(0.02);
  const sd = optA.stateDict();
  assert.deepEqual([...sd.state.keys()], [0]);
  assert.equal(sd.state.get(0)!.step, 2);
  assert.deepEqual(sd.paramGroups, [{ hyper: { lr: 0.02, betas: [0.85, 0.99], eps: 1e-8, weightDecay: 0.01 }, params: [0] }]);

  const pb = tensor(pa.toNumbers(), [4], { dtype: 'float64' }).requiresGrad_(true);
  const optB = new Adam([pb], { lr: 1 });
  optB.loadStateDict(sd);
  assert.equal(optB.lr, 0.02);
  assert.ok(!optB.state.get(0)!.expAvg.isAliasOf(optA.state.get(0)!.expAvg), 'loaded state is a copy');
  // reloading an optimizer's own state dict works too
  const pc = tensor(pa.toNumbers(), [4], { dtype: 'float64' }).requiresGrad_(true);
  const optC = new Adam([pc], h);
  optC.loadStateDict(sd);
  optC.loadStateDict(optC.stateDict());
  for (let k = 0; k < 3; k++) {
    for (const [p, o] of [[pa, optA], [pb, optB], [pc, optC]] as const) { o.zeroGrad(); lossStep(p); o.step(); }
    assert.deepEqual(pb.toNumbers(), pa.toNumbers(), `restored optimizer, step ${k + 3}`);
    assert.deepEqual(pc.toNumbers(), pa.toNumbers(), `self-reloaded optimizer, step ${k + 3}`);
  }
  assert.equal(optB.state.get(0)!.step, 5);
  // mismatches are refused with a message that names the source
  const wrongShape = new Adam([tensor([1, 2], [2]).requiresGrad_(true)]);
  assert.throws(() => wrongShape.loadStateDict(sd, 'opt.pth'), /opt\.pth: exp_avg of parameter 0 has shape \[4\], the parameter \[2\]/);
  const twoGroups = new Adam([{ params: [tensor([1]).requiresGrad_(true)] }, { params: [tensor([1]).requiresGrad_(true)] }]);
  assert.throws(() => twoGroups.loadStateDict(sd), /1 parameter groups, this optimizer has 2/);
  const twoParams = new Adam([tensor([1]).requiresGrad_(true), tensor([1]).requiresGrad_(true)]);
  assert.throws(() => twoParams.loadStateDict(sd), /group 0 has 1 parameters, this optimizer has 2/);
  for (const o of [optA, optB, optC]) o.dispose();
}));

test('SGD: plain, momentum and nesterov, hand-worked on a constant gradient', () => tidy(() => {
  // L = p, so the gradient is 1 at every step; p starts at 0, lr 0.1, momentum 0.9
  const run = (hyper: ConstructorParameters<typeof SGD>[1]) => {
    const p = tensor([0], [1], { dtype: 'float64' }).requiresGrad_(true);
    const opt = new SGD([p], hyper);
    const out: number[] = [];
    for (let k = 0; k < 3; k++) { opt.zeroGrad(); tidy(() => p.sum().backward()); opt.step(); out.push(p.toNumbers()[0]!); }
    opt.dispose();
    return out;
  };
  assertClose(run({ lr: 0.1 }), [-0.1, -0.2, -0.3], { atol: 1e-15 });
  // buf: 1, 1.9, 2.71 → p: -0.1, -0.29, -0.561
  assertClose(run({ lr: 0.1, momentum: 0.9 }), [-0.1, -0.29, -0.561], { atol: 1e-15 });
  // nesterov steps by g + 0.9·buf: 1.9, 2.71, 3.439 → p: -0.19, -0.461, -0.8049
  assertClose(run({ lr: 0.1, momentum: 0.9, nesterov: true }), [-0.19, -0.461, -0.8049], { atol: 1e-15 });
  // dampening 0.5: buf 1 (first step is not damped), 0.9 + 0.5 = 1.4, 1.26 + 0.5 = 1.76
  assertClose(run({ lr: 0.1, momentum: 0.9, dampening: 0.5 }), [-0.1, -0.24, -0.416], { atol: 1e-15 });
}));

test('SGD with momentum, nesterov and weight decay matches a plain-JS reference', () => tidy(() => {
  for (const nesterov of [false, true]) {
    const h = { lr: 0.05, momentum: 0.8, dampening: 0, weightDecay: 0.2, nesterov };
    const p = tensor(P0, [4], { dtype: 'float64' }).requiresGrad_(true);
    const opt = new SGD([p], h);
    const ref = [...P0];
    let buf: number[] | null = null;
    for (let k = 0; k < 3; k++) {
      if (k === 2) opt.setLr(0.1);
      const lr = k === 2 ? 0.1 : h.lr;
      opt.zeroGrad();
      lossStep(p);
      opt.step();
      const d = grad(ref).map((g, i) => g + h.weightDecay * ref[i]!);
      buf = buf === null ? [...d] : buf.map((b, i) => h.momentum * b + d[i]!);
      const stepDir = nesterov ? d.map((g, i) => g + h.momentum * buf![i]!) : buf;
      for (let i = 0; i < 4; i++) ref[i] = ref[i]! - lr * stepDir[i]!;
      assertClose(p.toNumbers(), ref, { atol: 1e-14 }, `nesterov=${nesterov} step ${k + 1}`);
    }
    assert.equal(opt.momentumBuffers.size, 1);
    opt.dispose();
    assert.equal(opt.momentumBuffers.size, 0);
  }
}));

test('backwardAndStep equals zeroGrad + backward + step (Adam and SGD), keeps no gradients, skips frozen parameters', () => tidy(() => {
  // A small conv net with a shared weight (used twice) and a frozen layer in the middle.
  const build = () => {
    const conv = new nn.Conv2d(2, 3, 3, { padding: 1 });
    const frozen = new nn.Conv2d(3, 3, 1).requiresGrad_(false);
    const head = new nn.Conv2d(3, 1, 3, { padding: 1 });
    for (const [k, t] of [...conv.stateDict(), ...frozen.stateDict(), ...head.stateDict()]) {
      noGrad(() => t.copy_(tensor(randomValues(t.numel, k.length + t.numel), t.shape)));
    }
    return { conv, frozen, head, params: [...conv.parameters(), ...frozen.parameters(), ...head.parameters()] };
  };
  const x = tensor(randomValues(2 * 2 * 6 * 6, 7), [2, 2, 6, 6]);
  const loss = (n: ReturnType<typeof build>) => n.head.forward(n.frozen.forward(n.conv.forward(x)).relu()).add(n.conv.forward(x).mean()).square().mean();
  for (const make of [
    (ps: Tensor[]) => new Adam(ps, { lr: 0.01, betas: [0.5, 0.999], weightDecay: 0.1 }),
    (ps: Tensor[]) => new SGD(ps, { lr: 0.05, momentum: 0.9 }),
  ]) {
    const plain = build();
    const fused = build();
    const optPlain = make(plain.params);
    const optFused = make(fused.params);
    for (let k = 0; k < 3; k++) {
      tidy(() => { optPlain.zeroGrad(); loss(plain).backward(); optPlain.step(); });
      tidy(() => optFused.backwardAndStep(loss(fused)));
      plain.params.forEach((p, i) => assertClose(fused.params[i]!.toNumbers(), p.toNumbers(), { atol: 1e-6, rtol: 1e-6 }, `${optPlain.constructor.name} step ${k + 1} param ${i}`));
      assert.ok(fused.params.every((p) => p.grad === null), 'no gradient kept');
    }
    const frozenBefore = build().frozen.parameters().map((p) => p.toNumbers());
    assert.deepEqual(fused.frozen.parameters().map((p) => p.toNumbers()), frozenBefore, 'frozen layer untouched');
    assert.ok(plain.conv.parameters()[0]!.toNumbers().some((v, i) => v !== build().conv.parameters()[0]!.toNumbers()[i]), 'the shared weight moved');
    optPlain.dispose();
    optFused.dispose();
  }
}));

test("Adam's fused CPU update is bit-identical to PyTorch's operation sequence (float32 and float64, weight decay, tails)", () => tidy(() => {
  const h = { lr: 2e-4, betas: [0.5, 0.999] as [number, number], eps: 1e-8 };
  // The transposed parameter is not contiguous: it takes the operation sequence itself. The
  // binding counts the updates its fused kernel does, so each step checks which path it took:
  // without that, a fused path that silently declined would be compared with itself.
  for (const dtype of ['float32', 'float64'] as const) for (const weightDecay of [0, 0.01]) for (const n of [1007, 100_003, -1]) {
    const values = (seed: number, scale: number) => tensor(randomValues(n > 0 ? n : 6, seed).map((x) => x * scale), n > 0 ? [n] : [3, 2], { dtype });
    const p = (n > 0 ? values(1, 1) : values(1, 1).transpose(0, 1).detach()).requiresGrad_(true);
    const ref = n > 0 ? values(1, 1) : values(1, 1).transpose(0, 1);
    const m = zerosLike(ref);
    const v = zerosLike(ref);
    const opt = new Adam([p], { ...h, weightDecay });
    const fused = n > 0;
    assert.deepEqual(p.strides(), fused ? [1] : [1, 2], 'contiguous exactly where the fused kernel should apply');
    for (let step = 1; step <= 3; step++) {
      const g = n > 0 ? values(10 + step, 0.01) : values(10 + step, 0.01).transpose(0, 1);
      p.grad = g;
      const where = `${dtype}, weight decay ${weightDecay}, ${n} elements, step ${step}`;
      const fusedBefore = native.adamUpdateCounts().cpuKernel;
      opt.step();
      assert.equal(native.adamUpdateCounts().cpuKernel - fusedBefore, fused ? 1 : 0, `${fused ? 'the fused kernel' : 'the operation sequence'} did the update: ${where}`);
      // PyTorch 1.13's _single_tensor_adam, op for op, on ATen's kernels.
      noGrad(() => tidy(() => {
        const grad = weightDecay !== 0 ? g.add(ref, weightDecay) : g;
        m.mul_(h.betas[0]).add_(grad, 1 - h.betas[0]);
        v.mul_(h.betas[1]).addcmul_(grad, grad, 1 - h.betas[1]);
        const denom = v.sqrt().div_(Math.sqrt(1 - h.betas[1] ** step)).add_(h.eps);
        ref.addcdiv_(m, denom, -(h.lr / (1 - h.betas[0] ** step)));
      }));
      assert.equal(p.ne(ref).sum().item(), 0, `parameter: ${where}`);
      assert.equal(opt.state.get(0)!.expAvgSq.ne(v).sum().item(), 0, `exp_avg_sq: ${where}`);
      assert.equal(opt.state.get(0)!.expAvg.ne(m).sum().item(), 0, `exp_avg: ${where}`);
    }
    opt.dispose();
  }
}));

test('Adam loadStateDict: moments come back beside their parameter, in its dtype (float64 state into float32 parameters here; CPU to CUDA on a GPU)', () => tidy(() => {
  const p = tensor([1, 2, 3], undefined, { dtype: 'float32' }).requiresGrad_(true);
  const opt = new Adam([p]);
  const state = new Map([[0, { step: 4, expAvg: tensor([0.1, 0.2, 0.3], undefined, { dtype: 'float64' }), expAvgSq: tensor([1, 2, 3], undefined, { dtype: 'float64' }) }]]);
  opt.loadStateDict({ state, paramGroups: opt.stateDict().paramGroups });
  const s = opt.state.get(0)!;
  for (const t of [s.expAvg, s.expAvgSq]) {
    assert.equal(t.dtype, p.dtype);
    assert.equal(t.device, p.device);
  }
  assertClose(s.expAvg.toNumbers(), [0.1, 0.2, 0.3], { atol: 1e-7 });
  assert.equal(s.step, 4);
  opt.dispose();
}));

test("Adam's in-backward update runs natively: bit-identical to step() on both of its paths (one-pass kernel, PyTorch's op sequence), and a parameter without a gradient keeps no state", () => tidy(() => {
  // The update inside the backward pass is C++ (so that it can run on CUDA's device threads);
  // here it must equal the TypeScript-driven step() bit for bit. A transposed leaf is not
  // contiguous, so the hook takes PyTorch's op sequence for it (the path CUDA parameters take),
  // and the binding's fused-update counter tells which path each update took.
  const h = { lr: 2e-3, betas: [0.5, 0.999] as [number, number], eps: 1e-8, weightDecay: 0.01 };
  const make = () => {
    const dense = tensor(randomValues(12, 3), [3, 4]).requiresGrad_(true);
    const strided = tensor(randomValues(12, 4), [4, 3]).transpose(0, 1).detach().requiresGrad_(true);
    const unused = tensor(randomValues(5, 5), [5]).requiresGrad_(true);
    return [dense, strided, unused] as const;
  };
  const x = tensor(randomValues(8, 6), [4, 2]);
  const loss = ([dense, strided]: readonly Tensor[]) => dense!.matmul(x).add(strided!.matmul(x)).tanh().square().sum();
  const plain = make();
  const inBackward = make();
  assert.equal(inBackward[1].strides().join(','), '1,3', 'the second parameter is not contiguous');
  const optPlain = new Adam([...plain], h);
  const optIn = new Adam([...inBackward], h);
  for (let step = 1; step <= 3; step++) {
    tidy(() => { optPlain.zeroGrad(); loss(plain).backward(); optPlain.step(); });
    const fusedBefore = native.adamUpdateCounts().cpuKernel;
    tidy(() => optIn.backwardAndStep(loss(inBackward)));
    assert.equal(native.adamUpdateCounts().cpuKernel - fusedBefore, 1, `step ${step}: the kernel updated the dense parameter only`);
    for (const k of [0, 1]) {
      assert.equal(inBackward[k]!.ne(plain[k]!).sum().item(), 0, `step ${step}: parameter ${k} bit-identical`);
      assert.equal(optIn.state.get(k)!.expAvgSq.ne(optPlain.state.get(k)!.expAvgSq).sum().item(), 0, `step ${step}: exp_avg_sq ${k}`);
      assert.equal(optIn.state.get(k)!.step, step);
    }
    assert.ok(inBackward.every((p) => p.grad === null), 'no gradient kept');
  }
  assert.ok(inBackward[1].ne(make()[1]).sum().item() > 0, 'the op-sequence parameter moved');
  assert.equal(optIn.state.has(2), false, 'no state for a parameter that never had a gradient, as step() leaves it');
  assert.deepEqual(inBackward[2].toNumbers(), make()[2].toNumbers());
  optPlain.dispose();
  optIn.dispose();
}));

/**
 * Parameters for comparing Adam's paths: two groups (their own lr and weight decay), float32,
 * float64 and bfloat16, sizes off any vector width, a transposed (non-contiguous) one, and one
 * that gets no gradient at step 2 (its step count falls behind the others').
 */
function pathFixture() {
  const make = () => {
    const values = (n: number, seed: number, shape: number[], dtype: 'float32' | 'float64' | 'bfloat16') =>
      tensor(randomValues(n, seed), shape).to('cpu', { dtype });
    const ps = [
      values(1007, 1, [1007], 'float32'),
      values(24, 2, [4, 6], 'float32').transpose(0, 1),
      values(301, 3, [301], 'float64'),
      values(96, 4, [96], 'bfloat16'),
      values(33, 5, [33], 'float32'),
    ].map((t) => t.detach().requiresGrad_(true));
    return ps;
  };
  const grads = (step: number) => [[1007], [6, 4], [301], [96], [33]].map((shape, k) =>
    tensor(randomValues(shape.reduce((a, b) => a * b), 100 * step + k).map((x) => x * 0.01), shape).to('cpu', { dtype: ['float32', 'float32', 'float64', 'bfloat16', 'float32'][k] as 'float32' }));
  const optimizer = (ps: Tensor[]) => new Adam([
    { params: ps.slice(0, 3) },
    { params: ps.slice(3), hyper: { lr: 5e-3, weightDecay: 0.01 } },
  ], { lr: 2e-3, betas: [0.5, 0.999], eps: 1e-8 });
  return { make, grads, optimizer };
}

test("Adam's foreach path (PyTorch 1.13's _multi_tensor_adam, op for op) equals the single-tensor op sequence bit for bit on the CPU, in step() and inside the backward", () => tidy(() => {
  // On the CPU ATen runs each foreach op tensor by tensor on the same kernels, so the two are
  // bitwise equal; PyTorch 1.13 itself agrees (torch.optim.Adam(foreach=True) against
  // foreach=False on the CPU: bitwise equal for float32, float64 and bfloat16, with and without
  // weight decay, checked with /usr/bin/python3). On CUDA they differ in rounding.
  const { make, grads, optimizer } = pathFixture();
  const viaOps = make();
  const viaForeach = make();
  const optOps = optimizer(viaOps);
  const optForeach = optimizer(viaForeach);
  for (let step = 1; step <= 3; step++) {
    const g = grads(step);
    for (const [ps, path, opt] of [[viaOps, 'ops', optOps], [viaForeach, 'foreach', optForeach]] as const) {
      ps.forEach((p, k) => { p.grad = step === 2 && k === 4 ? null : g[k]!; });
      const gradBefore = ps[3]!.grad!.toNumbers();
      const counted = adamUpdatesDuring(() => withAdamPath(path, () => opt.step()));
      const updated = step === 2 ? 4 : 5;
      assert.deepEqual(counted, { cpuKernel: 0, fusedAdam: 0, foreach: path === 'foreach' ? updated : 0, ops: path === 'ops' ? updated : 0 }, `step ${step}: every update on the ${path} path`);
      assert.deepEqual(ps[3]!.grad!.toNumbers(), gradBefore, 'the weight decay is not added into .grad');
    }
    viaOps.forEach((p, k) => {
      assert.equal(viaForeach[k]!.ne(p).sum().item(), 0, `step ${step}: parameter ${k} (${p.dtype})`);
      for (const m of ['expAvg', 'expAvgSq'] as const) assert.equal(optForeach.state.get(k)![m].ne(optOps.state.get(k)![m]).sum().item(), 0, `step ${step}: ${m} ${k}`);
    });
  }
  assert.equal(optForeach.state.get(4)!.step, 2, 'a parameter without a gradient takes no step');
  assert.ok(viaOps[3]!.ne(make()[3]!).sum().item() > 0, 'the bfloat16 parameter moved');
  // Inside the backward the hooks update one parameter at a time: one-element foreach calls.
  const x = tensor(randomValues(4 * 5, 9), [4, 5]);
  const loss = (ps: Tensor[]) => ps[1]!.matmul(x).tanh().sum().add(ps[0]!.square().sum()).add(ps[2]!.square().sum());
  for (const [ps, path, opt] of [[viaOps, 'ops', optOps], [viaForeach, 'foreach', optForeach]] as const) {
    const counted = adamUpdatesDuring(() => withAdamPath(path, () => tidy(() => opt.backwardAndStep(loss(ps)))));
    assert.equal(counted[path], 3, `three parameters updated inside the backward on the ${path} path`);
  }
  viaOps.forEach((p, k) => assert.equal(viaForeach[k]!.ne(p).sum().item(), 0, `in backward: parameter ${k}`));
  optOps.dispose();
  optForeach.dispose();
}));

test("Adam forced onto ATen's _fused_adam_ on the CPU: without a CPU kernel (PyTorch 1.13) it falls back, once and for good, to the foreach path in step() and the op sequence inside the backward; with one, it stays close to the op sequence", () => tidy(() => {
  const { make, grads, optimizer } = pathFixture();
  const viaOps = make();
  const viaFused = make();
  const optOps = optimizer(viaOps);
  const optFused = optimizer(viaFused);
  const built = native.adamUpdateCounts().fusedAdamBuilt;
  let ranFused = 0;
  for (let step = 1; step <= 2; step++) {
    const g = grads(step);
    viaOps.forEach((p, k) => { p.grad = g[k]!; });
    viaFused.forEach((p, k) => { p.grad = g[k]!; });
    withAdamPath('ops', () => optOps.step());
    const counted = adamUpdatesDuring(() => withAdamPath('fused', () => optFused.step()));
    // Every update is one or the other (the transposed parameter, whose gradient is laid out
    // otherwise, always takes foreach).
    assert.equal(counted.fusedAdam + counted.foreach, 5, `step ${step}: fused or, where it has no kernel, foreach: ${JSON.stringify(counted)}`);
    if (!built) assert.equal(counted.fusedAdam, 0, 'a libtorch without _fused_adam_ never runs it');
    // A dispatcher without a CPU kernel said so at the first call, and is not asked again.
    assert.equal(native.adamUpdateCounts().fusedAdamMissing.includes('cpu'), built && counted.fusedAdam === 0, `step ${step}: the CPU is marked as lacking the kernel exactly when it fell back`);
    ranFused += counted.fusedAdam;
  }
  const inBackward = adamUpdatesDuring(() => withAdamPath('fused', () => tidy(() => optFused.backwardAndStep(viaFused[0]!.square().sum()))));
  withAdamPath('ops', () => tidy(() => optOps.backwardAndStep(viaOps[0]!.square().sum())));
  assert.equal(inBackward.fusedAdam + inBackward.ops, 1, `inside the backward: fused or the op sequence: ${JSON.stringify(inBackward)}`);
  ranFused += inBackward.fusedAdam;
  // Where it ran, _fused_adam_ computes in float (double scalars): close to the op sequence, not bitwise.
  viaOps.forEach((p, k) => {
    if (ranFused === 0) assert.equal(viaFused[k]!.ne(p).sum().item(), 0, `fell back: parameter ${k} bit-identical to the op sequence`);
    else if (p.dtype !== 'bfloat16') {
      const start = make()[k]!;
      const moved = (q: Tensor) => q.sub(start).to('cpu', { dtype: 'float64' });
      const err = moved(viaFused[k]!).sub(moved(p)).norm().item() / moved(p).norm().item();
      assert.ok(err < 1e-6 || p.dtype !== 'float64' && err < 1e-4, `parameter ${k}: the update's relative error ${err}`);
    }
  });
  optOps.dispose();
  optFused.dispose();
}));
