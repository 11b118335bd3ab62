// What Adam and SGD share: parameter groups with their own hyper-parameters (the lr can be
// changed between steps), gradient clearing, and per-parameter state addressed by the
// parameter's index across all groups, as PyTorch's optimizer state dicts do.
import { backward, type BackwardFunction, noGrad } from '../autograd.js';
import { tidy } from '../scope.js';
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

  /** Updates every parameter that has a gradient, from that gradient (optimizer.step()). */
  step(): void {
    noGrad(() => {
      for (const [i, p, h] of this.indexed()) {
        tidy(() => {
          const grad = p.grad;
          if (grad !== null) this.updateParam(i, p, grad, h);
        });
      }
    });
  }

  /**
   * zero_grad(), loss.backward() into this optimizer's trainable parameters only, and step(), with
   * the same arithmetic, but each parameter is updated inside the backward pass as soon as its
   * gradient is complete, and no gradient is kept. That saves one buffer the size of the
   * parameters (for pix2pixHD's generator, hundreds of MB of peak memory) and the passes that
   * zero and accumulate it. A parameter's gradient is complete only once every use of it in the
   * graph has been back-propagated, so updating it then changes nothing the backward still needs
   * — unless the graph is retained and back-propagated again, which this does not allow.
   * Here the update is a JS callback, so on other devices than the CPU (whose gradients the engine
   * finishes on its own device threads) it falls back to the three steps; Adam overrides this
   * with a native update that runs on any device. `backwardFn` replaces autograd's backward (a
   * Recomputation's, when the forward recorded checkpointed segments).
   */
  backwardAndStep(loss: Tensor, backwardFn: BackwardFunction = backward): void {
    const params: Tensor[] = [];
    const where: [number, H][] = [];
    for (const [i, p, h] of this.indexed()) {
      if (!p.requiresGrad) continue;
      params.push(p);
      where.push([i, h]);
    }
    this.zeroGrad(true);
    if (params.length === 0) return;
    if (params.some((p) => p.device !== 'cpu')) {
      backwardFn([loss], null, { inputs: params });
      this.step();
      return;
    }
    backwardFn([loss], null, {
      inputs: params,
      onGrad: (k, grad) => noGrad(() => this.updateParam(where[k]![0], params[k]!, grad, where[k]![1])),
    });
  }

  /** Every parameter with its index in state-dict order. */
  protected *indexed(): Generator<[number, Tensor, H]> {
    let i = 0;
    for (const g of this.paramGroups) for (const p of g.params) yield [i++, p, g.hyper];
  }

  /** One parameter's update from its gradient (run under noGrad, in a tidy scope). */
  protected abstract updateParam(index: number, p: Tensor, grad: Tensor, hyper: H): void;
  abstract dispose(): void;
}
