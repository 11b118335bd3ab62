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

export function trainingBatches(options: Partial<DataOptions>): TrainingData {
  const { dataset, loader } = openData({ ...options, isTrain: true });
  return {
    // Every item, the epoch's last smaller batch included (the official loader keeps it).
    size: dataset.size,
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
        if (skipped < skipItems) { skipped += b.size; continue; }
        if (!b.image) throw new Error(`no photo was loaded for ${b.paths.join(', ')}: training needs photos`);
        // G's smallest input, named by file (the data options carry G's shape: n_downsample_global, netG, …).
        checkGeneratorSize(b, dataset.options, b.paths[0]!, b.sourceSizes[0]);
        yield b;
      }
    },
  };
}
