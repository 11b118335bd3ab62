// Explicit memory: tidy scopes, keep, nested scopes, dispose, and a long training loop whose
// live-tensor count and resident memory stay flat. Every test here frees what it makes, so
// liveTensorCount() is exact (nothing is left for the garbage collector to change it later).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Adam, dispose, F, keep, liveTensorCount, manualSeed, nn, noGrad, ones, randn, tensor, tidy, zeros, type Tensor,
} from '../../src/torch/index.js';

test('a 1000-iteration training loop keeps liveTensorCount and RSS flat', (t) => {
  manualSeed(0);
  const before = liveTensorCount();
  const net = new nn.Sequential(new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.Conv2d(8, 3, 3, { padding: 1 }));
  const opt = new Adam(net.parameters(), { lr: 1e-3 });
  const x = randn([2, 3, 16, 16]);
  const target = tidy(() => randn([2, 3, 16, 16]).tanh());
  const counts: number[] = [];
  let rss200 = 0;
  let rss1000 = 0;
  let firstLoss = 0;
  let lastLoss = 0;
  for (let it = 1; it <= 1000; it++) {
    const loss = tidy(() => {
      opt.zeroGrad();
      const l = F.l1Loss(net.forward(x), target);
      l.backward();
      opt.step();
      return l.item();
    });
    if (it === 1) firstLoss = loss;
    lastLoss = loss;
    counts.push(liveTensorCount());
    if (it === 200) rss200 = process.memoryUsage().rss;
    if (it === 1000) rss1000 = process.memoryUsage().rss;
  }
  assert.ok(lastLoss < firstLoss, `training makes progress (loss ${firstLoss} → ${lastLoss})`);
  // after the first step (which creates Adam's moment buffers) the count never moves
  const steady = counts[9]!;
  for (let i = 10; i < counts.length; i++) assert.equal(counts[i], steady, `live tensors at iteration ${i + 1}`);
  // 4 parameters + 8 Adam moments + x + target
  assert.equal(steady - before, 4 + 8 + 2);
  const growthMB = (rss1000 - rss200) / 2 ** 20;
  t.diagnostic(`RSS ${(rss200 / 2 ** 20).toFixed(1)} MB at iteration 200, ${(rss1000 / 2 ** 20).toFixed(1)} MB at 1000; ${steady - before} tensors held`);
  assert.ok(growthMB < 30, `RSS grew ${growthMB.toFixed(1)} MB between iteration 200 and 1000`);
  opt.dispose();
  net.dispose();
  x.dispose();
  target.dispose();
  assert.equal(liveTensorCount(), before, 'disposing the net, optimizer and data frees everything');
});

// Node defers N-API finalizers (which free the C++ side of garbage-collected tensor handles) to
// the event loop's immediate queue, so a loop that never yields holds ~0.3 KB per handle made
// until it does (the 30 MB bound above allows for that). A loop that yields, as the trainer does
// while awaiting batches, must hold RSS flat to a tight bound: this catches real native leaks.
test('the same loop yielding to the event loop holds RSS within 10 MB', async (t) => {
  manualSeed(1);
  const before = liveTensorCount();
  const net = new nn.Sequential(new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.Conv2d(8, 3, 3, { padding: 1 }));
  const opt = new Adam(net.parameters(), { lr: 1e-3 });
  const x = randn([2, 3, 16, 16]);
  let rss200 = 0;
  let rss1000 = 0;
  let count200 = 0;
  for (let it = 1; it <= 1000; it++) {
    tidy(() => {
      opt.zeroGrad();
      F.mseLoss(net.forward(x), x).backward();
      opt.step();
    });
    if (it % 20 === 0) await new Promise((r) => setImmediate(r));
    if (it === 200) { rss200 = process.memoryUsage().rss; count200 = liveTensorCount(); }
    if (it === 1000) rss1000 = process.memoryUsage().rss;
  }
  assert.equal(liveTensorCount(), count200);
  const growthMB = (rss1000 - rss200) / 2 ** 20;
  t.diagnostic(`RSS ${(rss200 / 2 ** 20).toFixed(1)} MB at iteration 200, ${(rss1000 / 2 ** 20).toFixed(1)} MB at 1000`);
  assert.ok(growthMB < 10, `RSS grew ${growthMB.toFixed(1)} MB between iteration 200 and 1000`);
  opt.dispose();
  net.dispose();
  x.dispose();
  assert.equal(liveTensorCount(), before);
});

test('tidy frees what the function does not return', () => {
  const before = liveTensorCount();
  let inner: Tensor[] = [];
  const kept = tidy(() => {
    const a = ones([3]);
    const b = a.mul(2);
    const c = b.add(1);
    inner = [a, b];
    return c;
  });
  assert.equal(liveTensorCount(), before + 1);
  assert.ok(inner.every((t) => t.isDisposed));
  assert.equal(kept.isDisposed, false);
  assert.deepEqual(kept.toNumbers(), [3, 3, 3]);
  kept.dispose();
  assert.equal(liveTensorCount(), before);
  // a scalar result: everything freed
  const v = tidy(() => ones([4]).sum().item());
  assert.equal(v, 4);
  assert.equal(liveTensorCount(), before);
});

test('tidy keeps tensors returned inside arrays, objects and maps', () => {
  const before = liveTensorCount();
  const out = tidy(() => {
    const a = ones([1]);
    const b = zeros([1]);
    zeros([5]); // garbage
    return { list: [a, 'label'], nested: { m: new Map([['b', b]]) }, n: 3 };
  });
  assert.equal(liveTensorCount(), before + 2);
  assert.equal((out.list[0] as Tensor).isDisposed, false);
  assert.equal(out.nested.m.get('b')!.isDisposed, false);
  dispose(out);
  assert.equal((out.list[0] as Tensor).isDisposed, true);
  assert.equal(liveTensorCount(), before);
});

test('keep() exempts a tensor from every enclosing scope', () => {
  const before = liveTensorCount();
  let k: Tensor | undefined;
  tidy(() => {
    tidy(() => {
      k = keep(ones([2]));
      ones([2]);
    });
    ones([2]);
  });
  assert.equal(liveTensorCount(), before + 1);
  assert.equal(k!.isDisposed, false);
  k!.dispose();
  assert.equal(liveTensorCount(), before);
});

test('nested tidy returns tensors to the parent scope, which frees them unless it returns them too', () => {
  const before = liveTensorCount();
  let fromInner: Tensor | undefined;
  const outer = tidy(() => {
    fromInner = tidy(() => {
      ones([1]);
      return ones([2]);
    });
    assert.equal(fromInner.isDisposed, false, 'alive in the parent scope');
    assert.equal(liveTensorCount(), before + 1);
    return fromInner.add(1);
  });
  assert.equal(fromInner!.isDisposed, true, 'the parent did not return it, so it was freed');
  assert.equal(outer.isDisposed, false);
  assert.deepEqual(outer.toNumbers(), [2, 2]);
  outer.dispose();
  assert.equal(liveTensorCount(), before);
  // returning the inner result straight through keeps it alive to the caller
  const through = tidy(() => tidy(() => ones([1])));
  assert.equal(through.isDisposed, false);
  through.dispose();
  assert.equal(liveTensorCount(), before);
});

test('tidy frees everything when the function throws, and refuses promises', () => {
  const before = liveTensorCount();
  assert.throws(() => tidy(() => {
    ones([3]);
    throw new Error('boom');
  }), /boom/);
  assert.equal(liveTensorCount(), before);
  assert.throws(() => tidy(() => Promise.resolve(1)), /promise/);
  assert.equal(liveTensorCount(), before);
});

test('tensors made outside any scope live until disposed; dispose is idempotent', () => {
  const before = liveTensorCount();
  const a = ones([2]);
  assert.equal(liveTensorCount(), before + 1);
  a.dispose();
  a.dispose();
  assert.equal(a.isDisposed, true);
  assert.equal(liveTensorCount(), before);
  assert.equal(a.toString(), 'Tensor(disposed)');
});

test('using a disposed tensor throws an Error that says it was disposed', () => {
  const before = liveTensorCount();
  const a = tensor([1, 2]);
  const b = tensor([3, 4]);
  a.dispose();
  for (const use of [() => a.shape, () => a.toArray(), () => a.add(1), () => b.add(a), () => a.item(), () => a.requiresGrad_(true)]) {
    assert.throws(use, (e: unknown) => e instanceof Error && /disposed/.test(e.message));
  }
  const escaped = tidy(() => {
    const inside = ones([1]);
    return () => inside.toNumbers();
  });
  assert.throws(escaped, /disposed/, 'a tensor used outside its tidy scope');
  assert.deepEqual(b.toNumbers(), [3, 4], 'other tensors are unaffected');
  b.dispose();
  assert.equal(liveTensorCount(), before);
});

test('views and grads are separate handles: disposing a view keeps the base', () => {
  const before = liveTensorCount();
  tidy(() => {
    const base = tensor([1, 2, 3, 4]);
    const v = base.narrow(0, 1, 2);
    v.dispose();
    assert.deepEqual(base.toNumbers(), [1, 2, 3, 4]);
    const w = tensor([1], [1]).requiresGrad_(true);
    w.mul(2).sum().backward();
    const g1 = w.grad!;
    g1.dispose();
    assert.deepEqual(w.grad!.toNumbers(), [2], 'disposing a grad handle leaves the gradient');
  });
  assert.equal(liveTensorCount(), before);
});

test('module construction and disposal, and noGrad inside tidy, leave nothing behind', () => {
  const before = liveTensorCount();
  const m = new nn.Sequential(new nn.Conv2d(2, 2, 3), new nn.BatchNorm2d(2), new nn.InstanceNorm2d(2, { affine: true, trackRunningStats: true }));
  const n = m.stateDict().size;
  assert.equal(liveTensorCount(), before + n);
  const y = tidy(() => noGrad(() => m.forward(ones([1, 2, 5, 5]))));
  assert.equal(liveTensorCount(), before + n + 1, 'the returned output survives the scope');
  y.dispose();
  assert.equal(liveTensorCount(), before + n);
  m.dispose();
  assert.equal(liveTensorCount(), before);
});
