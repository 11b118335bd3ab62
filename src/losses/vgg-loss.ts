// The perceptual loss: L1 between VGG19 features of the generated and the real image at relu1_1
// … relu5_1, weighted 1/32, 1/16, 1/8, 1/4, 1 (deeper layers count more), real side detached,
// × lambda_feat.
import { F, type Tensor } from '../torch/index.js';
import type { Vgg19Features } from '../models/vgg19.js';

export const VGG_LAYER_WEIGHTS = [1 / 32, 1 / 16, 1 / 8, 1 / 4, 1] as const;

export class VGGLoss {
  readonly lambdaFeat: number;

  /** `vgg` stays owned by the caller (load it with Vgg19Features.load). */
  constructor(readonly vgg: Vgg19Features, opts: { lambda_feat?: number } = {}) {
    this.lambdaFeat = opts.lambda_feat ?? 10;
  }

  forward(fake: Tensor, real: Tensor): Tensor {
    const fakeFeatures = this.vgg.forward(fake);
    const realFeatures = this.vgg.forward(real);
    let total: Tensor | null = null;
    VGG_LAYER_WEIGHTS.forEach((w, i) => {
      const term = F.l1Loss(fakeFeatures[i]!, realFeatures[i]!.detach()).mul(w);
      total = total === null ? term : total.add(term);
    });
    return total!.mul(this.lambdaFeat);
  }
}
