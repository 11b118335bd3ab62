// The frozen VGG19 feature extractor of the perceptual loss: torchvision's `vgg19().features`
// cut after relu5_1 into five slices ending at relu1_1, relu2_1, relu3_1, relu4_1 and relu5_1.
// Layers keep torchvision's indices (`slice2.5.weight` is `features.5.weight`), as in the
// official Vgg19 module; the weights come from torchvision's ImageNet checkpoint, read from disk.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { checkpoint, dispose, loadTensorDict, nn, tidy, type Tensor } from '../torch/index.js';

/** The file name torchvision gives the ImageNet VGG19 weights. */
export const VGG19_FILE = 'vgg19-dcbb9e9d.pth';
export const VGG19_URL = `https://download.pytorch.org/models/${VGG19_FILE}`;

/** Where torchvision caches the weights ($TORCH_HOME/hub/checkpoints, ~/.cache/torch by default). */
export function defaultVgg19Path(): string {
  const torchHome = process.env.TORCH_HOME ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'torch');
  return join(torchHome, 'hub', 'checkpoints', VGG19_FILE);
}

// torchvision's VGG19 `features` up to relu5_1: channels of each conv, 'M' for a 2×2 max-pool.
const LAYOUT: readonly (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512];
/** Index (in `features`) one past the last layer of each slice. */
const SLICE_ENDS = [2, 7, 12, 21, 30] as const;

/** A Sequential whose children carry given names (torchvision's indices) instead of 0, 1, 2, … */
class IndexedSequential extends nn.Layer {
  readonly layers: nn.Layer[] = [];
  add(name: string, layer: nn.Layer): void {
    this.layers.push(this.registerModule(name, layer));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      let y = x;
      for (const l of this.layers) y = l.forward(y);
      return y;
    });
  }
  /** Prints as the torch.nn.Sequential slices of the official Vgg19 do. */
  override reprName(): string {
    return 'Sequential';
  }
}

export class Vgg19Features extends nn.Module {
  readonly slices: IndexedSequential[];

  /** The architecture with PyTorch's default initialisation; see Vgg19Features.load for the weights. */
  constructor() {
    super();
    const features: nn.Layer[] = [];
    let channels = 3;
    for (const v of LAYOUT) {
      if (v === 'M') {
        features.push(new nn.MaxPool2d(2, { stride: 2 }));
      } else {
        features.push(new nn.Conv2d(channels, v, 3, { padding: 1 }), new nn.ReLU(true));
        channels = v;
      }
    }
    this.slices = SLICE_ENDS.map((end, s) => {
      const slice = this.registerModule(`slice${s + 1}`, new IndexedSequential());
      for (let i = s === 0 ? 0 : SLICE_ENDS[s - 1]!; i < end; i++) slice.add(String(i), features[i]!);
      return slice;
    });
  }

  /**
   * Loads torchvision's VGG19 ImageNet weights (`features.N.weight` / `features.N.bias`; the
   * classifier and the layers after relu5_1 are ignored) and freezes them. A missing file is an
   * error that says where to get it.
   */
  static load(path: string = defaultVgg19Path()): Vgg19Features {
    if (!existsSync(path)) {
      throw new Error(
        `VGG19 weights not found at ${path}. The VGG perceptual loss needs torchvision's ImageNet VGG19 ` +
        `checkpoint: download ${VGG19_URL} and put it at that path (or give its path with --vgg_weights), ` +
        `or train without the VGG loss with --no_vgg_loss.`,
      );
    }
    const file = loadTensorDict(path);
    const vgg = new Vgg19Features();
    try {
      const values = new Map<string, Tensor>();
      for (const [key] of vgg.stateDict()) {
        const index = key.slice(key.indexOf('.') + 1); // 'slice2.5.weight' → '5.weight'
        const t = file.get(`features.${index}`);
        if (t) values.set(key, t);
      }
      const missing = [...vgg.stateDict().keys()].filter((k) => !values.has(k)).map((k) => `features.${k.slice(k.indexOf('.') + 1)}`);
      if (missing.length) {
        throw new Error(`${path} is not torchvision's VGG19 checkpoint: it lacks ${missing.join(', ')}`);
      }
      vgg.loadStateDict(values, { source: path });
    } catch (e) {
      vgg.dispose();
      throw e;
    } finally {
      dispose(file);
    }
    return vgg.eval().requiresGrad_(false);
  }

  /**
   * The five feature maps relu1_1 … relu5_1 of an image batch [N, 3, H, W]. Each slice is a
   * checkpointed segment when a Recomputation records (--recompute_vgg): of an image that needs
   * gradients only the feature maps are kept, the rest is recomputed in the backward.
   */
  forward(x: Tensor): Tensor[] {
    const out: Tensor[] = [];
    let h = x;
    for (const s of this.slices) {
      h = checkpoint((input) => s.forward(input), h, s.parameters());
      out.push(h);
    }
    return out;
  }
}
