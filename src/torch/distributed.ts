// PyTorch's c10d process groups (torch.distributed's init_process_group, all_reduce, broadcast,
// barrier) over the binding: Gloo for CPU tensors, NCCL for CUDA tensors where the build has it.
// Collectives are asynchronous (async_op=True): they return a Work whose wait() blocks until
// every rank's part is done, so communication can overlap with the backward pass.
import { native, type NativeProcessGroup, type NativeWork } from './native.js';
import type { Tensor } from './tensor.js';

export type DistBackend = 'gloo' | 'nccl';
export type ReduceOp = 'sum' | 'avg' | 'max' | 'min';

/** Which process groups this build of the binding has. */
export function distributedAvailable(): { gloo: boolean; nccl: boolean } {
  return native.distInfo();
}

/** Throws, saying what to do, when this build of the binding has no such process group. */
export function assertBackendAvailable(backend: DistBackend): void {
  if (distributedAvailable()[backend]) return;
  throw new Error(backend === 'gloo'
    ? 'distributed training is unavailable in this build: the binding was compiled without c10d\'s Gloo (on Debian: apt-get install libgloo-dev, then npm run build:native)'
    : 'the NCCL backend is unavailable in this build: the libtorch it was built against has no NCCL (a CPU build); use Gloo (CPU tensors)');
}

export interface InitProcessGroupOptions {
  backend: DistBackend;
  rank: number;
  worldSize: number;
  /** Seconds a rendezvous or a collective may wait for the other ranks before it fails. */
  timeoutSeconds: number;
  /** The rendezvous: rank 0 serves a TCPStore at host:port (torchrun's MASTER_ADDR/MASTER_PORT), or a shared file. */
  store: { kind: 'tcp'; host: string; port: number; isServer?: boolean } | { kind: 'file'; path: string };
  /** The group's keys in the store go under this prefix (a store shared with a launcher's agent). */
  prefix?: string;
}

/** A collective in flight (torch.distributed's Work). */
export class Work {
  constructor(private readonly native: NativeWork) {}
  /** Blocks until this rank's part is done; throws if a peer was lost or the timeout passed. */
  wait(): void {
    this.native.wait();
  }
  isCompleted(): boolean {
    return this.native.isCompleted();
  }
}

export class ProcessGroup {
  private constructor(private readonly group: NativeProcessGroup) {}

  /** Joins the group; returns once every rank has (or throws after the timeout). */
  static init(opts: InitProcessGroupOptions): ProcessGroup {
    assertBackendAvailable(opts.backend);
    const store = opts.store.kind === 'tcp'
      ? { store: 'tcp' as const, host: opts.store.host, port: opts.store.port, ...(opts.store.isServer === undefined ? {} : { isServer: opts.store.isServer }) }
      : { store: 'file' as const, path: opts.store.path };
    return new ProcessGroup(native.distInit({
      backend: opts.backend, rank: opts.rank, size: opts.worldSize, timeoutMs: Math.round(opts.timeoutSeconds * 1000), ...store,
      ...(opts.prefix ? { prefix: opts.prefix } : {}),
    }));
  }

  get rank(): number { return this.group.rank; }
  get size(): number { return this.group.size; }
  get backend(): string { return this.group.backend; }

  /** Reduces every rank's tensors in place (several tensors of one rank must share a shape). */
  allreduce(tensors: readonly Tensor[], op: ReduceOp = 'sum'): Work {
    return new Work(this.group.allreduce(tensors.map((t) => t.handle), op));
  }

  /**
   * Back-propagates `outputs` into `params` only and averages their gradients across the ranks in
   * flat buckets while the backward runs: each gradient is copied into its slot (`layout`: bucket,
   * offset, numel per parameter) as soon as it is complete, and a full bucket's all-reduce starts
   * at once, in bucket order (native/src/dist.cpp). On return the buckets hold the averages;
   * no parameter has a .grad. Works on every device the group's backend does.
   */
  reduceInBackward(outputs: readonly Tensor[], params: readonly Tensor[], buckets: readonly Tensor[], layout: Float64Array, opts: { retainGraph?: boolean } = {}): void {
    this.group.reduceInBackward(outputs.map((t) => t.handle), opts.retainGraph ?? false, params.map((t) => t.handle), buckets.map((t) => t.handle), layout);
  }

  /** Copies root's tensors into every rank's, in place. */
  broadcast(tensors: readonly Tensor[], root = 0): Work {
    return new Work(this.group.broadcast(tensors.map((t) => t.handle), root));
  }

  barrier(): Work {
    return new Work(this.group.barrier());
  }

  /** The rendezvous store's key-value pairs (get blocks until the key is set, up to the timeout). */
  storeSet(key: string, value: string): void {
    this.group.storeSet(key, value);
  }
  storeGet(key: string): string {
    return this.group.storeGet(key);
  }

  /** Leaves the group: its threads and connections are closed. */
  shutdown(): void {
    this.group.shutdown();
  }
}
