// Options off by default that later work trains with: the hinge GAN loss (SPADE's) checked against
// PyTorch's own arithmetic, and D's separate learning rate (TTUR) through the run configuration.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GANLoss } from '../../src/losses/gan-loss.js';
import { defaultsFor } from '../../src/options/definitions.js';
import { runConfig } from '../../src/run/config.js';
import { learningRateAt } from '../../src/train/schedule.js';
import { tensor } from '../../src/torch/index.js';
import { python, pythonTorchMissing, rng } from '../models/helpers.js';

// SPADE's GANLoss(gan_mode='hinge') per scale, summed over scales as pix2pixHD sums its losses.
const PY_HINGE = String.raw`
import json, sys, torch
scales = [torch.tensor(s['values'], dtype=torch.float32).reshape(s['shape']) for s in json.loads(sys.argv[1])]
zero = lambda x: torch.zeros_like(x)
d_real = sum(-torch.mean(torch.min(x - 1, zero(x))) for x in scales)
d_fake = sum(-torch.mean(torch.min(-x - 1, zero(x))) for x in scales)
g = sum(-torch.mean(x) for x in scales)
print(json.dumps([float(d_real), float(d_fake), float(g)]))
`;

test('hinge loss: D real, D fake and G terms equal PyTorch\'s (SPADE\'s formulas) within 1e-5 over two scales', { skip: pythonTorchMissing() }, () => {
  const r = rng(7);
  const shapes = [[2, 1, 5, 6], [2, 1, 3, 3]];
  const scales = shapes.map((shape) => ({ shape, values: Array.from({ length: shape.reduce((a, b) => a * b) }, () => 3 * (r() - 0.5)) }));
  const [dReal, dFake, g] = python(PY_HINGE, [JSON.stringify(scales)]) as [number, number, number];
  // Each scale as a discriminator's list whose last entry is the score map (intermediate features before it).
  const outputs = scales.map((s) => [tensor([0]), tensor(s.values, s.shape)]);
  const loss = new GANLoss({ hinge: true });
  const ours = [loss.forward(outputs, true).item(), loss.forward(outputs, false).item(), loss.forward(outputs, true, false).item()];
  [dReal, dFake, g].forEach((expected, i) => assert.ok(Math.abs(ours[i]! - expected) <= 1e-5, `term ${i}: ours ${ours[i]}, PyTorch ${expected}`));
  // Not the LSGAN numbers: the option changes the loss.
  assert.notEqual(new GANLoss().forward(outputs, true).item(), ours[0]);
});

test('TTUR: --lr_D gives D its own initial rate on the same linear decay; without it D follows --lr', () => {
  const base = { ...defaultsFor(['base', 'train']), name: 'x', niter: 2, niter_decay: 4, lr: 0.0001 };
  assert.equal(runConfig(base).train.lr_D, 0.0001);
  assert.equal(runConfig(base).train.gan_mode, 'official');
  const t = runConfig({ ...base, lr_D: 0.0004, gan_mode: 'hinge' }).train;
  assert.equal(t.gan_mode, 'hinge');
  // epochs 1–3 at the initial rate, then down by a quarter of it per epoch (the official schedule)
  const dRates = [1, 2, 3, 4, 5, 6].map((e) => learningRateAt(e, { ...t, lr: t.lr_D }));
  const gRates = [1, 2, 3, 4, 5, 6].map((e) => learningRateAt(e, t));
  const expectedD = [0.0004, 0.0004, 0.0004, 0.0003, 0.0002, 0.0001];
  dRates.forEach((v, i) => assert.ok(Math.abs(v - expectedD[i]!) < 1e-12, `D epoch ${i + 1}: ${v}`));
  gRates.forEach((v, i) => assert.ok(Math.abs(v - expectedD[i]! / 4) < 1e-12, `G epoch ${i + 1}: ${v}`));
});
