// Mixed precision: autocast regions reach ATen's Autocast dispatch keys through the binding (the
// CPU's bfloat16 autocast stands in for CUDA's float16 here), and the loss scaler's arithmetic:
// unscaling, skipping on overflow, backing off and growing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { autocast, GradScaler, nn, randn, tensor, tidy } from '../../src/torch/index.js';

test('autocast casts a convolution to the lower precision inside the region only, nests, and survives a throw', () => tidy(() => {
  const x = randn([1, 3, 8, 8]);
  const conv = new nn.Conv2d(3, 4, 3, { padding: 1 });
  assert.equal(conv.forward(x).dtype, 'float32');
  assert.equal(autocast('cpu', () => conv.forward(x).dtype), 'bfloat16');
  assert.equal(autocast('cpu', () => autocast('cpu', () => conv.forward(x).dtype, { enabled: false })), 'float32', 'an inner region switched off');
  assert.equal(autocast('cpu', () => { autocast('cpu', () => 0, { enabled: false }); return conv.forward(x).dtype; }), 'bfloat16', 'the outer region is back after the inner one');
  assert.throws(() => autocast('cpu', () => { throw new Error('inside'); }), /inside/);
  assert.equal(conv.forward(x).dtype, 'float32', 'off again after a throw');
  // Ops outside autocast's lists keep their inputs' type.
  assert.equal(autocast('cpu', () => x.add(1).dtype), 'float32');
}));

test('GradScaler: the unscaled gradient is the true one; an overflow skips and halves; clean steps grow the scale', () => tidy(() => {
  const c = [0.5, -3, 2];
  const p = tensor([1, 2, 3], [3]).requiresGrad_(true);
  const scaler = new GradScaler({ initScale: 1024, growthInterval: 2 });
  const backwardScaled = () => tidy(() => { p.grad = null; scaler.scaleLoss(p.mul(tensor(c, [3])).sum()).backward(); });

  backwardScaled();
  assert.deepEqual(p.grad!.toNumbers(), c.map((v) => v * 1024), 'the backward saw the scaled loss');
  assert.equal(scaler.unscale([p]), true);
  assert.deepEqual(p.grad!.toNumbers(), c, 'divided back exactly (a power of two)');
  scaler.update();
  assert.equal(scaler.scale, 1024, 'one clean step: not yet grown');
  backwardScaled();
  assert.equal(scaler.unscale([p]), true);
  scaler.update();
  assert.equal(scaler.scale, 2048, 'grown after growthInterval clean steps');

  scaler.scale = 2 ** 127; // 3 × 2^127 overflows float32
  backwardScaled();
  assert.equal(scaler.unscale([p]), false, 'an infinite gradient is an overflow');
  scaler.update();
  assert.equal(scaler.scale, 2 ** 126, 'halved');
  backwardScaled();
  assert.equal(scaler.unscale([p]), true, 'and the next step is clean again');
  scaler.update();
  assert.equal(scaler.scale, 2 ** 126, 'the growth count started over after the overflow');
  assert.equal(scaler.unscale([tensor([1]).requiresGrad_(true)]), true, 'parameters without gradients count as finite');
}));
