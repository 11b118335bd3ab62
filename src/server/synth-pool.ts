// Synthesis off the main thread: a fixed set of worker threads, each holding the run's generator,
// and a bounded queue in front of them. A request that finds every worker busy and the queue full
// is refused at once (503 with Retry-After) instead of waiting without end; a queued request whose
// client went away is dropped before it costs any work; a worker that dies fails only its own
// request and is replaced (and should no worker be left, the waiting requests fail with 503 rather
// than wait for ever).
import { Worker } from 'node:worker_threads';
import { HttpError } from './limits.js';
import { spawnSiblingWorker } from '../util/worker.js';
import type { SynthJob, SynthWorkerInit, SynthWorkerMessage } from './synth-worker.js';

/** What a worker starts with: the init data, and the test gate's cells where a test gave one. */
type WorkerData = SynthWorkerInit & { synthTestGate?: Int32Array };

function spawnSynthWorker(data: WorkerData): Worker {
  return spawnSiblingWorker(import.meta.url, 'synth-worker', data);
}

/**
 * For tests only (PoolOptions.testGate; the server's command line never sets it): cells shared
 * with the workers, which look at them at the start of each job. Closed, a worker that takes a job
 * blocks before starting it until the gate opens, so a synthesis is known to be in flight for as
 * long as the test wants; `crashNext` makes the next job's worker exit in the middle of its job.
 * A new gate is open. Cells: [0] 1 while closed, [1] jobs workers have taken (entered the
 * handler), [2] exit code for the next job to exit with (0: none).
 */
export class SynthTestGate {
  readonly cells = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));

  close(): void {
    Atomics.store(this.cells, 0, 1);
  }

  open(): void {
    Atomics.store(this.cells, 0, 0);
    Atomics.notify(this.cells, 0);
  }

  /** The worker that takes the next job exits with `code` there, before answering it. */
  crashNext(code = 70): void {
    Atomics.store(this.cells, 2, code);
  }

  /** Jobs the workers have taken so far. */
  entered(): number {
    return Atomics.load(this.cells, 1);
  }

  /** Resolves once the workers have taken `n` jobs in all (waits on the counter, not on a clock). */
  async untilEntered(n: number): Promise<void> {
    const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync;
    for (;;) {
      const seen = Atomics.load(this.cells, 1);
      if (seen >= n) return;
      const w = waitAsync(this.cells, 1, seen);
      if (w.async) await w.value;
    }
  }
}

export type SynthRequest = Omit<SynthJob, 'id'>;
export interface SynthResult {
  rgb: Uint8Array;
  /** Milliseconds the worker spent on it (queueing not included). */
  ms: number;
}

interface Job {
  id: number;
  request: SynthRequest;
  resolve: (r: SynthResult) => void;
  reject: (e: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** It loaded the generator once: a later death is replaced (one that fails to load is not, or it would loop). */
  loaded: boolean;
  /** It died before loading and was not replaced: it will never take a job. */
  dead: boolean;
  /** Why it could not load, as it said. */
  failure?: string;
  job: Job | null;
}

export interface PoolOptions {
  workers: number;
  /** Requests that may wait beyond those running. */
  queue: number;
  /** Tests only: lets a test hold the workers at the start of a job, or crash one in a job (see SynthTestGate). */
  testGate?: SynthTestGate;
}

export interface PoolStats {
  workers: number;
  ready: number;
  running: number;
  queued: number;
  queueLimit: number;
  done: number;
  refused: number;
  failed: number;
  /** Mean worker milliseconds of the last requests. */
  meanMs: number | null;
}

export class SynthesisPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private nextId = 0;
  private closed = false;
  private readonly recentMs: number[] = [];
  private counts = { done: 0, refused: 0, failed: 0 };
  /** Why the last worker to die before loading failed (the message when none is left). */
  private lastLoss: string | null = null;
  /** Resolves when every worker has loaded the generator; rejects with the first load error. */
  readonly ready: Promise<void>;

  constructor(private readonly init: SynthWorkerInit, private readonly opts: PoolOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new Error(`workers must be a positive integer; got ${opts.workers}`);
    if (!Number.isInteger(opts.queue) || opts.queue < 0) throw new Error(`queue must be a non-negative integer; got ${opts.queue}`);
    const starts: Promise<void>[] = [];
    for (let i = 0; i < opts.workers; i++) starts.push(this.spawn(i));
    this.ready = Promise.all(starts).then(() => undefined);
    this.ready.catch(() => undefined); // observed by whoever awaits it
  }

  private spawn(index: number): Promise<void> {
    const worker = spawnSynthWorker(this.opts.testGate ? { ...this.init, synthTestGate: this.opts.testGate.cells } : this.init);
    const slot: Slot = { worker, ready: false, loaded: false, dead: false, job: null };
    this.slots[index] = slot;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: SynthWorkerMessage) => {
        if (m.type === 'ready') {
          slot.ready = true;
          slot.loaded = true;
          resolve();
          this.dispatch();
        } else if (m.type === 'failed') {
          slot.failure = m.message;
          reject(new Error(m.message));
          void worker.terminate();
        } else this.settle(slot, m);
      });
      worker.on('error', (e) => {
        reject(e);
        this.lose(index, slot, e);
      });
      worker.on('exit', (code) => {
        reject(new Error(`synthesis worker exited with code ${code} while loading`));
        this.lose(index, slot, new Error(`synthesis worker exited with code ${code}`));
      });
    });
  }

  /**
   * A worker died: fail its request, start a new one in its place (unless closing). One that died
   * before loading is not replaced; when no worker is left, the waiting requests are failed rather
   * than left waiting for ever.
   */
  private lose(index: number, slot: Slot, e: Error): void {
    if (this.slots[index] !== slot) return;
    const job = slot.job;
    slot.job = null;
    slot.ready = false;
    if (job) {
      this.counts.failed++;
      job.reject(new HttpError(500, `synthesis failed: the worker stopped (${e.message}); the server is starting another`));
    }
    if (this.closed) return;
    let why = slot.failure ?? e.message;
    if (slot.loaded) {
      try {
        this.spawn(index).catch(() => undefined);
        return;
      } catch (err) {
        why = (err as Error).message; // the thread could not even start
      }
    }
    slot.dead = true;
    this.lastLoss = why;
    if (this.noWorkerLeft()) {
      const err = this.noWorkerError();
      for (const waiting of this.waiting.splice(0)) {
        if (waiting.signal && waiting.onAbort) waiting.signal.removeEventListener('abort', waiting.onAbort);
        this.counts.failed++;
        waiting.reject(err);
      }
    }
  }

  private noWorkerLeft(): boolean {
    return this.slots.length === this.opts.workers && this.slots.every((s) => s?.dead);
  }

  private noWorkerError(): HttpError {
    return new HttpError(503, `no synthesis worker is left: a replacement failed to start (${this.lastLoss ?? 'unknown error'}); restart the server`);
  }

  private settle(slot: Slot, m: Extract<SynthWorkerMessage, { id: number }>): void {
    const job = slot.job;
    slot.job = null;
    if (job && job.id === m.id) {
      if (m.type === 'done') {
        this.counts.done++;
        this.recentMs.push(m.ms);
        if (this.recentMs.length > 20) this.recentMs.shift();
        job.resolve({ rgb: m.rgb, ms: m.ms });
      } else {
        this.counts.failed++;
        job.reject(new HttpError(500, `synthesis failed: ${m.message}`));
      }
    }
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot || !slot.ready || slot.job) continue;
      const job = this.waiting.shift();
      if (!job) return;
      if (job.signal && job.onAbort) job.signal.removeEventListener('abort', job.onAbort);
      slot.job = job;
      const r = job.request;
      const transfer = [r.label.buffer, ...(r.inst ? [r.inst.buffer] : [])] as ArrayBuffer[];
      slot.worker.postMessage({ id: job.id, ...r } satisfies SynthJob, transfer);
    }
  }

  /** Seconds after which a refused request may try again: the work ahead of it, spread over the workers. */
  retryAfterSeconds(): number {
    const mean = this.meanMs() ?? 1000;
    const ahead = this.waiting.length + this.slots.filter((s) => s?.job).length;
    return Math.max(1, Math.ceil((ahead * mean) / this.opts.workers / 1000));
  }

  private meanMs(): number | null {
    return this.recentMs.length ? this.recentMs.reduce((a, b) => a + b, 0) / this.recentMs.length : null;
  }

  /**
   * Runs one synthesis. Rejects with HttpError 503 (and Retry-After) when the queue is full, and
   * with an AbortError when `signal` aborts while the request still waits.
   */
  run(request: SynthRequest, signal?: AbortSignal): Promise<SynthResult> {
    if (this.closed) return Promise.reject(new HttpError(503, 'the server is shutting down'));
    if (this.noWorkerLeft()) return Promise.reject(this.noWorkerError());
    const idle = this.slots.some((s) => s?.ready && !s.job);
    if (!idle && this.waiting.length >= this.opts.queue) {
      this.counts.refused++;
      const after = this.retryAfterSeconds();
      return Promise.reject(new HttpError(503, `busy: ${this.opts.workers} synthesis worker(s) running and ${this.waiting.length} request(s) queued; try again in ${after} s`, { 'Retry-After': String(after) }));
    }
    return new Promise<SynthResult>((resolve, reject) => {
      const job: Job = { id: this.nextId++, request, resolve, reject, ...(signal ? { signal } : {}) };
      if (signal) {
        job.onAbort = () => {
          const i = this.waiting.indexOf(job);
          if (i >= 0) {
            this.waiting.splice(i, 1);
            reject(Object.assign(new Error('the request was cancelled while it waited'), { name: 'AbortError' }));
          }
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.waiting.push(job);
      this.dispatch();
    });
  }

  stats(): PoolStats {
    return {
      workers: this.opts.workers, ready: this.slots.filter((s) => s?.ready).length, running: this.slots.filter((s) => s?.job).length,
      queued: this.waiting.length, queueLimit: this.opts.queue, ...this.counts, meanMs: this.meanMs(),
    };
  }

  /**
   * Stops the workers: waiting requests are rejected, running ones finish first (up to
   * `graceMs`). A worker is never terminated inside a libtorch call: the binding's environment
   * going away under a running op aborts the whole process.
   */
  async close(graceMs = 60_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new HttpError(503, 'the server is shutting down');
    for (const job of this.waiting.splice(0)) job.reject(err);
    const deadline = Date.now() + graceMs;
    while (this.slots.some((s) => s?.job) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await Promise.all(this.slots.map((s) => s?.worker.terminate()));
  }
}
