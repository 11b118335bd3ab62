// The training step against the official one: three iterations from local_G.pth and D.pth on the
// fixture batch (LSGAN + feature matching, lambda_feat 10, no VGG, no pool, Adam 2e-4 / 0.5,
// 0.999) reproduce the official losses and end near the official weights.
//
// Tolerances on the weights: per-tensor 1e-3 relative L2, and 5e-2 for the biases of
// convolutions followed by instance norm. Those biases have an exactly zero gradient (the norm
// subtracts them again), so their Adam updates are driven by rounding noise; and Adam's first
// steps (≈ lr·sign(g)) magnify last-bit differences in every gradient. The official code itself,
// run with PyTorch 1.13 on this machine, ends 4.8e-4 (weights) and 1.8e-2 (those biases) from the
// fixture, while its losses agree with it to 5e-5; our step agrees with that run to < 1e-4 on
// every weight.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Adam, backward, dispose, liveTensorCount, nn, tidy } from '../../src/torch/index.js';
import { LocalEnhancer, MultiscaleDiscriminator } from '../../src/models/index.js';
import { TrainStep, type StepLosses } from '../../src/train/step.js';
import { fixture, get, manifest, relL2, withFixture } from '../models/helpers.js';

/** Keys of conv biases that feed an instance norm directly (found from the module tree). */
function preNormBiases(m: nn.Module, prefix = ''): string[] {
  const out: string[] = [];
  const kids = m.namedChildren();
  kids.forEach(([name, child], i) => {
    const next = kids[i + 1]?.[1];
    if ((child instanceof nn.Conv2d || child instanceof nn.ConvTranspose2d) && next instanceof nn.InstanceNorm2d) out.push(`${prefix}${name}.bias`);
    out.push(...preNormBiases(child, `${prefix}${name}.`));
  });
  return out;
}

const inputs = fixture('inputs.pth');
after(() => dispose(inputs));

test('three training iterations reproduce the official loss trajectory and weights', () => {
  const traj = manifest.train_trajectory;
  const G = new LocalEnhancer({ input_nc: 8, output_nc: 3, ngf: 8, n_downsample_global: 2, n_blocks_global: 2, n_local_enhancers: 1, n_blocks_local: 1 });
  const D = new MultiscaleDiscriminator({ input_nc: 11, ndf: 8, n_layers_D: 2, num_D: 2 });
  withFixture('local_G.pth', (sd) => G.loadStateDict(sd));
  withFixture('D.pth', (sd) => D.loadStateDict(sd));
  const optimizerG = new Adam(G.parameters(), { lr: traj.lr, betas: traj.betas });
  const optimizerD = new Adam(D.parameters(), { lr: traj.lr, betas: traj.betas });
  try {
    const step = new TrainStep({ G, D, optimizerG, optimizerD }, { num_D: 2, n_layers_D: 2, lambda_feat: traj.lambda_feat, no_vgg_loss: true });
    const batch = { condition: get(inputs, 'input_concat'), input: get(inputs, 'input_concat'), realImage: get(inputs, 'real_image') };
    const live: number[] = [];
    traj.losses.forEach((expected, it) => {
      const { losses, fake } = step.step(batch);
      live.push(liveTensorCount());
      assert.equal(fake, null);
      assert.deepEqual(Object.keys(losses).sort(), ['D_fake', 'D_real', 'G_GAN', 'G_GAN_Feat']);
      for (const name of ['G_GAN', 'G_GAN_Feat', 'D_real', 'D_fake'] as const) {
        const got = (losses as StepLosses)[name]!;
        const err = Math.abs(got - expected[name]) / Math.abs(expected[name]);
        assert.ok(err < 1e-4, `iteration ${it + 1} ${name}: ${got} vs ${expected[name]} (relative error ${err})`);
      }
    });
    assert.equal(live[2], live[1], 'no tensors accumulate from one iteration to the next');

    for (const [net, file] of [[G, 'train_G_after3.pth'], [D, 'train_D_after3.pth']] as const) {
      const noisy = new Set(preNormBiases(net));
      withFixture(file, (ref) => {
        assert.deepEqual([...ref.keys()].sort(), [...net.stateDict().keys()].sort());
        for (const [k, t] of net.stateDict()) {
          const err = relL2(t, get(ref, k));
          const tol = noisy.has(k) ? 5e-2 : 1e-3;
          assert.ok(err < tol, `${file} ${k}: relative L2 error ${err} (tolerance ${tol})`);
        }
      });
      // The looser tolerance only covers biases whose gradient is zero up to rounding (measured
      // on a fresh forward pass: G's step keeps no gradients).
      for (const k of noisy) tidy(() => {
        const bias = net.stateDict().get(k)!;
        const weight = net.stateDict().get(k.replace(/bias$/, 'weight'))!;
        bias.grad = null;
        weight.grad = null;
        const r = step.losses(batch);
        backward([net === G ? step.generatorLoss(r) : step.discriminatorLoss(r)], null, { inputs: [bias, weight] });
        const ratio = bias.grad!.abs().max().item() / weight.grad!.abs().max().item();
        bias.grad = null;
        weight.grad = null;
        assert.ok(ratio < 1e-4, `${k}: gradient ${ratio} of its weight's, expected ~0`);
      });
      if (net === G) assert.ok(noisy.size >= 10, 'G has pre-norm biases in every block');
    }
  } finally {
    optimizerG.dispose();
    optimizerD.dispose();
    G.dispose();
    D.dispose();
  }
});
