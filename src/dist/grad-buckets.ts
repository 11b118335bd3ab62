// Gradient averaging across ranks in buckets, as DistributedDataParallel's reducer: the
// parameters are grouped, in the reverse of their order (roughly the order in which the backward
// pass completes their gradients), into flat buffers of about `bucketBytes`; each gradient is
// copied into its bucket the moment the autograd engine has finished it (the per-parameter hook of
// T.backward's onGrad), and a bucket's all-reduce starts as soon as it is full, while the backward
// pass goes on. Buckets start strictly in order, so every rank issues the same collectives in the
// same order. After the backward, finish() waits for them and leaves each parameter's .grad as a
// view of its bucket: the average over the ranks, the same on every rank.
import { backward, noGrad, type ProcessGroup, type Tensor, type Work, zeros, keep } from '../torch/index.js';

interface Bucket {
  buffer: Tensor;
  /** Indices into the parameter list, with their offsets in the buffer. */
  slots: { param: number; offset: number; numel: number }[];
  filled: number;
  work: Work | null;
}

/** DDP's default bucket size (bucket_cap_mb 25). */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

export class GradientBuckets {
  readonly buckets: Bucket[] = [];
  private readonly where: { bucket: number; slot: number }[] = [];
  private ready: boolean[] = [];
  private launched = 0;

  constructor(private readonly group: ProcessGroup, readonly params: readonly Tensor[], bucketBytes = DEFAULT_BUCKET_BYTES) {
    if (params.length === 0) throw new Error('GradientBuckets: no parameters');
    const { dtype, device } = params[0]!;
    for (const p of params) {
      if (p.dtype !== dtype || p.device !== device) throw new Error(`GradientBuckets: parameters must share one dtype and device (${dtype} on ${device}, and ${p.dtype} on ${p.device})`);
    }
    const bytesPer = dtype === 'float64' ? 8 : dtype === 'float16' || dtype === 'bfloat16' ? 2 : 4;
    let slots: Bucket['slots'] = [];
    let numel = 0;
    const close = () => {
      this.buckets.push({ buffer: keep(zeros([numel], { dtype, device })), slots, filled: 0, work: null });
      slots = [];
      numel = 0;
    };
    for (let i = params.length - 1; i >= 0; i--) {
      const n = params[i]!.numel;
      if (slots.length > 0 && (numel + n) * bytesPer > bucketBytes) close();
      this.where[i] = { bucket: this.buckets.length, slot: slots.length };
      slots.push({ param: i, offset: numel, numel: n });
      numel += n;
    }
    close();
  }

  /**
   * Back-propagates `loss` into the parameters (whose .grad must be null), averaging their
   * gradients across the ranks while the backward runs; on return every parameter's .grad is the
   * average. On CPU parameters the all-reduces overlap with the backward; elsewhere (the hook is
   * CPU-only) they start after it.
   */
  backward(loss: Tensor, opts: { retainGraph?: boolean } = {}): void {
    this.begin();
    if (this.params[0]!.device === 'cpu') {
      backward([loss], null, { retainGraph: opts.retainGraph, inputs: this.params, onGrad: (k, grad) => this.add(k, grad) });
    } else {
      backward([loss], null, { retainGraph: opts.retainGraph, inputs: this.params });
      this.params.forEach((p, k) => {
        const g = p.grad;
        if (g === null) return;
        p.grad = null;
        this.add(k, g);
        g.dispose();
      });
    }
    this.finish();
  }

  private begin(): void {
    this.ready = this.params.map(() => false);
    this.launched = 0;
    for (const b of this.buckets) {
      b.filled = 0;
      b.work = null;
    }
    for (const p of this.params) p.grad = null;
  }

  /** One parameter's complete gradient: into its bucket; full buckets start their all-reduce in order. */
  private add(k: number, grad: Tensor): void {
    if (this.ready[k]) throw new Error(`GradientBuckets: parameter ${k} received a second gradient in one backward pass`);
    this.ready[k] = true;
    const { bucket, slot } = this.where[k]!;
    const b = this.buckets[bucket]!;
    const s = b.slots[slot]!;
    noGrad(() => {
      const view = b.buffer.narrow(0, s.offset, s.numel);
      view.copy_(grad.reshape([-1]));
      view.dispose();
    });
    b.filled++;
    this.launchReady();
  }

  private launchReady(): void {
    while (this.launched < this.buckets.length) {
      const b = this.buckets[this.launched]!;
      if (b.filled < b.slots.length) return;
      b.work = this.group.allreduce([b.buffer], 'avg');
      this.launched++;
    }
  }

  /**
   * Parameters that got no gradient this pass count as zero (as DDP with unused parameters), so
   * that every rank still reduces every bucket; then waits and hands out the averages.
   */
  private finish(): void {
    this.params.forEach((_, k) => {
      if (this.ready[k]) return;
      const { bucket, slot } = this.where[k]!;
      const b = this.buckets[bucket]!;
      const s = b.slots[slot]!;
      noGrad(() => {
        const view = b.buffer.narrow(0, s.offset, s.numel);
        view.zero_();
        view.dispose();
      });
      this.ready[k] = true;
      b.filled++;
    });
    this.launchReady();
    for (const b of this.buckets) b.work!.wait();
    noGrad(() => {
      for (const b of this.buckets) {
        for (const s of b.slots) {
          const p = this.params[s.param]!;
          const flat = b.buffer.narrow(0, s.offset, s.numel);
          const g = flat.view(p.shape);
          p.grad = g;
          flat.dispose();
          g.dispose();
        }
      }
    });
  }

  dispose(): void {
    for (const b of this.buckets) b.buffer.dispose();
    this.buckets.length = 0;
  }
}
