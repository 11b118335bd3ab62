// Activation checkpointing (src/torch/checkpoint.ts): a recorded forward with checkpointed
// segments back-propagates to the same gradients, bit for bit, as the plain forward, whether the
// gradients are left in .grad or handed to onGrad; what it cannot do is a clear error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backward, checkpoint, dispose, F, isRecomputing, keep, noGrad, Recomputation, tidy, type Tensor } from '../../src/torch/index.js';
import { uniform } from '../models/helpers.js';

/** A conv chain: W0, then two checkpointed segments (conv W1 + ReLU with a skip inside; conv W2), then a sum of squares. */
function loss(x: Tensor, [w0, w1, w2]: Tensor[]): Tensor {
  const h = F.conv2d(x, w0!, null, { padding: 1 });
  const a = checkpoint((t) => t.add(F.conv2d(t, w1!, null, { padding: 1 }).relu()), h, [w1!]);
  const b = checkpoint((t) => F.conv2d(t, w2!, null, { padding: 1 }), a, [w2!]);
  return b.mul(b).sum();
}

function weights(): Tensor[] {
  return [uniform([3, 2, 3, 3], 1), uniform([3, 3, 3, 3], 2), uniform([2, 3, 3, 3], 3)].map((w) => w.mul(0.3).requiresGrad_(true));
}

test('a recorded forward back-propagates the plain gradients bit for bit, into .grad and through onGrad', () => tidy(() => {
  const x = uniform([1, 2, 6, 6], 4);
  const plain = weights();
  backward([loss(x, plain)], null, { inputs: plain });
  for (const useOnGrad of [false, true]) {
    const ws = weights();
    const rec = new Recomputation();
    let recording = false;
    const l = rec.record(x, (input) => { recording = isRecomputing(); return loss(input, ws); });
    assert.ok(recording);
    assert.equal(rec.size, 2, 'two segments recorded');
    const got = new Map<number, Tensor>();
    rec.backward([l], null, { inputs: ws, ...(useOnGrad ? { onGrad: (i: number, g: Tensor) => { got.set(i, keep(noGrad(() => g.clone()))); } } : {}) });
    assert.equal(rec.size, 0, 'the recording is spent');
    ws.forEach((w, i) => {
      const g = useOnGrad ? got.get(i)! : w.grad!;
      assert.ok(g, `weight ${i} has a gradient`);
      assert.equal(g.sub(plain[i]!.grad!).abs().max().item(), 0, `weight ${i} (${useOnGrad ? 'onGrad' : '.grad'})`);
      if (useOnGrad) assert.equal(w.grad, null, 'onGrad leaves no .grad');
    });
  }
  assert.equal(isRecomputing(), false);
}));

test('outside a recording checkpoint() is a plain call; a parameter shared with the rest, or a connection around a segment, is refused', () => tidy(() => {
  const x = uniform([1, 3, 4, 4], 5);
  const w = uniform([3, 3, 3, 3], 6).requiresGrad_(true);
  const conv = (t: Tensor) => F.conv2d(t, w, null, { padding: 1 });
  assert.ok(checkpoint(conv, x, [w]).requiresGrad, 'the plain call records its graph');

  // w used inside the segment and again after it, with the optimizer's onGrad.
  const shared = new Recomputation();
  const l1 = shared.record(x, (input) => conv(checkpoint(conv, conv(input), [w])).sum());
  assert.throws(() => shared.backward([l1], null, { inputs: [w], onGrad: () => undefined }), /belongs to a checkpointed segment but received a gradient outside it/);
  shared.clear();

  // h made before the segment and added to its output after it.
  const v = uniform([3, 3, 3, 3], 7).requiresGrad_(true);
  const around = new Recomputation();
  const l2 = around.record(x, (input) => {
    const h = F.conv2d(input, v, null, { padding: 1 });
    return checkpoint(conv, h, [w]).add(h).sum();
  });
  assert.throws(() => around.backward([l2], null, { inputs: [v, w] }), /a connection around the segment/);
  around.clear();
  dispose([x, w, v]);
}));
