// G2, the local enhancer: G1 (twice as wide per enhancer, output layers dropped) runs on the
// input downsampled by 2^n_local_enhancers; each enhancer, coarsest first, encodes the input at
// its own scale, adds the coarser branch's last feature map, and refines and upsamples the sum.
// Children and their keys as the official module: `model` (G1's layers), `model{n}_1` (front end
// of enhancer n), `model{n}_2` (its residual blocks, upsampling and, for the last, the output).
import { F, nn, tidy, type Tensor } from '../torch/index.js';
import { GLOBAL_OUTPUT_LAYERS, globalGeneratorLayers } from './global-generator.js';
import { normLayer, type NormType } from './norm.js';
import { openingConv, type OnehotLayout } from './onehot-input.js';
import { ResnetBlock, type PaddingType } from './resnet-block.js';

export interface LocalEnhancerOptions {
  input_nc: number;
  output_nc: number;
  /** Filters of the finest enhancer's first conv; G1 gets ngf·2^n_local_enhancers. Default 64. */
  ngf?: number;
  n_downsample_global?: number;
  n_blocks_global?: number;
  /** Enhancers stacked on G1, each doubling the resolution. Default 1. */
  n_local_enhancers?: number;
  /** Residual blocks in each enhancer. Default 3. */
  n_blocks_local?: number;
  norm?: NormType;
  padding_type?: PaddingType;
}

/** 3×3 average pooling with stride 2 that ignores the padding: the halving both G2 and D use. */
export function downsample2x(x: Tensor): Tensor {
  return F.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false });
}

export class LocalEnhancer extends nn.Layer {
  /** G1 without its output layers. */
  readonly model: nn.Sequential;
  readonly nLocalEnhancers: number;
  readonly #frontEnds: nn.Sequential[] = [];
  readonly #backEnds: nn.Sequential[] = [];

  constructor(readonly opts: LocalEnhancerOptions) {
    super();
    const ngf = opts.ngf ?? 64;
    const n = opts.n_local_enhancers ?? 1;
    const nBlocksLocal = opts.n_blocks_local ?? 3;
    const norm = opts.norm ?? 'instance';
    const padding_type = opts.padding_type ?? 'reflect';
    if (!Number.isInteger(n) || n < 1) throw new Error(`n_local_enhancers must be a positive integer, got ${n}`);
    this.nLocalEnhancers = n;

    const global = globalGeneratorLayers({
      input_nc: opts.input_nc, output_nc: opts.output_nc, ngf: ngf * 2 ** n,
      n_downsample_global: opts.n_downsample_global ?? 4, n_blocks_global: opts.n_blocks_global ?? 9, norm, padding_type,
    });
    for (const dropped of global.splice(global.length - GLOBAL_OUTPUT_LAYERS)) dropped.dispose();
    this.model = this.registerModule('model', new nn.Sequential(...global));

    for (let k = 1; k <= n; k++) {
      const c = ngf * 2 ** (n - k);
      const frontEnd = new nn.Sequential(
        new nn.ReflectionPad2d(3), new nn.Conv2d(opts.input_nc, c, 7), normLayer(norm, c), new nn.ReLU(true),
        new nn.Conv2d(c, 2 * c, 3, { stride: 2, padding: 1 }), normLayer(norm, 2 * c), new nn.ReLU(true),
      );
      const backEnd: nn.Layer[] = [];
      for (let i = 0; i < nBlocksLocal; i++) backEnd.push(new ResnetBlock(2 * c, { norm, padding_type }));
      backEnd.push(new nn.ConvTranspose2d(2 * c, c, 3, { stride: 2, padding: 1, outputPadding: 1 }), normLayer(norm, c), new nn.ReLU(true));
      if (k === n) backEnd.push(new nn.ReflectionPad2d(3), new nn.Conv2d(ngf, opts.output_nc, 7), new nn.Tanh());
      this.#frontEnds.push(this.registerModule(`model${k}_1`, frontEnd));
      this.#backEnds.push(this.registerModule(`model${k}_2`, new nn.Sequential(...backEnd)));
    }
  }

  /** [N, input_nc, H, W] → [N, output_nc, H, W]; H and W multiples of 2^(n_downsample_global + n_local_enhancers). */
  forward(x: Tensor, layout: OnehotLayout | null = null): Tensor {
    return tidy(() => this.#forward(x, layout));
  }

  /** `layout` describes x (full resolution): the finest enhancer's opening conv uses it. */
  #forward(x: Tensor, layout: OnehotLayout | null): Tensor {
    const pyramid = [x];
    for (let i = 0; i < this.nLocalEnhancers; i++) pyramid.push(downsample2x(pyramid[pyramid.length - 1]!));
    // Each tensor made here is disposed as soon as it has been used (autograd keeps what its backward
    // needs): in synthesis at 2048×1024 the down-sampled inputs, each front end's output and the
    // features it is added to would otherwise stay until the forward ends (~330 MB).
    let features = this.model.forward(pyramid[this.nLocalEnhancers]!);
    if (this.nLocalEnhancers > 0) pyramid[this.nLocalEnhancers]!.dispose();
    for (let k = 1; k <= this.nLocalEnhancers; k++) {
      const input = pyramid[this.nLocalEnhancers - k]!;
      const frontEnd = this.#frontEnds[k - 1]!;
      const front = k === this.nLocalEnhancers && layout
        ? frontEnd.forwardFrom(2, openingConv(frontEnd.layers[0]!, frontEnd.layers[1]!, input, layout), true)
        : frontEnd.forward(input);
      if (input !== x) input.dispose();
      const sum = front.add(features);
      front.dispose();
      features.dispose();
      features = this.#backEnds[k - 1]!.forwardFrom(0, sum, true);
    }
    return features;
  }
}
