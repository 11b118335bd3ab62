// Explicit memory: tidy scopes, keep, nested scopes, dispose, and training loops whose live-tensor
// count and native heap stay flat. Every test here frees what it makes, so
// liveTensorCount() is exact (nothing is left for the garbage collector to change it later).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  Adam, dispose, F, heapBytesInUse, keep, liveTensorCount, manualSeed, nn, noGrad, ones, randn, tensor, tidy, zeros, type Tensor,
} from '../../src/torch/index.js';

// The two training loops below measure the C/C++ heap's bytes in use (heapBytesInUse: all
// tensor memory, and the native side of every handle) against a baseline taken in the same test
// after a warm-up (Adam's moments, libtorch's one-time allocations, thread pools), and bound the
// growth over the next N iterations in units of what the loop itself allocates: one network
// output, OUTPUT_BYTES. Each test then leaks outputs on purpose and checks that the measure
// shows them, so the bounds cannot pass vacuously. Not RSS: the addon keeps the heap from being
// trimmed (see tuneAllocator in native/src/addon.cpp), so RSS is a high-water mark that never
// shows memory coming back, moves with fragmentation (by 3–30 MB over loops like these with
// nothing leaked), and can hide a leak in memory that earlier tests freed; it is only reported.
const S = 32; // images [2, 3, S, S]
const OUTPUT_BYTES = 2 * 3 * S * S * 4; // one float32 output: 24 KB
const N = 600;
const KB = 1024;
const MB = 2 ** 20;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** Collect unreachable handles and let Node run their finalizers (queued as immediates). */
async function settle(): Promise<void> {
  for (let round = 0; round < 2; round++) {
    gc();
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  }
}
function heap(): number {
  const bytes = heapBytesInUse();
  assert.ok(bytes !== null, 'heapBytesInUse() is known (glibc)');
  return bytes;
}
const kb = (bytes: number): string => `${(bytes / KB).toFixed(0)} KB`;

function trainer(seed: number) {
  manualSeed(seed);
  const net = new nn.Sequential(new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.Conv2d(8, 3, 3, { padding: 1 }));
  const opt = new Adam(net.parameters(), { lr: 1e-3 });
  const x = randn([2, 3, S, S]);
  const target = tidy(() => randn([2, 3, S, S]).tanh());
  const step = <T>(result: (output: Tensor, loss: Tensor) => T): T => tidy(() => {
    opt.zeroGrad();
    const y = net.forward(x);
    const l = F.l1Loss(y, target);
    l.backward();
    opt.step();
    return result(y, l);
  });
  return {
    /** One training step; returns the loss. */
    step: (): number => step((_, l) => l.item()),
    /** The same step, leaking the network's output: the caller holds it. */
    leakyStep: (): Tensor => step((y) => y.detach()),
    dispose(): void {
      opt.dispose();
      net.dispose();
      x.dispose();
      target.dispose();
    },
  };
}

/**
 * The control: 100 leaked outputs (2.4 MB, more than the bounds below allow) show in the heap,
 * to within the caches' noise (under 0.3 MB measured).
 */
async function assertHeapShowsLeak(tr: ReturnType<typeof trainer>): Promise<void> {
  await settle();
  const before = heap();
  const leaked = Array.from({ length: 100 }, () => tr.leakyStep());
  await settle();
  const held = heap() - before;
  assert.ok(held >= 0.75 * 100 * OUTPUT_BYTES, `leaking 100 outputs of ${kb(OUTPUT_BYTES)} shows as ${kb(held)}`);
  dispose(leaked);
}

test('a training loop that never yields keeps liveTensorCount flat, and holds no tensor memory', async (t) => {
  const before = liveTensorCount();
  const tr = trainer(0);
  const losses: number[] = [];
  // The warm-up is a stretch like the one measured: the structures in which Node keeps pending
  // finalizers grow to hold a stretch's worth of them (~0.4 MB here), and keep that capacity.
  for (let it = 1; it <= N; it++) losses.push(tr.step());
  await settle();
  const heapWarm = heap();
  const rssWarm = process.memoryUsage().rss;
  const counts: number[] = [];
  for (let it = 1; it <= N; it++) { // no await in here
    losses.push(tr.step());
    counts.push(liveTensorCount());
  }
  const heapEnd = heap();
  const rssEnd = process.memoryUsage().rss;
  await settle();
  const heapSettled = heap();
  t.diagnostic(`heap in use ${(heapWarm / MB).toFixed(1)} MB after ${N} iterations; after ${N} more ` +
    `${kb(heapEnd - heapWarm)} more, ${kb(heapSettled - heapWarm)} once collected; RSS +${kb(rssEnd - rssWarm)}`);

  assert.ok(losses.at(-1)! < losses[0]!, `training makes progress (loss ${losses[0]} → ${losses.at(-1)})`);
  // the count never moves: 4 parameters + 8 Adam moments + x + target
  for (let i = 0; i < N; i++) assert.equal(counts[i]! - before, 4 + 8 + 2, `live tensors at iteration ${N + i + 1}`);
  // While the loop runs it holds what Node defers: N-API finalizers (which free the C++ side of
  // garbage-collected handles) run from the event loop's immediate queue, so a loop that never
  // yields keeps a few hundred bytes per handle it made (~4 KB per iteration here, whatever S is)
  // until it does. Bound: half an output per iteration; holding any tensor it made would pass it.
  assert.ok(heapEnd - heapWarm <= (N * OUTPUT_BYTES) / 2, `held ${kb(heapEnd - heapWarm)} while running, more than half an output per iteration`);
  // Once collected, nothing is left. Bound: 1/16 of an output per iteration (1.5 KB; 0.9 MB in
  // all), for the C library's per-thread caches (glibc counts the chunks in its tcache as in use)
  // and small caches of Node and libtorch: measured within ±0.3 MB.
  assert.ok(heapSettled - heapWarm <= (N * OUTPUT_BYTES) / 16, `${kb(heapSettled - heapWarm)} left after ${N} iterations`);

  await assertHeapShowsLeak(tr);
  tr.dispose();
  assert.equal(liveTensorCount(), before, 'disposing the net, optimizer and data frees everything');
});

// A loop that yields, as the trainer does while awaiting batches, lets those finalizers run as
// it goes (after each of V8's collections), and must leave its heap as it found it.
test('the same loop yielding to the event loop leaves its heap as it found it', async (t) => {
  const before = liveTensorCount();
  const tr = trainer(1);
  let heapMax = 0;
  const run = async () => {
    for (let it = 1; it <= N; it++) {
      tr.step();
      if (it % 20 === 0) {
        await new Promise((r) => setImmediate(r));
        heapMax = Math.max(heapMax, heap());
      }
    }
  };
  await run(); // the warm-up, as in the test above
  await settle();
  const heapWarm = heap();
  const rssWarm = process.memoryUsage().rss;
  const countWarm = liveTensorCount();
  heapMax = heapWarm;
  await run();
  await settle();
  const heapEnd = heap();
  t.diagnostic(`heap in use ${(heapWarm / MB).toFixed(1)} MB after ${N} iterations; after ${N} more ` +
    `${kb(heapEnd - heapWarm)} more (at most ${kb(heapMax - heapWarm)} more on the way); RSS +${kb(process.memoryUsage().rss - rssWarm)}`);
  assert.equal(liveTensorCount(), countWarm);
  // Bound: as above, 1/16 of an output per iteration. (On the way the heap also holds the handles
  // made since V8's last collection; how many depends on how V8 sizes its heap, so that is only
  // reported.)
  assert.ok(heapEnd - heapWarm <= (N * OUTPUT_BYTES) / 16, `${kb(heapEnd - heapWarm)} left after ${N} iterations`);

  await assertHeapShowsLeak(tr);
  tr.dispose();
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

test('under no_grad a Sequential frees each activation once the next layer has used it: at its last layer two are alive, not all', () => {
  // 12 shape-preserving layers on a 4 MB activation; a probe as the 13th layer measures the heap.
  const C = 16;
  const H = 128;
  const ACTIVATION = C * H * H * 4 * 2; // [2, 16, 128, 128] float32: 4 MB
  let atProbe = 0;
  class Probe extends nn.Layer {
    forward(x: Tensor): Tensor {
      atProbe = heap();
      return x;
    }
  }
  manualSeed(3);
  const layers: nn.Layer[] = [];
  for (let i = 0; i < 6; i++) layers.push(new nn.Conv2d(C, C, 3, { padding: 1 }), new nn.ReLU());
  const net = new nn.Sequential(...layers, new Probe());
  const x = randn([2, C, H, H]);
  try {
    noGrad(() => dispose(net.forward(x))); // warm-up: libtorch's one-time allocations
    const before = heap();
    noGrad(() => dispose(net.forward(x)));
    const alive = (atProbe - before) / ACTIVATION;
    // The probe's input, plus at most one in flight and the allocator's slack; 12 if none were freed.
    assert.ok(alive < 2.5, `${alive.toFixed(2)} activations alive at the last layer (${kb(atProbe - before)})`);
    assert.ok(alive > 0.5, `the probe sees its own input: ${alive.toFixed(2)} activations`);
  } finally {
    x.dispose();
    net.dispose();
  }
});
