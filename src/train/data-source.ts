// The data layer's loader as the trainer's batch source: a fixed number of items per epoch,
// resumable mid-epoch (the skipped batches are drawn and dropped, so the order is the same).
import { checkGeneratorSize, openData, type Batch, type DataOptions } from '../data/index.js';

/** Where the batches come from: a fixed number of items per epoch, resumable mid-epoch. */
export interface BatchSource {
  /** Items (not batches) per epoch. */
  readonly size: number;
  /** The batches of `epoch`, skipping its first `skipItems` items (resuming). */
  epoch(epoch: number, skipItems: number): AsyncIterable<Batch>;
}

export interface TrainingData extends BatchSource {
  /** Label maps found. */
  paths: number;
  /** The training size after the transforms, from the first item (decodes it once). */
  sampleSize(): Promise<{ width: number; height: number }>;
}

/**
 * The training batches. With `shard` (data-parallel training) options.batchSize is the whole batch
 * (the official meaning), split evenly across the ranks: this rank reads its share of each one;
 * sizes and skipped items still count whole batches.
 */
export function trainingBatches(options: Partial<DataOptions>, shard: { rank: number; count: number } | null = null): TrainingData {
  const whole = options.batchSize ?? 1;
  const count = shard?.count ?? 1;
  if (whole % count !== 0) {
    throw new Error(`--batchSize ${whole} is the whole batch of all ${count} ranks and must divide evenly among them: use a multiple of ${count}`);
  }
  const { dataset, loader } = openData({ ...options, batchSize: whole / count, isTrain: true }, undefined, shard);
  return {
    // One process: every item, the epoch's last smaller batch included (the official loader keeps
    // it). Data-parallel: whole batches only, so that every rank's share has the same size.
    size: shard ? loader.batchesPerEpoch * whole : dataset.size,
    paths: dataset.size,
    async sampleSize() {
      const item = await dataset.load(0, 0);
      checkGeneratorSize(item, dataset.options, item.path, { width: item.sourceWidth, height: item.sourceHeight });
      return { width: item.width, height: item.height };
    },
    async *epoch(epoch: number, skipItems: number): AsyncIterable<Batch> {
      // Whole batches are skipped, counted in items: after the last, smaller batch nothing is left.
      let skipped = 0;
      for await (const b of loader.epoch(epoch)) {
        if (skipped < skipItems) { skipped += b.size * count; continue; }
        if (!b.image) throw new Error(`no photo was loaded for ${b.paths.join(', ')}: training needs photos`);
        // G's smallest input, named by file (the data options carry G's shape: n_downsample_global, netG, …).
        checkGeneratorSize(b, dataset.options, b.paths[0]!, b.sourceSizes[0]);
        yield b;
      }
    },
  };
}
