// Every training loss's gradient, as back-propagation computes it, against central finite
// differences of the loss itself, on tiny float64 networks: G's losses with respect to G's
// parameters, D's with respect to D's (each along a random direction in parameter space).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cat, noGrad, randn, tidy, type nn, type Tensor, manualSeed } from '../../src/torch/index.js';
import { GlobalGenerator, initWeights, MultiscaleDiscriminator, Vgg19Features } from '../../src/models/index.js';
import { featureMatchingLoss, GANLoss, VGGLoss } from '../../src/losses/index.js';
import { uniform } from '../models/helpers.js';

const G = initWeights(new GlobalGenerator({ input_nc: 4, output_nc: 3, ngf: 4, n_downsample_global: 1, n_blocks_global: 1 }), { seed: 1 }).to('float64');
const D = initWeights(new MultiscaleDiscriminator({ input_nc: 7, ndf: 4, n_layers_D: 1, num_D: 2 }), { seed: 2 }).to('float64');
const Dsig = initWeights(new MultiscaleDiscriminator({ input_nc: 7, ndf: 4, n_layers_D: 1, num_D: 2, use_sigmoid: true }), { seed: 3 }).to('float64');
const vgg = new Vgg19Features().to('float64').requiresGrad_(false);
const x = uniform([1, 4, 16, 16], 1).to('float64');
const real = uniform([1, 3, 16, 16], 2).to('float64');
after(() => {
  for (const m of [G, D, Dsig, vgg]) m.dispose();
  x.dispose();
  real.dispose();
});

const lsgan = new GANLoss();
const vanilla = new GANLoss({ use_lsgan: false });
const vggLoss = new VGGLoss(vgg, { lambda_feat: 10 });
const withImage = (img: Tensor) => cat([x, img], 1);

/** Checks d loss / d params · v against (loss(θ + hv) − loss(θ − hv)) / 2h for a random unit v. */
function checkGradient(what: string, net: nn.Module, loss: () => Tensor, seed: number): void {
  const params = net.parameters();
  tidy(() => {
    G.zeroGrad();
    D.zeroGrad();
    Dsig.zeroGrad();
    loss().backward();
    manualSeed(seed);
    const dirs = params.map((p) => randn(p.shape, { dtype: 'float64' }));
    const norm = Math.sqrt(dirs.reduce((s, d) => s + d.square().sum().item(), 0));
    let analytic = 0;
    params.forEach((p, i) => {
      assert.ok(p.grad, `${what}: every parameter gets a gradient`);
      analytic += p.grad.mul(dirs[i]!).sum().item() / norm;
    });
    const h = 1e-6;
    const at = (s: number): number => noGrad(() => {
      params.forEach((p, i) => p.add_(dirs[i]!, (s * h) / norm));
      const v = loss().item();
      params.forEach((p, i) => p.sub_(dirs[i]!, (s * h) / norm));
      return v;
    });
    const numeric = (at(1) - at(-1)) / (2 * h);
    assert.ok(Math.abs(analytic) > 1e-6, `${what}: a non-trivial directional derivative (${analytic})`);
    assert.ok(Math.abs(numeric - analytic) <= 1e-5 * Math.abs(analytic), `${what}: back-propagated ${analytic}, finite differences ${numeric}`);
  });
}

test('G_GAN (LSGAN): gradient with respect to G', () => {
  checkGradient('G_GAN', G, () => lsgan.forward(D.forward(withImage(G.forward(x))), true), 1);
});

test('G_GAN (vanilla, sigmoid discriminator): gradient with respect to G', () => {
  checkGradient('G_GAN vanilla', G, () => vanilla.forward(Dsig.forward(withImage(G.forward(x))), true), 2);
});

test('G_GAN_Feat: gradient with respect to G', () => {
  checkGradient('G_GAN_Feat', G, () => {
    const predReal = D.forward(withImage(real));
    return featureMatchingLoss(D.forward(withImage(G.forward(x))), predReal, { num_D: 2, n_layers_D: 1, lambda_feat: 10 });
  }, 3);
});

test('G_VGG: gradient with respect to G', () => {
  checkGradient('G_VGG', G, () => vggLoss.forward(G.forward(x), real), 4);
});

test('D_real and D_fake (LSGAN): gradients with respect to D', () => {
  checkGradient('D_real', D, () => lsgan.forward(D.forward(withImage(real)), true), 5);
  checkGradient('D_fake', D, () => lsgan.forward(D.forward(withImage(G.forward(x).detach())), false), 6);
  checkGradient('D loss', D, () => {
    const fake = lsgan.forward(D.forward(withImage(G.forward(x).detach())), false);
    return fake.add(lsgan.forward(D.forward(withImage(real)), true)).mul(0.5);
  }, 7);
});

test('D_real and D_fake (vanilla): gradients with respect to D', () => {
  checkGradient('D_real vanilla', Dsig, () => vanilla.forward(Dsig.forward(withImage(real)), true), 8);
  checkGradient('D_fake vanilla', Dsig, () => vanilla.forward(Dsig.forward(withImage(G.forward(x).detach())), false), 9);
});
