// G1, the global generator: 7×7 conv, n stride-2 downsampling convs, n residual blocks, n
// transposed convs back up, 7×7 conv and tanh, all in one Sequential named `model`, so its
// state-dict keys (`model.1.weight`, `model.13.conv_block.1.weight`, …) are the official ones.
import { nn, tidy, type Tensor } from '../torch/index.js';
import { openingConv, type OnehotLayout } from './onehot-input.js';
import { normLayer, type NormType } from './norm.js';
import { ResnetBlock, type PaddingType } from './resnet-block.js';

export interface GlobalGeneratorOptions {
  input_nc: number;
  output_nc: number;
  /** Filters of the first conv; doubled by every downsampling step. Default 64. */
  ngf?: number;
  /** Stride-2 convs (and as many transposed convs). Default 4. */
  n_downsample_global?: number;
  /** Residual blocks at the bottleneck. Default 9. */
  n_blocks_global?: number;
  norm?: NormType;
  padding_type?: PaddingType;
}

/** How many of the layers at the end of G1's `model` make its output (pad, 7×7 conv, tanh). */
export const GLOBAL_OUTPUT_LAYERS = 3;

/** G1's layers in order, the output layers included. */
export function globalGeneratorLayers(opts: GlobalGeneratorOptions): nn.Layer[] {
  const ngf = opts.ngf ?? 64;
  const nDown = opts.n_downsample_global ?? 4;
  const nBlocks = opts.n_blocks_global ?? 9;
  const norm = opts.norm ?? 'instance';
  if (!Number.isInteger(nDown) || nDown < 0) throw new Error(`n_downsample_global must be a non-negative integer, got ${nDown}`);
  if (!Number.isInteger(nBlocks) || nBlocks < 0) throw new Error(`n_blocks_global must be a non-negative integer, got ${nBlocks}`);

  const layers: nn.Layer[] = [
    new nn.ReflectionPad2d(3), new nn.Conv2d(opts.input_nc, ngf, 7), normLayer(norm, ngf), new nn.ReLU(true),
  ];
  for (let i = 0; i < nDown; i++) {
    const c = ngf * 2 ** i;
    layers.push(new nn.Conv2d(c, 2 * c, 3, { stride: 2, padding: 1 }), normLayer(norm, 2 * c), new nn.ReLU(true));
  }
  const bottleneck = ngf * 2 ** nDown;
  for (let i = 0; i < nBlocks; i++) {
    layers.push(new ResnetBlock(bottleneck, { norm, padding_type: opts.padding_type ?? 'reflect' }));
  }
  for (let i = 0; i < nDown; i++) {
    const c = ngf * 2 ** (nDown - i);
    const half = Math.floor(c / 2);
    layers.push(
      new nn.ConvTranspose2d(c, half, 3, { stride: 2, padding: 1, outputPadding: 1 }), normLayer(norm, half), new nn.ReLU(true),
    );
  }
  layers.push(new nn.ReflectionPad2d(3), new nn.Conv2d(ngf, opts.output_nc, 7), new nn.Tanh());
  return layers;
}

export class GlobalGenerator extends nn.Layer {
  readonly model: nn.Sequential;

  constructor(readonly opts: GlobalGeneratorOptions) {
    super();
    this.model = this.registerModule('model', new nn.Sequential(...globalGeneratorLayers(opts)));
  }

  /**
   * [N, input_nc, H, W] → [N, output_nc, H, W] in (-1, 1); H and W multiples of 2^n_downsample_global.
   * `layout`: which of x's channels are one-hot labels and boundaries (see onehot-input.ts).
   */
  forward(x: Tensor, layout: OnehotLayout | null = null): Tensor {
    if (!layout) return this.model.forward(x);
    return tidy(() => this.model.forwardFrom(2, openingConv(this.model.layers[0]!, this.model.layers[1]!, x, layout), true));
  }
}
