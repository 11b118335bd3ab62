// The bucketed gradient all-reduce that runs inside the backward pass (native/src/dist.cpp's
// BucketReducer) in a world of one Gloo rank, where the average is the gradient itself: every
// parameter's .grad equals plain backward's, across several buckets, with a parameter the loss
// does not use counted as zero (as DDP's unused parameters). Two-rank averaging is in
// data-parallel.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GradientBuckets } from '../../src/dist/grad-buckets.js';
import { freePort } from '../../src/dist/launcher.js';
import { distributedAvailable, noGrad, ProcessGroup, tensor, tidy, zeros, type Tensor } from '../../src/torch/index.js';

const skip = distributedAvailable().gloo ? false : 'this build of the binding has no c10d Gloo';

test('one rank: bucketed gradients from inside the backward equal plain backward, an unused parameter gets zeros, each call starts afresh', { skip }, async () => {
  const group = ProcessGroup.init({ backend: 'gloo', rank: 0, worldSize: 1, timeoutSeconds: 30, store: { kind: 'tcp', host: '127.0.0.1', port: await freePort() } });
  try {
    tidy(() => {
      const sizes = [7, 130, 64, 5];
      const ps = sizes.map((n, k) => tensor(Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + k)), [n]).requiresGrad_(true));
      // Parameter 3 is not used by the loss.
      const loss = (scale: number) => ps.slice(0, 3).reduce<Tensor>((acc, p, k) => acc.add(p.tanh().square().mul(scale * (k + 1)).sum()), zeros([]));
      // About 70 floats per bucket: several buckets, one of them shared by two parameters.
      const buckets = new GradientBuckets(group, ps, 70 * 4);
      assert.ok(buckets.buckets.length >= 3, `${buckets.buckets.length} buckets`);
      for (const scale of [1, 3]) {
        // After the first call the gradients are views of the buckets: stale values there must
        // not leak into the next call's unused slot.
        if (scale === 3) noGrad(() => ps[3]!.grad!.fill_(9));
        for (const p of ps) p.grad = null;
        loss(scale).backward();
        const expected = ps.slice(0, 3).map((p) => p.grad!.toNumbers());
        buckets.backward(loss(scale));
        ps.slice(0, 3).forEach((p, k) => assert.deepEqual(p.grad!.toNumbers(), expected[k], `scale ${scale}: parameter ${k}`));
        assert.deepEqual(ps[3]!.grad!.toNumbers(), new Array(5).fill(0), 'the unused parameter averages zeros');
      }
      buckets.dispose();
    });
  } finally {
    group.shutdown();
  }
});
