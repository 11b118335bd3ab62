// Mixed precision: autocast regions and dynamic loss scaling (torch.autocast and
// torch.cuda.amp.GradScaler; the official code's --fp16 uses apex's O1, the same two ideas).
import { noGrad } from './autograd.js';
import { native } from './native.js';
import { tidy } from './scope.js';
import { callOp, type DType, type Tensor } from './tensor.js';

/**
 * Runs fn with ATen's autocasting on for a device type ('cuda': float16 by default; 'cpu':
 * bfloat16): ops on its list run in the lower precision, the numerically sensitive ones in
 * float32. The previous state comes back after, also after a throw; regions nest, and
 * `enabled: false` makes a region inside one where it is off.
 */
export function autocast<T>(
  deviceType: 'cuda' | 'cpu', fn: () => T,
  opts: { dtype?: DType; enabled?: boolean } = {},
): T {
  const dtype = opts.dtype ?? (deviceType === 'cuda' ? 'float16' : 'bfloat16');
  const [wasEnabled, previousDtype] = native.autocastEnter(deviceType, dtype, opts.enabled ?? true);
  try {
    return fn();
  } finally {
    native.autocastExit(deviceType, wasEnabled, previousDtype);
  }
}

export interface GradScalerOptions {
  initScale: number;
  growthFactor: number;
  backoffFactor: number;
  /** Steps without an overflow after which the scale grows. */
  growthInterval: number;
}

/** The autocast device type of a tensor's device ('cuda:0' → 'cuda'). */
export function deviceTypeOf(t: Tensor): 'cuda' | 'cpu' {
  return t.device.startsWith('cuda') ? 'cuda' : 'cpu';
}

/**
 * Dynamic loss scaling: losses are multiplied by the scale before backward so that small float16
 * gradients do not flush to zero; the gradients are divided back before the step, and a step whose
 * gradients overflowed (inf or NaN) is skipped and the scale halved. After growthInterval clean
 * steps the scale doubles. PyTorch's GradScaler defaults.
 */
export class GradScaler {
  scale: number;
  readonly opts: GradScalerOptions;
  #cleanSteps = 0;
  #overflowThisStep = false;

  constructor(opts: Partial<GradScalerOptions> = {}) {
    this.opts = { initScale: 2 ** 16, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000, ...opts };
    this.scale = this.opts.initScale;
  }

  /** The loss times the scale, to back-propagate. */
  scaleLoss(loss: Tensor): Tensor {
    return loss.mul(this.scale);
  }

  /**
   * Divides the gradients of these parameters by the scale, in place, and says whether they are
   * all finite. Returns false (and the caller skips the step) on an overflow.
   */
  unscale(params: readonly Tensor[]): boolean {
    const inverse = 1 / this.scale;
    const finite = noGrad(() => tidy(() => {
      let nonFinite: Tensor | null = null;
      for (const p of params) {
        const g = p.grad;
        if (g === null) continue;
        g.mul_(inverse);
        const bad = (callOp('isfinite', [g]) as Tensor).logicalNot().any();
        nonFinite = nonFinite === null ? bad : nonFinite.logicalOr(bad);
      }
      return nonFinite === null || !nonFinite.item();
    }));
    if (!finite) this.#overflowThisStep = true;
    return finite;
  }

  /** After the step(s) of an iteration: halves the scale after an overflow, grows it after a clean run. */
  update(): void {
    if (this.#overflowThisStep) {
      this.scale *= this.opts.backoffFactor;
      this.#cleanSteps = 0;
    } else if (++this.#cleanSteps >= this.opts.growthInterval) {
      this.scale *= this.opts.growthFactor;
      this.#cleanSteps = 0;
    }
    this.#overflowThisStep = false;
  }
}
