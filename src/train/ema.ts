// An exponential moving average of G's weights (as StyleGAN, SPADE and OASIS keep one): after each
// update, avg ← decay·avg + (1 − decay)·G for every floating-point parameter; buffers (batch-norm
// statistics) are copied as they are. The average is a generator of its own, saved beside G as
// {which}_net_G_ema.pth and synthesised with by `test --use_ema`.
import type { nn } from '../torch/index.js';
import { noGrad } from '../torch/index.js';

export class WeightAverage<M extends nn.Module> {
  /** `average` starts as a copy of `source` (same architecture, its own tensors). */
  constructor(readonly average: M, readonly decay: number, source: nn.Module) {
    if (!(decay > 0 && decay < 1)) throw new Error(`the EMA decay must be between 0 and 1 (e.g. 0.999), got ${decay}`);
    average.loadStateDict(source.stateDict(), { source: 'the generator being trained' });
    average.requiresGrad_(false).eval();
  }

  /** One step of the average towards `source`'s current weights. */
  update(source: nn.Module): void {
    const params = new Set(source.parameters());
    const mine = this.average.stateDict();
    noGrad(() => {
      for (const [k, t] of source.stateDict()) {
        const a = mine.get(k)!;
        if (params.has(t) && (t.dtype === 'float32' || t.dtype === 'float64' || t.dtype === 'float16' || t.dtype === 'bfloat16')) {
          a.mul_(this.decay).add_(t, 1 - this.decay);
        } else {
          a.copy_(t);
        }
      }
    });
  }

  dispose(): void {
    this.average.dispose();
  }
}
