// One rank of a data-parallel job: joins the process group, makes every rank start from rank 0's
// weights, averages gradients (GradientBuckets) and turns a failed collective into a message that
// names the rank that was lost.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { noGrad, ProcessGroup, type DistBackend, type nn, type Tensor } from '../torch/index.js';
import { GradientBuckets } from './grad-buckets.js';
import type { LaunchEnv } from './launch-env.js';

export interface DataParallelOptions {
  backend: DistBackend;
  /** --dist_timeout: how long a rank waits for the others, in a rendezvous or a collective. */
  timeoutSeconds: number;
  /** Bytes per gradient bucket (DDP's bucket_cap_mb); default 25 MiB. */
  bucketBytes?: number;
}

export class DataParallel {
  /** Who every rank is (host and process id), read once at the start, to name a lost rank. */
  private readonly peers: { host: string; pid: number }[] = [];
  private readonly buckets = new Map<string, GradientBuckets>();

  private constructor(readonly group: ProcessGroup, readonly env: LaunchEnv, readonly opts: DataParallelOptions) {}

  /** Joins the job's process group (blocks until every rank has joined, up to the timeout). */
  static join(env: LaunchEnv, opts: DataParallelOptions): DataParallel {
    let group: ProcessGroup;
    try {
      group = ProcessGroup.init({
        backend: opts.backend, rank: env.rank, worldSize: env.worldSize, timeoutSeconds: opts.timeoutSeconds,
        store: { kind: 'tcp', host: env.masterAddr, port: env.masterPort, isServer: env.rank === 0 && !env.agentStore },
        prefix: 'pix2pixhd/',
      });
    } catch (e) {
      throw new Error(`rank ${env.rank} of ${env.worldSize}: could not join the job at ${env.masterAddr}:${env.masterPort} within ${opts.timeoutSeconds} s (--dist_timeout): ${(e as Error).message}`);
    }
    const dp = new DataParallel(group, env, opts);
    group.storeSet(`peer/${env.rank}`, JSON.stringify({ host: hostname(), pid: process.pid }));
    for (let r = 0; r < env.worldSize; r++) dp.peers.push(JSON.parse(group.storeGet(`peer/${r}`)) as { host: string; pid: number });
    return dp;
  }

  get rank(): number { return this.env.rank; }
  get worldSize(): number { return this.env.worldSize; }
  /** Rank 0 alone writes checkpoints, logs and pages. */
  get isWriter(): boolean { return this.env.rank === 0; }

  /** Copies rank 0's parameters and buffers into every rank's (initial, loaded or resumed weights). */
  broadcastFrom0(modules: readonly (nn.Module | null | undefined)[]): void {
    this.guard(() => noGrad(() => {
      const tensors: Tensor[] = [];
      for (const m of modules) if (m) tensors.push(...m.stateDict().values());
      const works = tensors.map((t) => this.group.broadcast([t], 0));
      for (const w of works) w.wait();
    }));
  }

  /**
   * Back-propagates loss into params and leaves in their .grad the average of every rank's
   * gradients (bucketed, started during the backward). One bucket set per parameter list: G's
   * changes when G1 joins after niter_fix_global epochs.
   */
  averageGradients(loss: Tensor, params: readonly Tensor[], opts: { retainGraph?: boolean } = {}): void {
    const key = params.map((p) => p.handle.dataPtr().toString(16)).join(',');
    let b = this.buckets.get(key);
    if (!b) {
      for (const [k, old] of this.buckets) if (old.params.some((p) => params.includes(p))) { old.dispose(); this.buckets.delete(k); }
      b = new GradientBuckets(this.group, params, this.opts.bucketBytes);
      this.buckets.set(key, b);
    }
    const buckets = b;
    this.guard(() => buckets.backward(loss, opts));
  }

  /** Waits for every rank here (the end of training: no rank leaves while another still needs it). */
  barrier(): void {
    this.guard(() => this.group.barrier().wait());
  }

  /** Runs a collective step; a failure becomes an error naming the lost rank where it can be known. */
  guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw this.describeFailure(e as Error);
    }
  }

  /**
   * Which ranks are gone: those on this machine whose process no longer exists or has exited (a
   * zombie its parent has not reaped yet). A peer's sockets close while it is still exiting, so
   * this looks again for up to `graceMs` before it says that none is.
   */
  lostRanks(graceMs = 2000): number[] {
    const here = hostname();
    const deadline = performance.now() + graceMs;
    for (;;) {
      const lost = this.peers.flatMap((p, r) => (r !== this.rank && p.host === here && processGone(p.pid) ? [r] : []));
      if (lost.length > 0 || performance.now() >= deadline) return lost;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }

  private describeFailure(e: Error): Error {
    const lost = this.lostRanks();
    const who = lost.length > 0
      ? lost.map((r) => `rank ${r} (pid ${this.peers[r]!.pid} on ${this.peers[r]!.host}) is gone`).join('; ')
      : `a peer rank died or stopped responding (no rank on this machine is gone: look at the other machines' ranks)`;
    const err = new Error(`distributed training stopped on rank ${this.rank} of ${this.worldSize}: ${who}; the collective failed or waited past --dist_timeout ${this.opts.timeoutSeconds} s (${e.message.split('\n')[0]})`);
    (err as Error & { lostRanks: number[] }).lostRanks = lost;
    return err;
  }

  dispose(): void {
    for (const b of this.buckets.values()) b.dispose();
    this.buckets.clear();
    this.group.shutdown();
  }
}

/** Whether a process of this machine has ended: no such process, or a zombie (Linux's /proc). */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}
