// The learning-rate schedule against tables worked out by hand from the official rule: train.py
// keeps lr for the epochs 1…niter, and at the end of every epoch e > niter
// update_learning_rate() subtracts lr / niter_decay once, so the lr in effect during epoch e is
// lr − (lr / niter_decay) · max(0, e − 1 − niter).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { learningRateAt, totalEpochs } from '../../src/train/schedule.js';

function assertTable(opts: { lr: number; niter: number; niter_decay: number }, table: Record<number, number>): void {
  for (const [epoch, expected] of Object.entries(table)) {
    const got = learningRateAt(Number(epoch), opts);
    assert.ok(Math.abs(got - expected) <= 1e-12 * Math.max(1, Math.abs(expected)), `epoch ${epoch}: lr ${got}, expected ${expected}`);
  }
}

test('niter 2, niter_decay 4, lr 0.0002: held through epoch 3, then 0.00005 less per epoch', () => {
  const opts = { lr: 0.0002, niter: 2, niter_decay: 4 };
  // Epochs 1, 2: lr. End of epoch 2: 2 > 2 is false, no decay. End of 3: 0.00015. End of 4: 0.0001. End of 5: 0.00005.
  assertTable(opts, { 1: 0.0002, 2: 0.0002, 3: 0.0002, 4: 0.00015, 5: 0.0001, 6: 0.00005 });
  assert.equal(totalEpochs(opts), 6);
});

test('niter 0, niter_decay 3, lr 0.3: the decay starts after the first epoch', () => {
  // End of epoch 1 (1 > 0): 0.3 − 0.1 = 0.2; end of 2: 0.1.
  assertTable({ lr: 0.3, niter: 0, niter_decay: 3 }, { 1: 0.3, 2: 0.2, 3: 0.1 });
  assert.equal(totalEpochs({ niter: 0, niter_decay: 3 }), 3);
});

test('niter_decay 0: the lr never changes', () => {
  assertTable({ lr: 0.001, niter: 3, niter_decay: 0 }, { 1: 0.001, 2: 0.001, 3: 0.001 });
  assert.equal(totalEpochs({ niter: 3, niter_decay: 0 }), 3);
});

test('the official defaults (niter 100, niter_decay 100): epochs 1, 100, 101, 102, 150, 200', () => {
  // lrd = 0.0002 / 100 = 2e-6; during epoch e > 101 the lr is 0.0002 − 2e-6 · (e − 101).
  assertTable({ lr: 0.0002, niter: 100, niter_decay: 100 }, { 1: 0.0002, 100: 0.0002, 101: 0.0002, 102: 0.000198, 150: 0.000102, 200: 0.000002 });
});
