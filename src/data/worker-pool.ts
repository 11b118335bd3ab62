// Loads items on worker threads: the JavaScript half of loading (bicubic resizing, crops, label
// checks, normalising) then runs beside the training step instead of between its ops. sharp's
// decoding already runs off the main thread; this moves the rest.
import { Worker } from 'node:worker_threads';
import { spawnSiblingWorker } from '../util/worker.js';
import type { AlignedDataset, DataItem } from './dataset.js';
import { DataError } from './errors.js';
import type { ItemSource } from './loader.js';
import type { LoadReply, LoadRequest, WorkerInit } from './load-worker.js';

function spawnLoadWorker(init: WorkerInit): Worker {
  return spawnSiblingWorker(import.meta.url, 'load-worker', init);
}

interface Pending {
  resolve: (item: DataItem) => void;
  reject: (e: Error) => void;
}

/** An ItemSource that runs `dataset.load` on `workers` threads. Call close() when done. */
export class WorkerPool implements ItemSource<DataItem> {
  readonly size: number;
  private readonly workers: Worker[] = [];
  private readonly busy: number[] = [];
  private readonly pending = new Map<number, Pending & { worker: number }>();
  private nextId = 0;
  private closed = false;

  constructor(dataset: AlignedDataset, workers: number) {
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers must be a positive integer; got ${workers}`);
    this.size = dataset.size;
    const init: WorkerInit = { options: dataset.options, layout: dataset.layout, entries: [...dataset.entries] };
    for (let w = 0; w < workers; w++) {
      const worker = spawnLoadWorker(init);
      worker.unref(); // an idle pool never keeps the process alive
      worker.on('message', (reply: LoadReply) => this.settle(reply));
      worker.on('error', (e) => this.fail(w, e));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(w, new Error(`data loading worker ${w} exited with code ${code}`));
      });
      this.workers.push(worker);
      this.busy.push(0);
    }
  }

  load(index: number, seed: number): Promise<DataItem> {
    if (this.closed) return Promise.reject(new Error('WorkerPool.load after close()'));
    // The least busy worker takes it.
    let w = 0;
    for (let i = 1; i < this.busy.length; i++) if ((this.busy[i] as number) < (this.busy[w] as number)) w = i;
    const id = this.nextId++;
    (this.busy[w] as number)++;
    const worker = this.workers[w] as Worker;
    worker.ref();
    return new Promise<DataItem>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: w });
      worker.postMessage({ id, index, seed } satisfies LoadRequest);
    });
  }

  private settle(reply: LoadReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    this.release(p.worker);
    if ('error' in reply) {
      const { message, files, dataError } = reply.error;
      p.reject(dataError ? new DataError(message, files) : new Error(message));
    } else p.resolve(reply.item);
  }

  private release(w: number): void {
    const left = (this.busy[w] as number) - 1;
    this.busy[w] = left;
    if (left === 0) this.workers[w]?.unref();
  }

  private fail(w: number, e: Error): void {
    for (const [id, p] of this.pending) {
      if (p.worker !== w) continue;
      this.pending.delete(id);
      this.release(w);
      p.reject(e);
    }
  }

  /** Stops the threads; loads still pending are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [, p] of this.pending) p.reject(new Error('WorkerPool closed'));
    this.pending.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
