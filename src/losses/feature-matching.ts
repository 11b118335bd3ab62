// Discriminator feature matching: L1 between the discriminator's intermediate features of the
// fake and of the real image (the real side detached), every layer but the score map, each
// weighted 4/(n_layers_D+1), each scale 1/num_D, all × lambda_feat.
import { F, type Tensor } from '../torch/index.js';

export interface FeatureMatchingOptions {
  num_D: number;
  n_layers_D: number;
  /** Default 10, the official --lambda_feat. */
  lambda_feat?: number;
}

export function featureMatchingLoss(
  predFake: readonly (readonly Tensor[])[],
  predReal: readonly (readonly Tensor[])[],
  opts: FeatureMatchingOptions,
): Tensor {
  const featWeight = 4 / (opts.n_layers_D + 1);
  const scaleWeight = 1 / opts.num_D;
  const lambda = opts.lambda_feat ?? 10;
  if (predFake.length !== opts.num_D || predReal.length !== opts.num_D) {
    throw new Error(`feature matching: expected ${opts.num_D} scales, got ${predFake.length} fake and ${predReal.length} real`);
  }
  let total: Tensor | null = null;
  for (let i = 0; i < opts.num_D; i++) {
    const fake = predFake[i]!;
    const real = predReal[i]!;
    for (let j = 0; j < fake.length - 1; j++) {
      const term = F.l1Loss(fake[j]!, real[j]!.detach()).mul(scaleWeight * featWeight).mul(lambda);
      total = total === null ? term : total.add(term);
    }
  }
  if (total === null) throw new Error('feature matching needs intermediate discriminator features (getIntermFeat)');
  return total;
}
