// Batches of items, shuffled per epoch (or in order with serial_batches), decoded ahead of the
// consumer: while the trainer computes on batch k, batches k+1 … k+nThreads are being decoded
// (sharp works on libuv's thread pool, so this overlaps with the main thread's work).
//
// Everything random is derived from (seed, epoch, item), never from timing: the same seed gives
// the same order, crops and flips however far ahead the decoding runs.
import { DataError } from './errors.js';
import type { DataItem } from './dataset.js';
import type { Size } from './image-io.js';
import { deriveSeed, Rng } from '../util/rng.js';

/**
 * Anything that can load item i given the seed of its random stream: AlignedDataset, a pool of
 * worker threads running one, or a test double. A seed (not a generator) so that it can cross
 * to a worker thread.
 */
export interface ItemSource<I> {
  readonly size: number;
  load(index: number, seed: number): Promise<I>;
}

export interface LoaderOptions {
  batchSize: number;
  /** In order instead of shuffled. */
  serial_batches: boolean;
  seed: number;
  /** Batches decoded ahead of the one being consumed (0 acts as 1). */
  nThreads: number;
  /** Drop the last partial batch. The official loader (torch's DataLoader, drop_last=False) keeps it, as openData does. */
  drop_last: boolean;
  /**
   * Data-parallel training: this rank's part of every whole batch of batchSize × count items, as
   * PyTorch's DistributedSampler (same permutation on every rank, rank r takes its items r, r +
   * count, …; whole batches only). null: every item.
   */
  shard: { rank: number; count: number } | null;
}

/** What the loader is doing, for logs and tests: a batch's decoding starts, finishes, is handed over. */
export interface LoaderEvent {
  type: 'start' | 'ready' | 'yield';
  epoch: number;
  batch: number;
}

export class DataLoader<I, B> {
  readonly options: LoaderOptions;

  constructor(
    readonly source: ItemSource<I>,
    options: Partial<LoaderOptions>,
    private readonly collate: (items: I[]) => B,
    private readonly onEvent?: (e: LoaderEvent) => void,
  ) {
    this.options = { batchSize: 1, serial_batches: false, seed: 0, nThreads: 2, drop_last: false, shard: null, ...options };
    if (!Number.isInteger(this.options.batchSize) || this.options.batchSize < 1) throw new Error(`batchSize must be a positive integer; got ${this.options.batchSize}`);
    const { shard } = this.options;
    if (shard && !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.rank) && shard.rank >= 0 && shard.rank < shard.count)) {
      throw new Error(`shard: rank ${shard.rank} of ${shard.count} is not a rank of that many`);
    }
  }

  get batchesPerEpoch(): number {
    const { batchSize, drop_last, shard } = this.options;
    const n = this.source.size;
    if (shard) return Math.floor(n / (batchSize * shard.count));
    return drop_last ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  }

  /** The order in which an epoch visits the items (with a shard: this rank's items, in its order). */
  order(epoch: number): number[] {
    const n = this.source.size;
    const all = this.options.serial_batches ? Array.from({ length: n }, (_, i) => i) : new Rng(deriveSeed(this.options.seed, 'shuffle', epoch)).permutation(n);
    const { shard, batchSize } = this.options;
    if (!shard) return all;
    return all.slice(0, this.batchesPerEpoch * batchSize * shard.count).filter((_, i) => i % shard.count === shard.rank);
  }

  /** The batches of one epoch. Stop early with `break`; decodes in flight are dropped. */
  async *epoch(epoch: number): AsyncGenerator<B, void, undefined> {
    const { batchSize, seed } = this.options;
    const depth = Math.max(1, this.options.nThreads);
    const order = this.order(epoch);
    const total = this.batchesPerEpoch;
    const emit = (type: LoaderEvent['type'], batch: number): void => this.onEvent?.({ type, epoch, batch });

    const start = (b: number): Promise<B> => {
      emit('start', b);
      const indices = order.slice(b * batchSize, (b + 1) * batchSize);
      const p = Promise.all(indices.map((index) => this.source.load(index, deriveSeed(seed, 'item', epoch, index)))).then((items) => {
        emit('ready', b);
        return this.collate(items);
      });
      p.catch(() => undefined); // a failure surfaces when that batch is awaited; never as an unhandled rejection
      return p;
    };

    const inFlight: Promise<B>[] = [];
    let next = 0;
    while (next < total && inFlight.length < depth) inFlight.push(start(next++));
    for (let b = 0; b < total; b++) {
      const batch = await (inFlight.shift() as Promise<B>);
      if (next < total) inFlight.push(start(next++));
      emit('yield', b);
      yield batch;
    }
  }
}

export interface Batch {
  /** Number of items. */
  size: number;
  /** label_nc > 0: Int32Array [B, H, W] class ids; label_nc 0: Float32Array [B, 3, H, W] in [-1, 1]. */
  label: Int32Array | Float32Array;
  /** Int32Array [B, H, W] instance ids, or null (no_instance). */
  inst: Int32Array | null;
  /** Float32Array [B, 3, H, W] in [-1, 1], or null when photos are not loaded. */
  image: Float32Array | null;
  /** Float32Array [B, 3, H, W] in [-1, 1] (load_features), or null. */
  feat: Float32Array | null;
  /** The label map files. */
  paths: string[];
  imagePaths: (string | null)[];
  indices: number[];
  width: number;
  height: number;
  /** Each item's size on disk, to bring results back to it. */
  sourceSizes: Size[];
}

/** Stacks items of one size into a batch. */
export function collateItems(items: DataItem[]): Batch {
  const first = items[0];
  if (!first) throw new Error('collateItems: no items');
  const { width, height } = first;
  for (const it of items) {
    if (it.width !== width || it.height !== height) {
      throw new DataError(
        `Items of one batch must have one size: ${first.path} gives ${width}×${height}, ${it.path} gives ${it.width}×${it.height}. ` +
          'Use batchSize 1, or a resize_or_crop mode that gives every image the same size.',
        [first.path, it.path],
      );
    }
  }
  const stack = <T extends Int32Array | Float32Array>(parts: (T | null)[], what: string): T | null => {
    if (parts.every((p) => p === null)) return null;
    const firstPart = parts.find((p) => p !== null) as T;
    const n = firstPart.length;
    const out = new (firstPart.constructor as { new (n: number): T })(n * parts.length);
    parts.forEach((p, i) => {
      if (p === null || p.length !== n || p.constructor !== firstPart.constructor) {
        throw new DataError(`Items of one batch differ in their ${what}: ${items[i]?.path}`, [items[i]?.path ?? '']);
      }
      out.set(p, i * n);
    });
    return out;
  };
  return {
    size: items.length,
    label: stack(items.map((i) => i.label), 'label maps') as Int32Array | Float32Array,
    inst: stack(items.map((i) => i.inst), 'instance maps'),
    image: stack(items.map((i) => i.image), 'photos'),
    feat: stack(items.map((i) => i.feat), 'feature maps'),
    paths: items.map((i) => i.path),
    imagePaths: items.map((i) => i.imagePath),
    indices: items.map((i) => i.index),
    width,
    height,
    sourceSizes: items.map((i) => ({ width: i.sourceWidth, height: i.sourceHeight })),
  };
}
