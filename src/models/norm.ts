// The two normalisations the official networks choose between (`--norm`): instance norm without
// learned parameters (the default, and what the published models use) or batch norm with them.
import { nn } from '../torch/index.js';

export type NormType = 'instance' | 'batch';

/** A fresh normalisation layer over `channels` feature maps. */
export function normLayer(norm: NormType, channels: number): nn.Layer {
  switch (norm) {
    case 'instance':
      // No affine parameters and no running statistics: nothing of it appears in a state dict.
      return new nn.InstanceNorm2d(channels, { affine: false });
    case 'batch':
      return new nn.BatchNorm2d(channels, { affine: true });
    default:
      throw new Error(`norm must be 'instance' or 'batch', got '${String(norm)}'`);
  }
}
