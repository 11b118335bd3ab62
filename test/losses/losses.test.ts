// Loss values against plain-JS computations of the official formulas.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { featureMatchingLoss, GANLoss } from '../../src/losses/index.js';
import { rng } from '../models/helpers.js';

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function randomTensor(shape: number[], seed: number, lo = -2, hi = 2): { t: Tensor; v: number[] } {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => Math.fround(lo + (hi - lo) * r()));
  return { t: tensor(v, shape), v };
}

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('LSGAN loss: sum over scales of the mean squared distance of the last output to 1 (real) or 0 (fake)', () => {
  tidy(() => {
    const feat0 = randomTensor([1, 2, 4, 4], 1);
    const score0 = randomTensor([1, 1, 5, 5], 2);
    const feat1 = randomTensor([1, 2, 2, 2], 3);
    const score1 = randomTensor([1, 1, 3, 3], 4);
    const outputs = [[feat0.t, score0.t], [feat1.t, score1.t]];
    const loss = new GANLoss();
    close(loss.forward(outputs, true).item(), mean(score0.v.map((x) => (x - 1) ** 2)) + mean(score1.v.map((x) => (x - 1) ** 2)), 'real');
    close(loss.forward(outputs, false).item(), mean(score0.v.map((x) => x ** 2)) + mean(score1.v.map((x) => x ** 2)), 'fake');
    close(loss.forward([feat0.t, score0.t], true).item(), mean(score0.v.map((x) => (x - 1) ** 2)), 'one discriminator');
  });
});

test('vanilla GAN loss: binary cross-entropy of the sigmoid outputs against 1 or 0', () => {
  tidy(() => {
    const p0 = randomTensor([1, 1, 4, 4], 5, 0.01, 0.99);
    const p1 = randomTensor([1, 1, 2, 3], 6, 0.01, 0.99);
    const loss = new GANLoss({ use_lsgan: false });
    const outputs = [[p0.t], [p1.t]];
    close(loss.forward(outputs, true).item(), mean(p0.v.map((p) => -Math.log(p))) + mean(p1.v.map((p) => -Math.log(p))), 'real');
    close(loss.forward(outputs, false).item(), mean(p0.v.map((p) => -Math.log(1 - p))) + mean(p1.v.map((p) => -Math.log(1 - p))), 'fake');
  });
});

test('feature matching: L1 over every layer but the last, × 4/(n_layers_D+1) × 1/num_D × lambda_feat, real side detached', () => {
  tidy(() => {
    const nLayers = 2;
    const numD = 2;
    const shapes = [[1, 2, 6, 6], [1, 3, 4, 4], [1, 3, 3, 3], [1, 1, 2, 2]];
    const fake = [0, 1].map((i) => shapes.map((s, j) => randomTensor(s, 100 + 10 * i + j)));
    const real = [0, 1].map((i) => shapes.map((s, j) => randomTensor(s, 200 + 10 * i + j)));
    for (const scale of real) for (const r of scale) r.t.requiresGrad_(true);
    for (const scale of fake) for (const f of scale) f.t.requiresGrad_(true);
    let expected = 0;
    for (let i = 0; i < numD; i++) {
      for (let j = 0; j < shapes.length - 1; j++) {
        const l1 = mean(fake[i]![j]!.v.map((x, k) => Math.abs(x - real[i]![j]!.v[k]!)));
        expected += (1 / numD) * (4 / (nLayers + 1)) * l1 * 7.5;
      }
    }
    const loss = featureMatchingLoss(fake.map((s) => s.map((x) => x.t)), real.map((s) => s.map((x) => x.t)), { num_D: numD, n_layers_D: nLayers, lambda_feat: 7.5 });
    close(loss.item(), expected, 'loss');
    loss.backward();
    assert.equal(real[0]![0]!.t.grad, null, 'no gradient reaches the real features');
    assert.notEqual(fake[0]![0]!.t.grad, null, 'the fake features get a gradient');
    assert.equal(fake[0]![3]!.t.grad, null, 'the score map is not matched');
  });
});
