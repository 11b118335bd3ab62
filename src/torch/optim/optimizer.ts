// What Adam and SGD share: parameter groups with their own hyper-parameters (the lr can be
// changed between steps), gradient clearing, and per-parameter state addressed by the
// parameter's index across all groups, as PyTorch's optimizer state dicts do.
import { noGrad } from '../autograd.js';
import type { Tensor } from '../tensor.js';

/** Zeroes a parameter's gradient in place, or drops it. */
export function clearGrad(p: Tensor, setToNone: boolean): void {
  if (setToNone) {
    p.grad = null;
    return;
  }
  const g = p.grad;
  if (g === null) return;
  noGrad(() => g.zero_());
  g.dispose();
}

export interface ParamGroup<H> {
  params: Tensor[];
  hyper: H;
}

export abstract class Optimizer<H extends { lr: number }> {
  readonly paramGroups: ParamGroup<H>[];

  constructor(groups: Tensor[] | { params: Tensor[]; hyper?: Partial<H> }[], defaults: H) {
    const list = groups.length > 0 && !('params' in groups[0]!) ? [{ params: groups as Tensor[] }] : (groups as { params: Tensor[]; hyper?: Partial<H> }[]);
    this.paramGroups = list.map((g) => ({ params: g.params, hyper: { ...defaults, ...(g.hyper ?? {}) } }));
  }

  /** Sets the learning rate of every group (linear decay schedules call this each epoch). */
  setLr(lr: number): void {
    for (const g of this.paramGroups) g.hyper.lr = lr;
  }

  get lr(): number {
    return this.paramGroups[0]?.hyper.lr ?? 0;
  }

  /**
   * Clears every parameter's gradient: zeroed in place by default, as PyTorch 1.13's
   * zero_grad(), so the buffers are reused every iteration instead of freed and reallocated
   * (for a large generator that is hundreds of MB of fresh pages per step); `setToNone` drops them.
   */
  zeroGrad(setToNone = false): void {
    for (const g of this.paramGroups) for (const p of g.params) clearGrad(p, setToNone);
  }

  /** Every parameter with its index in state-dict order. */
  protected *indexed(): Generator<[number, Tensor, H]> {
    let i = 0;
    for (const g of this.paramGroups) for (const p of g.params) yield [i++, p, g.hyper];
  }

  abstract step(): void;
  abstract dispose(): void;
}
