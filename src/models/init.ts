// The official weight initialisation, applied after construction: every convolution's weight
// (transposed ones included) from N(0, 0.02), batch-norm scales from N(1, 0.02) with zero shifts.
// Convolution biases keep the distribution of PyTorch's default initialisation, as in the
// official code, U(±1/√fan_in), but are drawn again here so that the seed decides every value.
import { manualSeed, nn, noGrad } from '../torch/index.js';

/** Visits a module and all its descendants, depth first, children before their parent. */
function visit(m: nn.Module, fn: (m: nn.Module) => void): void {
  for (const [, child] of m.namedChildren()) visit(child, fn);
  fn(m);
}

/**
 * Re-initialises `net` in place as the official `weights_init`. With `seed`, libtorch's global
 * generator is seeded first, so the same seed gives the same parameters.
 */
export function initWeights<M extends nn.Module>(net: M, opts: { seed?: number } = {}): M {
  if (opts.seed !== undefined) manualSeed(opts.seed);
  noGrad(() => {
    visit(net, (m) => {
      if (m instanceof nn.Conv2d || m instanceof nn.ConvTranspose2d) {
        m.weight.normal_(0, 0.02);
        if (m.bias) {
          // fan_in as PyTorch computes it: weight.size(1) × kernel area (for both conv kinds).
          const [, c, kh, kw] = m.weight.shape as [number, number, number, number];
          const bound = 1 / Math.sqrt(c * kh * kw);
          m.bias.uniform_(-bound, bound);
        }
      } else if (m instanceof nn.BatchNorm2d) {
        m.weight?.normal_(1, 0.02);
        m.bias?.fill_(0);
      }
    });
  });
  return net;
}
