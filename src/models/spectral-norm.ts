// Spectral normalisation (Miyato et al. 2018) as torch.nn.utils.spectral_norm does it, for the
// convolutions of a network (SPADE and OASIS normalise their discriminators this way, SPADE its
// generators too): the layer keeps `weight_orig` (trained) and the power-iteration vectors
// `weight_u`, `weight_v` (buffers), PyTorch's state-dict layout, so checkpoints load in PyTorch and
// back. Each forward in training mode runs one power iteration (v ← normalize(Wᵀu),
// u ← normalize(Wv)) and divides the weight by σ = uᵀWv; in eval mode u and v stay. W is the
// weight as a matrix with the output channels as rows: dimension 0 of a convolution's weight,
// dimension 1 of a transposed convolution's ([in, out, kh, kw]) — torch's default `dim` for each.
import { callOp, F, nn, noGrad, randn, tidy, type Tensor } from '../torch/index.js';

const EPS = 1e-12;
const normalize = (x: Tensor): Tensor => x.div(x.norm().clamp(EPS));

/** What the two normalised layers share: the weight's normalisation and PyTorch's key layout. */
abstract class SpectralNormLayer extends nn.Layer {
  readonly bias: Tensor | null;
  readonly weightOrig: Tensor;
  readonly weightU: Tensor;
  readonly weightV: Tensor;
  readonly kernelSize: [number, number];

  /** Takes over `conv`'s weight and bias (the conv itself is not used after). u and v start as torch's: normalised N(0, 1) draws. */
  protected constructor(conv: nn.Conv2d | nn.ConvTranspose2d, private readonly outputDim: 0 | 1) {
    super();
    this.kernelSize = conv.kernelSize;
    // PyTorch deletes `weight` and adds `weight_orig` after the existing bias.
    this.bias = this.registerParameter('bias', conv.bias);
    this.weightOrig = this.registerParameter('weight_orig', conv.weight)!;
    const h = conv.weight.size(outputDim);
    const w = conv.weight.numel / h;
    this.weightU = this.registerBuffer('weight_u', noGrad(() => tidy(() => normalize(randn([h])))))!;
    this.weightV = this.registerBuffer('weight_v', noGrad(() => tidy(() => normalize(randn([w])))))!;
  }

  private matrix(): Tensor {
    const w = this.outputDim === 0 ? this.weightOrig : this.weightOrig.transpose(0, 1);
    return w.reshape([this.weightOrig.size(this.outputDim), -1]);
  }

  /** The normalised weight; in training mode after one power iteration that updates u and v in place. */
  weight(): Tensor {
    return tidy(() => {
      const mat = this.matrix();
      if (this.training) {
        noGrad(() => tidy(() => {
          const m = mat.detach();
          this.weightV.copy_(normalize(callOp('mv', [m.transpose(0, 1), this.weightU]) as Tensor));
          this.weightU.copy_(normalize(callOp('mv', [m, this.weightV]) as Tensor));
        }));
      }
      // u and v enter σ as constants, cloned as PyTorch does: the next forward's power iteration
      // updates the buffers in place while this forward's graph still needs their values.
      const sigma = callOp('dot', [this.weightU.clone(), callOp('mv', [mat, this.weightV.clone()])]) as Tensor;
      return this.weightOrig.div(sigma);
    });
  }

  /** The weight synthesis uses (ONNX export): normalised by the stored u and v, no iteration, no graph. */
  inferenceWeight(): Tensor {
    return noGrad(() => {
      const training = this.training;
      this.training = false;
      try { return this.weight(); } finally { this.training = training; }
    });
  }
}

export class SpectralNormConv2d extends SpectralNormLayer {
  readonly convOpts: nn.ConvOptions;
  constructor(conv: nn.Conv2d) {
    super(conv, 0);
    this.convOpts = conv.opts;
  }
  forward(x: Tensor): Tensor {
    return tidy(() => F.conv2d(x, this.weight(), this.bias, this.convOpts));
  }
  override reprName(): string {
    return 'Conv2d';
  }
}

export class SpectralNormConvTranspose2d extends SpectralNormLayer {
  readonly convOpts: nn.ConvTranspose2d['opts'];
  constructor(conv: nn.ConvTranspose2d) {
    super(conv, 1);
    this.convOpts = conv.opts;
  }
  forward(x: Tensor): Tensor {
    return tidy(() => F.convTranspose2d(x, this.weight(), this.bias, this.convOpts));
  }
  override reprName(): string {
    return 'ConvTranspose2d';
  }
}

/**
 * Replaces the Conv2d and ConvTranspose2d layers inside `net`'s Sequentials with their spectrally
 * normalised forms (in place; returns net), except those `keep` says stay plain.
 */
export function applySpectralNorm<M extends nn.Module>(net: M, keep: (layer: nn.Module, next: nn.Module | undefined) => boolean = () => false): M {
  const visit = (m: nn.Module) => {
    if (m instanceof nn.Sequential) {
      m.layers.forEach((layer, i) => {
        if (!(layer instanceof nn.Conv2d || layer instanceof nn.ConvTranspose2d) || keep(layer, m.layers[i + 1])) return;
        const sn = layer instanceof nn.Conv2d ? new SpectralNormConv2d(layer) : new SpectralNormConvTranspose2d(layer);
        m.layers[i] = sn;
        m.registerModule(String(i), sn);
      });
    }
    for (const [, child] of m.namedChildren()) visit(child);
  };
  visit(net);
  return net;
}

/**
 * G's convolutions normalised, as SPADE's pix2pixHD generator (norm_G 'spectralinstance') does:
 * all but the output convolution (the one before tanh), whose scale sets the image's range.
 */
export function applySpectralNormToGenerator<M extends nn.Module>(G: M): M {
  return applySpectralNorm(G, (_layer, next) => next instanceof nn.Tanh);
}
