// Adam with PyTorch 1.13's arithmetic, so a training run here follows the same trajectory as the
// official implementation's. The update is native (native/src/adam.cpp): on the CPU one pass over
// memory rounding exactly as PyTorch's single-tensor op sequence; on CUDA ATen's fused multi-tensor
// kernel (`_fused_adam_`, as torch.optim.Adam(fused=True)), or its foreach ops where the libtorch
// has no fused kernel; elsewhere the op sequence itself.
import { type BackwardFunction, noGrad } from '../autograd.js';
import { zerosLike } from '../creation.js';
import { type AdamPathName, type AdamUpdateCounts, native } from '../native.js';
import { keep, tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';
import { Optimizer } from './optimizer.js';

export interface AdamHyper {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

export interface AdamParamState {
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
}

/** The optimizer's state in PyTorch's layout: state by parameter index, and the groups. */
export interface AdamStateDict {
  state: Map<number, AdamParamState>;
  paramGroups: { hyper: AdamHyper; params: number[] }[];
}

/** Adam's parameter updates on each path: the CPU kernel, ATen's `_fused_adam_`, foreach ops, the op sequence. */
export type AdamPathCounts = Omit<AdamUpdateCounts, 'fusedAdamBuilt' | 'fusedAdamMissing'>;

/** fn with Adam's updates forced onto one path where it can run (for tests and the GPU check, which compare the paths). */
export function withAdamPath<R>(path: AdamPathName, fn: () => R): R {
  const previous = native.adamPath(path);
  try {
    return fn();
  } finally {
    native.adamPath(previous);
  }
}

/** The updates done on each path while fn ran (which path an update took). */
export function adamUpdatesDuring(fn: () => void): AdamPathCounts {
  const before = native.adamUpdateCounts();
  fn();
  const after = native.adamUpdateCounts();
  return { cpuKernel: after.cpuKernel - before.cpuKernel, fusedAdam: after.fusedAdam - before.fusedAdam, foreach: after.foreach - before.foreach, ops: after.ops - before.ops };
}

/** The native calls' hyper-parameters: [step, lr, beta1, beta2, eps, weightDecay] per parameter. */
function hyperArray(entries: [number, AdamHyper][]): Float64Array {
  return new Float64Array(entries.flatMap(([step, h]) => [step, h.lr, h.betas[0], h.betas[1], h.eps, h.weightDecay]));
}

export class Adam extends Optimizer<AdamHyper> {
  readonly state = new Map<number, AdamParamState>();

  constructor(params: Tensor[] | { params: Tensor[]; hyper?: Partial<AdamHyper> }[], hyper: Partial<AdamHyper> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, ...hyper });
  }

  /**
   * Allocates the moments of every parameter now rather than at its first step (the values are
   * the same: zeros, step 0). Long-lived buffers allocated before training starts do not end up
   * interleaved with the first iteration's activations, which keeps the heap from fragmenting.
   */
  materializeState(): void {
    for (const [i, p] of this.indexed()) this.stateFor(i, p);
  }

  private stateFor(i: number, p: Tensor): AdamParamState {
    let s = this.state.get(i);
    if (!s) {
      s = { step: 0, expAvg: keep(noGrad(() => zerosLike(p))), expAvgSq: keep(noGrad(() => zerosLike(p))) };
      this.state.set(i, s);
    }
    return s;
  }

  protected updateParam(i: number, p: Tensor, grad: Tensor, h: AdamHyper): void {
    const s = this.stateFor(i, p);
    s.step += 1;
    native.adamUpdate(p.handle, grad.handle, s.expAvg.handle, s.expAvgSq.handle, s.step, h.lr, h.betas[0], h.betas[1], h.eps, h.weightDecay);
  }

  /**
   * Updates every parameter that has a gradient, all in one native call, so that CUDA parameters
   * take one multi-tensor kernel (per device, dtype and group) instead of a few kernels each.
   */
  override step(): void {
    tidy(() => {
      const entries: { p: Tensor; grad: Tensor; s: AdamParamState; h: AdamHyper }[] = [];
      for (const [i, p, h] of this.indexed()) {
        const grad = p.grad;
        if (grad !== null) entries.push({ p, grad, s: this.stateFor(i, p), h });
      }
      if (entries.length === 0) return;
      for (const e of entries) e.s.step += 1;
      native.adamStep(
        entries.map((e) => e.p.handle), entries.map((e) => e.grad.handle), entries.map((e) => e.s.expAvg.handle),
        entries.map((e) => e.s.expAvgSq.handle), hyperArray(entries.map((e) => [e.s.step, e.h])),
      );
    });
  }

  /**
   * Optimizer.backwardAndStep with the update done natively inside the backward pass (the one-pass
   * kernel on the CPU, `_fused_adam_` on one parameter at a time on CUDA, PyTorch's op sequence
   * elsewhere), so it works on CUDA too, where the engine finishes gradients on its device threads
   * and a JS callback cannot run. A parameter that gets no gradient is left as step() leaves it: no update, no step.
   */
  override backwardAndStep(loss: Tensor, backwardFn?: BackwardFunction): void {
    // A custom backward (recomputed segments, driven from TypeScript) takes the callback path.
    if (backwardFn) return super.backwardAndStep(loss, backwardFn);
    this.zeroGrad(true);
    const entries = [...this.indexed()].filter(([, p]) => p.requiresGrad);
    if (entries.length === 0) return;
    const fresh = new Set(entries.filter(([i]) => !this.state.has(i)).map(([i]) => i));
    const states = entries.map(([i, p]) => this.stateFor(i, p));
    const hyper = hyperArray(entries.map(([, , h], k) => [states[k]!.step + 1, h]));
    const updated = native.adamBackward(
      [loss.handle], null, false, entries.map(([, p]) => p.handle),
      states.map((s) => s.expAvg.handle), states.map((s) => s.expAvgSq.handle), hyper,
    );
    entries.forEach(([i], k) => {
      if (updated[k]) states[k]!.step += 1;
      else if (fresh.has(i)) this.dropState(i);
    });
  }

  private dropState(i: number): void {
    const s = this.state.get(i);
    if (!s) return;
    s.expAvg.dispose();
    s.expAvgSq.dispose();
    this.state.delete(i);
  }

  stateDict(): AdamStateDict {
    let next = 0;
    return {
      state: new Map(this.state),
      paramGroups: this.paramGroups.map((g) => ({ hyper: { ...g.hyper, betas: [...g.hyper.betas] as [number, number] }, params: g.params.map(() => next++) })),
    };
  }

  /** Restores moments, step counts and hyper-parameters (lr included) saved by stateDict(). */
  loadStateDict(sd: AdamStateDict, source = 'the optimizer state'): void {
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new Error(`${source}: ${sd.paramGroups.length} parameter groups, this optimizer has ${this.paramGroups.length}`);
    }
    sd.paramGroups.forEach((g, gi) => {
      if (g.params.length !== this.paramGroups[gi]!.params.length) {
        throw new Error(`${source}: group ${gi} has ${g.params.length} parameters, this optimizer has ${this.paramGroups[gi]!.params.length}`);
      }
    });
    const byIndex = new Map([...this.indexed()].map(([i, p]) => [i, p]));
    for (const [i, s] of sd.state) {
      const p = byIndex.get(i);
      if (!p) throw new Error(`${source}: state for parameter ${i}, which this optimizer does not have`);
      for (const [name, t] of [['exp_avg', s.expAvg], ['exp_avg_sq', s.expAvgSq]] as const) {
        if (t.shape.join(',') !== p.shape.join(',')) {
          throw new Error(`${source}: ${name} of parameter ${i} has shape [${t.shape}], the parameter [${p.shape}]`);
        }
      }
    }
    // Copy first: sd may hold this optimizer's own state tensors (opt.loadStateDict(opt.stateDict())).
    // The moments go where their parameter is, in its dtype, as PyTorch's load_state_dict casts
    // them: a checkpoint read on the CPU resumes a run on CUDA with its moments on the GPU.
    const besideParam = (t: Tensor, p: Tensor) => keep(tidy(() => t.to(p.device, { dtype: p.dtype }).clone()));
    const copies = [...sd.state].map(([i, s]) => {
      const p = byIndex.get(i)!;
      return [i, { step: s.step, expAvg: besideParam(s.expAvg, p), expAvgSq: besideParam(s.expAvgSq, p) }] as const;
    });
    this.dispose();
    for (const [i, s] of copies) this.state.set(i, s);
    sd.paramGroups.forEach((g, gi) => Object.assign(this.paramGroups[gi]!.hyper, g.hyper));
  }

  dispose(): void {
    for (const s of this.state.values()) {
      s.expAvg.dispose();
      s.expAvgSq.dispose();
    }
    this.state.clear();
  }
}
