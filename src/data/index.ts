// The data layer: finds a data set's files, decodes and transforms them, batches them ahead of the
// trainer, and makes synthetic street scenes. It produces typed arrays (the trainer makes tensors).
//
// Options (official pix2pixHD names and defaults; see options.ts):
//   dataroot           the data set's folder                                  './datasets/cityscapes/'
//   phase              train | test | val | …                                  'train'
//   label_nc           classes; 0 = the label folder holds RGB input images    35
//   resize_or_crop     resize_and_crop | crop | scale_width | scale_width_and_crop | none   'scale_width'
//   loadSize           resize target (width, or both sides for resize_*)       1024
//   fineSize           crop size                                               512
//   no_flip            no random left-right flips (flips only when isTrain)    false
//   serial_batches     in order instead of shuffled                            false
//   batchSize                                                                  1
//   max_dataset_size   use only the first N items (sorted)                     Infinity
//   no_instance        no instance maps                                        false
//   load_features      read {phase}_feat/ feature maps                         false
//   use_encoded_image  read photos at test time                                false
//   n_downsample_global, netG, n_local_enhancers   'none' rounds sizes to 2^n_downsample_global
//                      (× 2^n_local_enhancers for netG 'local')                4, 'global', 1
//   isTrain            training (photos required, flips)                       true
//   seed               shuffles, crops, flips                                 0
//   nThreads           batches decoded ahead                                   2
//   workers            (ours) worker threads loading items; 0 = main thread    0
//   layout             auto | official | cityscapes                            'auto'
//   label_dir, inst_dir, img_dir, feat_dir   folder names instead of {phase}_label, …
//
// Typical use:
//   const { dataset, loader, close } = openData({ dataroot, label_nc: 35, batchSize: 1, seed: 1 });
//   for await (const batch of loader.epoch(epoch)) { … batch.label: Int32Array [B,H,W] … }
//   await close(); // stops the worker threads, if any
import { AlignedDataset } from './dataset.js';
import { collateItems, DataLoader, type Batch, type LoaderEvent, type LoaderOptions } from './loader.js';
import type { DataItem } from './dataset.js';
import type { DataOptions } from './options.js';
import { WorkerPool } from './worker-pool.js';

export { AlignedDataset, checkLabelIds, type DataItem } from './dataset.js';
export { DataLoader, collateItems, type Batch, type ItemSource, type LoaderEvent, type LoaderOptions } from './loader.js';
export { DEFAULT_DATA_OPTIONS, RESIZE_OR_CROP_MODES, resolveDataOptions, type DataOptions, type DatasetLayout, type ResizeOrCrop } from './options.js';
export { findDataset, listImages, pairingKey, type DatasetEntry, type FoundDataset } from './layout.js';
export { DataError } from './errors.js';
export { WorkerPool } from './worker-pool.js';
export { decodeIdMap, encodeIdPng, encodePng, readIdMap, readImageSize, readRgb, IMAGE_EXTENSIONS, type IdMap, type IdMapRole, type RgbImage, type Size } from './image-io.js';
export { applyPlan, checkGeneratorSize, smallestSide, drawParams, planTransform, rgbToNormalizedChw, roundHalfEven, sizeMultiple, type TransformParams, type TransformPlan } from './transforms.js';
export { resizeBicubic } from './resample.js';
export { deriveSeed, Rng } from '../util/rng.js';
export { CITYSCAPES_ID, CITYSCAPES_LABELS, colorizeLabel, interleavedColour, labelPalette, tensorToRgb } from './colorize.js';
export { CAR_PALETTE, renderScene, SCENE_CLASSES, SCENE_LABEL_IDS, type Scene, type SceneInstance } from './synthetic/scene.js';
export { carPaletteIndices, makeSyntheticDataset, readSyntheticMeta, sceneName, type SceneMeta, type SyntheticOptions, type SyntheticSummary } from './synthetic/dataset.js';

/** Opens a data set and its loader with one options object. */
export function openData(
  options: Partial<DataOptions>,
  onEvent?: (e: LoaderEvent) => void,
  shard: LoaderOptions['shard'] = null,
): { dataset: AlignedDataset; loader: DataLoader<DataItem, Batch>; close: () => Promise<void> } {
  const dataset = AlignedDataset.open(options);
  const o = dataset.options;
  const pool = o.workers > 0 ? new WorkerPool(dataset, o.workers) : null;
  const loader = new DataLoader<DataItem, Batch>(
    pool ?? dataset,
    // The official loader is torch's DataLoader with drop_last=False: an epoch's last, smaller batch is trained on too.
    { batchSize: o.batchSize, serial_batches: o.serial_batches, seed: o.seed, nThreads: o.nThreads, drop_last: false, shard },
    collateItems,
    onEvent,
  );
  return { dataset, loader, close: async () => pool?.close() };
}
