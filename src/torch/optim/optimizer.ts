// What Adam and SGD share: parameter groups with their own hyper-parameters (the lr can be
// changed between steps), gradient clearing, and per-parameter state addressed by the
// parameter's index across all groups, as PyTorch's optimizer state dicts do.
import type { Tensor } from '../tensor.js';

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

  /** Drops every parameter's gradient (set to None, as zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }

  /** Every parameter with its index in state-dict order. */
  protected *indexed(): Generator<[number, Tensor, H]> {
    let i = 0;
    for (const g of this.paramGroups) for (const p of g.params) yield [i++, p, g.hyper];
  }

  abstract step(): void;
  abstract dispose(): void;
}
