// Spectral normalisation (Miyato et al. 2018) as torch.nn.utils.spectral_norm does it, for the
// convolutions of a network (SPADE and OASIS normalise their discriminators this way): the layer
// keeps `weight_orig` (trained) and the power-iteration vectors `weight_u`, `weight_v` (buffers),
// PyTorch's state-dict layout, so checkpoints load in PyTorch and back. Each forward in training
// mode runs one power iteration (v ← normalize(Wᵀu), u ← normalize(Wv), W the weight as a
// [out, in·kh·kw] matrix) and divides the weight by σ = uᵀWv; in eval mode u and v stay.
import { callOp, F, nn, noGrad, randn, tidy, type Tensor } from '../torch/index.js';

const EPS = 1e-12;
const normalize = (x: Tensor): Tensor => x.div(x.norm().clamp(EPS));

export class SpectralNormConv2d extends nn.Layer {
  readonly bias: Tensor | null;
  readonly weightOrig: Tensor;
  readonly weightU: Tensor;
  readonly weightV: Tensor;
  readonly convOpts: nn.ConvOptions;

  /** Takes over `conv`'s weight and bias (the conv itself is not used after). u and v start as torch's: normalised N(0, 1) draws. */
  constructor(conv: nn.Conv2d) {
    super();
    this.convOpts = conv.opts;
    // PyTorch deletes `weight` and adds `weight_orig` after the existing bias.
    this.bias = this.registerParameter('bias', conv.bias);
    this.weightOrig = this.registerParameter('weight_orig', conv.weight)!;
    const [h] = conv.weight.shape as [number];
    const w = conv.weight.numel / h;
    this.weightU = this.registerBuffer('weight_u', noGrad(() => tidy(() => normalize(randn([h])))))!;
    this.weightV = this.registerBuffer('weight_v', noGrad(() => tidy(() => normalize(randn([w])))))!;
  }

  /** The normalised weight; in training mode after one power iteration that updates u and v in place. */
  weight(): Tensor {
    return tidy(() => {
      const h = this.weightOrig.size(0);
      const mat = this.weightOrig.reshape([h, -1]);
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

  forward(x: Tensor): Tensor {
    return tidy(() => F.conv2d(x, this.weight(), this.bias, this.convOpts));
  }

  override reprName(): string {
    return 'Conv2d';
  }
}

/** Replaces every Conv2d inside `net`'s Sequentials with its spectrally normalised form (in place; returns net). */
export function applySpectralNorm<M extends nn.Module>(net: M): M {
  const visit = (m: nn.Module) => {
    if (m instanceof nn.Sequential) {
      m.layers.forEach((layer, i) => {
        if (layer instanceof nn.Conv2d) {
          const sn = new SpectralNormConv2d(layer);
          m.layers[i] = sn;
          m.registerModule(String(i), sn);
        }
      });
    }
    for (const [, child] of m.namedChildren()) visit(child);
  };
  visit(net);
  return net;
}
