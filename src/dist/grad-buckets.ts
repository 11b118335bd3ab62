// Gradient averaging across ranks in buckets, as DistributedDataParallel's reducer: the
// parameters are grouped, in the reverse of their order (roughly the order in which the backward
// pass completes their gradients), into flat buffers of about `bucketBytes`. The backward itself
// runs in the binding (ProcessGroup.reduceInBackward, native/src/dist.cpp): each gradient is
// copied into its bucket the moment the autograd engine has finished it, and a bucket's all-reduce
// starts as soon as it is full, while the backward pass goes on, strictly in bucket order so that
// every rank issues the same collectives in the same order; in C++, so that it works on CUDA's
// device threads too. Afterwards each parameter's .grad is a view of its bucket: the average over
// the ranks, the same on every rank.
import { noGrad, type ProcessGroup, type Tensor, zeros, keep } from '../torch/index.js';

interface Bucket {
  buffer: Tensor;
  /** Indices into the parameter list, with their offsets in the buffer. */
  slots: { param: number; offset: number; numel: number }[];
}

/** DDP's default bucket size (bucket_cap_mb 25). */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

export class GradientBuckets {
  readonly buckets: Bucket[] = [];
  /** [bucket, offset, numel] per parameter, as the binding takes it. */
  private readonly layout: Float64Array;

  constructor(private readonly group: ProcessGroup, readonly params: readonly Tensor[], bucketBytes = DEFAULT_BUCKET_BYTES) {
    if (params.length === 0) throw new Error('GradientBuckets: no parameters');
    const { dtype, device } = params[0]!;
    for (const p of params) {
      if (p.dtype !== dtype || p.device !== device) throw new Error(`GradientBuckets: parameters must share one dtype and device (${dtype} on ${device}, and ${p.dtype} on ${p.device})`);
    }
    const bytesPer = dtype === 'float64' ? 8 : dtype === 'float16' || dtype === 'bfloat16' ? 2 : 4;
    this.layout = new Float64Array(3 * params.length);
    let slots: Bucket['slots'] = [];
    let numel = 0;
    const close = () => {
      this.buckets.push({ buffer: keep(zeros([numel], { dtype, device })), slots });
      slots = [];
      numel = 0;
    };
    for (let i = params.length - 1; i >= 0; i--) {
      const n = params[i]!.numel;
      if (slots.length > 0 && (numel + n) * bytesPer > bucketBytes) close();
      this.layout.set([this.buckets.length, numel, n], 3 * i);
      slots.push({ param: i, offset: numel, numel: n });
      numel += n;
    }
    close();
  }

  /**
   * Back-propagates `loss` into the parameters, averaging their gradients across the ranks while
   * the backward runs; on return every parameter's .grad is the average. Parameters that got no
   * gradient count as zero (as DDP with unused parameters), so every rank reduces every bucket.
   */
  backward(loss: Tensor, opts: { retainGraph?: boolean } = {}): void {
    for (const p of this.params) p.grad = null;
    this.group.reduceInBackward([loss], this.params, this.buckets.map((b) => b.buffer), this.layout, opts);
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
