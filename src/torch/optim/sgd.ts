// Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay,
// following PyTorch's update rule.
import { keep } from '../scope.js';
import type { Tensor } from '../tensor.js';
import { Optimizer } from './optimizer.js';

export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export class SGD extends Optimizer<SgdHyper> {
  readonly momentumBuffers = new Map<number, Tensor>();

  constructor(params: Tensor[] | { params: Tensor[]; hyper?: Partial<SgdHyper> }[], hyper: Partial<SgdHyper> = {}) {
    super(params, { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...hyper });
  }

  protected updateParam(i: number, p: Tensor, g0: Tensor, h: SgdHyper): void {
    let d = h.weightDecay !== 0 ? g0.add(p, h.weightDecay) : g0;
    if (h.momentum !== 0) {
      let buf = this.momentumBuffers.get(i);
      if (!buf) {
        buf = keep(d.clone());
        this.momentumBuffers.set(i, buf);
      } else {
        buf.mul_(h.momentum).add_(d, 1 - h.dampening);
      }
      d = h.nesterov ? d.add(buf, h.momentum) : buf;
    }
    p.add_(d, -h.lr);
  }

  dispose(): void {
    for (const b of this.momentumBuffers.values()) b.dispose();
    this.momentumBuffers.clear();
  }
}
