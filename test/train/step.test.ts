// The training step's other paths: the encoder trained with G, the VGG loss, a fake pool, no
// feature matching, the returned image, and the configuration errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Adam, cat, GradScaler, liveTensorCount, noGrad, tensor, tidy, type Tensor, type nn } from '../../src/torch/index.js';
import { Encoder, GlobalGenerator, initWeights, MultiscaleDiscriminator, Vgg19Features } from '../../src/models/index.js';
import { GANLoss, VGGLoss } from '../../src/losses/index.js';
import { TrainStep } from '../../src/train/step.js';
import { relL2, uniform } from '../models/helpers.js';

/** A step's input without features: G takes the condition as it is. */
function stepInput(condition: Tensor, realImage: Tensor) {
  return { condition, input: condition, realImage };
}

function snapshot(net: nn.Module): Map<string, Tensor> {
  return noGrad(() => new Map([...net.stateDict()].map(([k, t]) => [k, t.clone()])));
}

test('with the encoder, the VGG loss and a fake pool: E trains with G, D sees the pool, G_VGG is reported', () => {
  const G = initWeights(new GlobalGenerator({ input_nc: 4 + 3, output_nc: 3, ngf: 4, n_downsample_global: 1, n_blocks_global: 1 }), { seed: 1 });
  const E = initWeights(new Encoder({ input_nc: 3, output_nc: 3, nef: 4, n_downsample_E: 1 }), { seed: 2 });
  const D = initWeights(new MultiscaleDiscriminator({ input_nc: 4 + 3, ndf: 4, n_layers_D: 1, num_D: 2 }), { seed: 3 });
  const vgg = new Vgg19Features().requiresGrad_(false);
  const optimizerG = new Adam([...G.parameters(), ...E.parameters()], { lr: 1e-3, betas: [0.5, 0.999] });
  const optimizerD = new Adam(D.parameters(), { lr: 1e-3, betas: [0.5, 0.999] });
  const queried: number[][] = [];
  const fakePool = { query: (t: Tensor) => { queried.push(t.shape); return t; } };
  const vggLoss = new VGGLoss(vgg, { lambda_feat: 10 });
  try {
    const step = new TrainStep({ G, D, vggLoss, optimizerG, optimizerD, fakePool }, { num_D: 2, n_layers_D: 1 });
    const inputLabel = uniform([1, 4, 16, 16], 1, 0, 1);
    const realImage = uniform([1, 3, 16, 16], 2);
    const inst = tensor(Array.from({ length: 256 }, (_, i) => (i % 16 < 8 ? 1 : 2)), [1, 1, 16, 16], { dtype: 'int64' });
    // E runs inside G's input, as the trainer builds it (run/generator-input.ts).
    const batch = () => ({ condition: inputLabel, input: cat([inputLabel, E.forward(realImage, inst)], 1), realImage });

    // Expected losses, computed from the parts before the step.
    const expected = noGrad(() => tidy(() => {
      const fake = G.forward(cat([inputLabel, E.forward(realImage, inst)], 1));
      const gan = new GANLoss();
      return {
        G_VGG: vggLoss.forward(fake, realImage).item(),
        D_real: gan.forward(D.forward(cat([inputLabel, realImage], 1)), true).item(),
        D_fake: gan.forward(D.forward(cat([inputLabel, fake], 1)), false).item(),
      };
    }));
    const before = { G: snapshot(G), E: snapshot(E), D: snapshot(D) };

    const { losses, fake } = step.step(batch, { keepFake: true });
    assert.deepEqual(Object.keys(losses).sort(), ['D_fake', 'D_real', 'G_GAN', 'G_GAN_Feat', 'G_VGG']);
    for (const k of ['G_VGG', 'D_real', 'D_fake'] as const) {
      assert.ok(Math.abs(losses[k]! - expected[k]) <= 1e-5 * Math.abs(expected[k]), `${k}: ${losses[k]} vs ${expected[k]}`);
    }
    assert.deepEqual(queried, [[1, 7, 16, 16]], 'the pool is asked once, with label ++ fake');
    assert.ok(fake);
    assert.deepEqual(fake.shape, [1, 3, 16, 16]);
    assert.equal(fake.requiresGrad, false);
    fake.dispose();
    for (const [name, net] of [['G', G], ['E', E], ['D', D]] as const) {
      const weights = [...net.stateDict()].filter(([k]) => k.endsWith('weight'));
      for (const [k, t] of weights) assert.ok(relL2(t, before[name].get(k)!) > 0, `${name} ${k} updated`);
      for (const t of before[name].values()) t.dispose();
    }

    step.step(batch);
    const live = liveTensorCount();
    step.step(batch);
    assert.equal(liveTensorCount(), live, 'memory stays flat');
    for (const t of [inputLabel, realImage, inst]) t.dispose();
  } finally {
    optimizerG.dispose();
    optimizerD.dispose();
    for (const m of [G, E, D, vgg]) m.dispose();
  }
});

test('without feature matching, D needs no intermediate features and G_GAN_Feat is absent', () => {
  const G = new GlobalGenerator({ input_nc: 4, output_nc: 3, ngf: 4, n_downsample_global: 1, n_blocks_global: 1 });
  const D = new MultiscaleDiscriminator({ input_nc: 7, ndf: 4, n_layers_D: 1, num_D: 2, getIntermFeat: false });
  const optimizerG = new Adam(G.parameters());
  const optimizerD = new Adam(D.parameters());
  try {
    const opts = { num_D: 2, n_layers_D: 1, no_vgg_loss: true };
    assert.throws(() => new TrainStep({ G, D, optimizerG, optimizerD }, opts), /getIntermFeat/);
    assert.throws(() => new TrainStep({ G, D, optimizerG, optimizerD }, { ...opts, no_vgg_loss: false, no_ganFeat_loss: true }), /VGG19|no_vgg_loss/);
    const step = new TrainStep({ G, D, optimizerG, optimizerD }, { ...opts, no_ganFeat_loss: true });
    tidy(() => {
      const { losses } = step.step(stepInput(uniform([1, 4, 16, 16], 3, 0, 1), uniform([1, 3, 16, 16], 4)));
      assert.deepEqual(Object.keys(losses).sort(), ['D_fake', 'D_real', 'G_GAN']);
      assert.ok(Object.values(losses).every((v) => Number.isFinite(v) && v > 0));
    });
  } finally {
    optimizerG.dispose();
    optimizerD.dispose();
    G.dispose();
    D.dispose();
  }
});

test('mixed precision: the forward runs under autocast, each network steps from unscaled gradients, an overflow skips both steps', () => {
  // The CPU's bfloat16 autocast stands in for CUDA's float16; the vanilla GAN loss checks that
  // binary cross-entropy runs outside the autocast region.
  for (const no_lsgan of [false, true]) {
    const G = initWeights(new GlobalGenerator({ input_nc: 4, output_nc: 3, ngf: 4, n_downsample_global: 1, n_blocks_global: 1 }), { seed: 1 });
    const D = initWeights(new MultiscaleDiscriminator({ input_nc: 7, ndf: 4, n_layers_D: 1, num_D: 2, use_sigmoid: no_lsgan }), { seed: 3 });
    const optimizerG = new Adam(G.parameters(), { lr: 1e-3, betas: [0.5, 0.999] });
    const optimizerD = new Adam(D.parameters(), { lr: 1e-3, betas: [0.5, 0.999] });
    const scaler = new GradScaler({ initScale: 256 });
    try {
      const step = new TrainStep({ G, D, optimizerG, optimizerD, amp: { deviceType: 'cpu', scaler } }, { num_D: 2, n_layers_D: 1, no_vgg_loss: true, no_lsgan });
      const batch = stepInput(uniform([1, 4, 16, 16], 5, 0, 1), uniform([1, 3, 16, 16], 6));
      const { fake } = step.step(batch, { keepFake: true });
      assert.equal(fake!.dtype, 'bfloat16', 'G ran under autocast');
      fake!.dispose();
      assert.ok(G.parameters().every((p) => p.grad !== null), 'G keeps its gradients under --fp16 (a step may be skipped)');
      assert.equal(scaler.scale, 256, 'no overflow at a small scale');
      const gradScale = tidy(() => G.parameters()[0]!.grad!.abs().max().item());
      assert.ok(gradScale > 0 && gradScale < 100, `gradients are unscaled (largest ${gradScale})`);

      // At 2^127 some gradients overflow float32: a network with any infinite or NaN gradient
      // must not move, one without must.
      const nets = { G, D };
      const before = Object.fromEntries(Object.entries(nets).map(([k, n]) => [k, n.parameters().map((p) => p.toNumbers())]));
      scaler.scale = 2 ** 127;
      step.step(batch);
      let overflowed = 0;
      for (const [k, n] of Object.entries(nets)) {
        const finite = n.parameters().every((p) => p.grad!.toNumbers().every(Number.isFinite));
        const moved = n.parameters().some((p, i) => p.toNumbers().some((v, j) => v !== before[k]![i]![j]));
        assert.equal(moved, finite, `${k}: ${finite ? 'finite gradients, so it steps' : 'an overflow, so no step'}`);
        if (!finite) overflowed++;
      }
      assert.ok(overflowed > 0, 'the huge scale overflowed at least one network');
      assert.equal(scaler.scale, 2 ** 126, 'and the scale halved');
    } finally {
      optimizerG.dispose();
      optimizerD.dispose();
      G.dispose();
      D.dispose();
    }
  }
});
