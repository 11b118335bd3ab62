// The data layer's loader seen as the trainer's BatchSource (items per epoch, resumable).
import { openData, type DataOptions } from '../data/index.js';
import type { DataBatch } from '../train/batch.js';
import type { BatchSource } from '../train/trainer.js';

export function trainingBatches(options: Partial<DataOptions>): BatchSource & { paths: number; sampleSize(): Promise<{ width: number; height: number }> } {
  const { dataset, loader } = openData({ ...options, isTrain: true });
  const batchSize = dataset.options.batchSize;
  return {
    size: loader.batchesPerEpoch * batchSize,
    paths: dataset.size,
    /** The training size after the transforms, from the first item (decodes it once). */
    async sampleSize() {
      const item = await dataset.load(0, 0);
      return { width: item.width, height: item.height };
    },
    async *epoch(epoch: number, skipItems: number): AsyncIterable<DataBatch> {
      let skip = Math.floor(skipItems / batchSize);
      for await (const b of loader.epoch(epoch)) {
        if (skip > 0) { skip--; continue; }
        if (!b.image) throw new Error(`no photo was loaded for ${b.paths.join(', ')}`);
        yield { label: b.label, inst: b.inst, image: b.image, feat: b.feat, batchSize: b.size, height: b.height, width: b.width, paths: b.paths };
      }
    },
  };
}
