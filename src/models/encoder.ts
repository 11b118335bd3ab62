// E, the instance-feature encoder: an encoder–decoder (7×7 conv, n downsampling convs, n
// transposed convs, 7×7 conv, tanh) whose output is then averaged inside every instance, so each
// object gets one feature vector. Layers in the child `model`, keys as the official module's.
import { arange, nn, ones, tidy, type Tensor, zeros } from '../torch/index.js';
import { normLayer, type NormType } from './norm.js';

export interface EncoderOptions {
  /** Channels of the image encoded (output_nc of the generator). */
  input_nc: number;
  /** Feature channels per instance (`--feat_num`, default 3 in the official options). */
  output_nc: number;
  /** Filters of the first conv (`--nef`). Default 16, the official option's default. */
  nef?: number;
  /** Downsampling convs (`--n_downsample_E`). Default 4. */
  n_downsample_E?: number;
  norm?: NormType;
}

export class Encoder extends nn.Module {
  readonly model: nn.Sequential;

  constructor(readonly opts: EncoderOptions) {
    super();
    const nef = opts.nef ?? 16;
    const nDown = opts.n_downsample_E ?? 4;
    const norm = opts.norm ?? 'instance';
    if (!Number.isInteger(nDown) || nDown < 0) throw new Error(`n_downsample_E must be a non-negative integer, got ${nDown}`);
    const layers: nn.Layer[] = [new nn.ReflectionPad2d(3), new nn.Conv2d(opts.input_nc, nef, 7), normLayer(norm, nef), new nn.ReLU(true)];
    for (let i = 0; i < nDown; i++) {
      const c = nef * 2 ** i;
      layers.push(new nn.Conv2d(c, 2 * c, 3, { stride: 2, padding: 1 }), normLayer(norm, 2 * c), new nn.ReLU(true));
    }
    for (let i = 0; i < nDown; i++) {
      const c = nef * 2 ** (nDown - i);
      const half = Math.floor(c / 2);
      layers.push(new nn.ConvTranspose2d(c, half, 3, { stride: 2, padding: 1, outputPadding: 1 }), normLayer(norm, half), new nn.ReLU(true));
    }
    layers.push(new nn.ReflectionPad2d(3), new nn.Conv2d(nef, opts.output_nc, 7), new nn.Tanh());
    this.model = this.registerModule('model', new nn.Sequential(...layers));
  }

  /**
   * image [N, input_nc, H, W], inst [N, 1, H, W] instance ids → [N, output_nc, H, W] where each
   * pixel holds its instance's mean feature (per batch item and channel).
   */
  forward(image: Tensor, inst: Tensor): Tensor {
    return tidy(() => instanceMeanPool(this.model.forward(image), inst));
  }
}

/**
 * Replaces every pixel of `features` [N, C, H, W] by the mean of its instance: the pixels of the
 * same batch item with the same id in `inst` [N, 1, H, W], channel by channel. All instances at
 * once: ids are numbered with unique(inverse), offset per batch item, and summed with index_add.
 * Gradients flow to every pixel of the instance, as through the official per-instance mean.
 */
export function instanceMeanPool(features: Tensor, inst: Tensor): Tensor {
  const [n, c, h, w] = features.shape as [number, number, number, number];
  const is = inst.shape;
  if (is.length !== 4 || is[0] !== n || is[1] !== 1 || is[2] !== h || is[3] !== w) {
    throw new Error(`instance map must be [${n}, 1, ${h}, ${w}] to match the features, got [${is.join(', ')}]`);
  }
  const { values, inverse } = inst.long().unique({ inverse: true });
  const groups = values.size(0);
  // One group per (batch item, instance id): group = item · groups + id's rank.
  const group = inverse.add(arange(0, n * groups, groups, { device: features.device }).view([n, 1, 1, 1])).flatten();
  const pixels = features.permute([0, 2, 3, 1]).reshape([n * h * w, c]);
  const sums = zeros([n * groups, c], { dtype: features.dtype, device: features.device }).indexAdd(0, group, pixels);
  const counts = zeros([n * groups], { dtype: features.dtype, device: features.device })
    .indexAdd(0, group, ones([n * h * w], { dtype: features.dtype, device: features.device }));
  // Groups absent from an item have count 0; clamping keeps them finite (they are never read).
  const means = sums.div(counts.clamp(1).unsqueeze(1));
  return means.indexSelect(0, group).view([n, h, w, c]).permute([0, 3, 1, 2]);
}
