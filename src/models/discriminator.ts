// The PatchGAN discriminator and its multi-scale stack. With intermediate features on (what
// feature matching needs, the official default), each discriminator is a chain of small
// Sequentials `model0` … `model{n_layers+1}` whose every output is returned; the multi-scale
// module holds them as `scale{i}_layer{j}`, as the official one does, so keys match.
import { nn, tidy, type Tensor } from '../torch/index.js';
import { downsample2x } from './local-enhancer.js';
import { normLayer, type NormType } from './norm.js';

export interface NLayerDiscriminatorOptions {
  input_nc: number;
  /** Filters of the first conv, doubled per layer up to 512. Default 64. */
  ndf?: number;
  /** Stride-2 conv layers after the first (n_layers 3 gives the 70×70 PatchGAN). Default 3. */
  n_layers_D?: number;
  norm?: NormType;
  /** Probabilities instead of scores on the last output (for the vanilla GAN loss). Default false. */
  use_sigmoid?: boolean;
  /** Return every layer's output (for feature matching), not only the last. Default true. */
  getIntermFeat?: boolean;
}

/** The groups of layers of one PatchGAN: each group's output is one intermediate feature. */
function patchGanStages(opts: NLayerDiscriminatorOptions): nn.Layer[][] {
  const ndf = opts.ndf ?? 64;
  const nLayers = opts.n_layers_D ?? 3;
  const norm = opts.norm ?? 'instance';
  if (!Number.isInteger(nLayers) || nLayers < 1) throw new Error(`n_layers_D must be a positive integer, got ${nLayers}`);
  const k = 4;
  const pad = Math.ceil((k - 1) / 2);
  const stages: nn.Layer[][] = [[new nn.Conv2d(opts.input_nc, ndf, k, { stride: 2, padding: pad }), new nn.LeakyReLU(0.2, true)]];
  let nf = ndf;
  for (let n = 1; n < nLayers; n++) {
    const prev = nf;
    nf = Math.min(nf * 2, 512);
    stages.push([new nn.Conv2d(prev, nf, k, { stride: 2, padding: pad }), normLayer(norm, nf), new nn.LeakyReLU(0.2, true)]);
  }
  const prev = nf;
  nf = Math.min(nf * 2, 512);
  stages.push([new nn.Conv2d(prev, nf, k, { stride: 1, padding: pad }), normLayer(norm, nf), new nn.LeakyReLU(0.2, true)]);
  stages.push([new nn.Conv2d(nf, 1, k, { stride: 1, padding: pad })]);
  return stages;
}

/**
 * The modules one discriminator is made of, and how to run them. With intermediate features,
 * n_layers+2 Sequentials, each output kept; otherwise one Sequential over all layers (with the
 * sigmoid inside it when asked for, as the official module).
 */
function buildPatchGan(opts: NLayerDiscriminatorOptions): { stages: nn.Sequential[]; sigmoidOnLast: boolean } {
  const stages = patchGanStages(opts);
  const useSigmoid = opts.use_sigmoid ?? false;
  if (opts.getIntermFeat ?? true) {
    // The official code drops the sigmoid here (it never runs the extra stage); we apply it to
    // the last output instead, so that the vanilla GAN loss gets probabilities in both modes.
    return { stages: stages.map((s) => new nn.Sequential(...s)), sigmoidOnLast: useSigmoid };
  }
  const flat = stages.flat();
  if (useSigmoid) flat.push(new nn.Sigmoid());
  return { stages: [new nn.Sequential(...flat)], sigmoidOnLast: false };
}

function runStages(stages: readonly nn.Sequential[], sigmoidOnLast: boolean, x: Tensor): Tensor[] {
  const outputs: Tensor[] = [];
  let h = x;
  for (const s of stages) {
    h = s.forward(h);
    outputs.push(h);
  }
  if (sigmoidOnLast) outputs[outputs.length - 1] = outputs[outputs.length - 1]!.sigmoid();
  return outputs;
}

/** One PatchGAN discriminator: children `model0` … (intermediate features) or `model`. */
export class NLayerDiscriminator extends nn.Module {
  readonly stages: nn.Sequential[];
  readonly #sigmoidOnLast: boolean;

  constructor(readonly opts: NLayerDiscriminatorOptions) {
    super();
    const { stages, sigmoidOnLast } = buildPatchGan(opts);
    this.#sigmoidOnLast = sigmoidOnLast;
    const interm = opts.getIntermFeat ?? true;
    this.stages = stages.map((s, j) => this.registerModule(interm ? `model${j}` : 'model', s));
  }

  /** The output of every stage (intermediate features on), or just the score map. */
  forward(x: Tensor): Tensor[] {
    return runStages(this.stages, this.#sigmoidOnLast, x);
  }
}

export interface MultiscaleDiscriminatorOptions extends NLayerDiscriminatorOptions {
  /** Discriminators, at scales 1, 1/2, 1/4, … Default 2. */
  num_D?: number;
}

/** What a multi-scale discriminator returns: for each scale, finest first, its outputs (last = scores). */
export type DiscriminatorOutputs = Tensor[][];

export class MultiscaleDiscriminator extends nn.Module {
  readonly numD: number;
  readonly nLayers: number;
  /** The stages of each discriminator, by its index in the state dict (`scale{i}_…` / `layer{i}`). */
  readonly discriminators: nn.Sequential[][] = [];
  readonly #sigmoidOnLast: boolean;

  constructor(readonly opts: MultiscaleDiscriminatorOptions) {
    super();
    this.numD = opts.num_D ?? 2;
    this.nLayers = opts.n_layers_D ?? 3;
    if (!Number.isInteger(this.numD) || this.numD < 1) throw new Error(`num_D must be a positive integer, got ${this.numD}`);
    const interm = opts.getIntermFeat ?? true;
    let sigmoidOnLast = false;
    for (let i = 0; i < this.numD; i++) {
      const built = buildPatchGan(opts);
      sigmoidOnLast = built.sigmoidOnLast;
      this.discriminators.push(built.stages.map((s, j) => this.registerModule(interm ? `scale${i}_layer${j}` : `layer${i}`, s)));
    }
    this.#sigmoidOnLast = sigmoidOnLast;
  }

  /**
   * Runs every discriminator, each on the input halved once more than the previous one. Result i
   * is at scale 1/2^i; as in the official module, it comes from the discriminator with the
   * highest index first (`scale{num_D-1}_…` sees the full-resolution input).
   */
  forward(x: Tensor): DiscriminatorOutputs {
    return tidy(() => this.#forward(x));
  }

  #forward(x: Tensor): DiscriminatorOutputs {
    const result: DiscriminatorOutputs = [];
    let input = x;
    for (let i = 0; i < this.numD; i++) {
      result.push(runStages(this.discriminators[this.numD - 1 - i]!, this.#sigmoidOnLast, input));
      if (i !== this.numD - 1) input = downsample2x(input);
    }
    return result;
  }
}
