// The residual block of both generators: x + (pad, 3×3 conv, norm, ReLU, [dropout], pad, 3×3
// conv, norm). Its layers live in the child `conv_block`, indexed as the official module's are
// (`conv_block.1.weight`, `conv_block.5.weight` with reflect or replicate padding).
import { checkpoint, isRecomputing, nn, tidy, type Tensor } from '../torch/index.js';
import { normLayer, type NormType } from './norm.js';

export type PaddingType = 'reflect' | 'replicate' | 'zero';

export interface ResnetBlockOptions {
  norm?: NormType;
  padding_type?: PaddingType;
  use_dropout?: boolean;
}

function padLayers(type: PaddingType): { layers: nn.Layer[]; convPadding: number } {
  switch (type) {
    case 'reflect': return { layers: [new nn.ReflectionPad2d(1)], convPadding: 0 };
    case 'replicate': return { layers: [new nn.ReplicationPad2d(1)], convPadding: 0 };
    case 'zero': return { layers: [], convPadding: 1 };
    default: throw new Error(`padding_type must be 'reflect', 'replicate' or 'zero', got '${String(type)}'`);
  }
}

export class ResnetBlock extends nn.Layer {
  readonly conv_block: nn.Sequential;
  /** Why a training forward of this block cannot be recomputed in the backward (null: it can). */
  readonly #notRecomputable: string | null;

  constructor(readonly dim: number, opts: ResnetBlockOptions = {}) {
    super();
    const norm = opts.norm ?? 'instance';
    const padding = opts.padding_type ?? 'reflect';
    const layers: nn.Layer[] = [];
    for (let half = 0; half < 2; half++) {
      const pad = padLayers(padding);
      layers.push(...pad.layers, new nn.Conv2d(dim, dim, 3, { padding: pad.convPadding }), normLayer(norm, dim));
      if (half === 0) {
        layers.push(new nn.ReLU(true));
        if (opts.use_dropout) layers.push(new nn.Dropout(0.5));
      }
    }
    this.conv_block = this.registerModule('conv_block', new nn.Sequential(...layers));
    this.#notRecomputable = norm === 'batch'
      ? 'batch norm updates its running statistics in every training forward, so a recomputed block would update them twice'
      : opts.use_dropout ? 'dropout draws new random numbers in every training forward, so a recomputed block would differ from the one trained' : null;
  }

  /**
   * x + conv_block(x). Inside a Recomputation's recording (training with --recompute_blocks) the
   * block is one checkpointed segment: only x is kept for the backward, which recomputes the rest.
   */
  forward(x: Tensor): Tensor {
    if (this.#notRecomputable !== null && this.training && isRecomputing()) {
      throw new Error(`--recompute_blocks: ${this.#notRecomputable}; train without --recompute_blocks (or with --norm instance)`);
    }
    return checkpoint((input) => tidy(() => input.add(this.conv_block.forward(input))), x, this.parameters());
  }
}
