// The data layer's options: the official pix2pixHD names (snake_case and its few camelCase ones)
// and defaults, so a command line written for the official code means the same thing here.

export type ResizeOrCrop = 'resize_and_crop' | 'crop' | 'scale_width' | 'scale_width_and_crop' | 'none';
export const RESIZE_OR_CROP_MODES: readonly ResizeOrCrop[] = ['resize_and_crop', 'crop', 'scale_width', 'scale_width_and_crop', 'none'];

/** Which folder layout a data set uses; 'auto' picks the one that is there. */
export type DatasetLayout = 'auto' | 'official' | 'cityscapes';

export interface DataOptions {
  /** The data set's root folder. */
  dataroot: string;
  /** Which part: train, test, val, … Official layout: `{phase}_label/` etc.; Cityscapes: `gtFine/{phase}/`. */
  phase: string;
  /** Number of label classes; 0 means the label folder holds RGB images (edges, depth, pose) used as they are. */
  label_nc: number;
  /** resize_and_crop | crop | scale_width | scale_width_and_crop | none (see transforms.ts). */
  resize_or_crop: ResizeOrCrop;
  /** Scale images to this size (width for scale_width*, both sides for resize_and_crop). */
  loadSize: number;
  /** Then crop a fineSize × fineSize square (modes with 'crop'). */
  fineSize: number;
  /** No random horizontal flips (flips only ever happen when isTrain). */
  no_flip: boolean;
  /** Take items in order instead of shuffling each epoch. */
  serial_batches: boolean;
  batchSize: number;
  /** Use only the first max_dataset_size items (sorted by label file name). */
  max_dataset_size: number;
  /** Do not load instance maps. */
  no_instance: boolean;
  /** Load precomputed feature maps from `{phase}_feat/` (official layout). */
  load_features: boolean;
  /** Load the real photos at test time too (to encode their features). */
  use_encoded_image: boolean;
  /** With resize_or_crop 'none', sizes round to a multiple of 2^n_downsample_global … */
  n_downsample_global: number;
  /** … times 2^n_local_enhancers when netG is 'local'. */
  netG: 'global' | 'local';
  n_local_enhancers: number;
  /** Training: photos are required and flips are on (unless no_flip). */
  isTrain: boolean;
  /** Seed for shuffles, crop offsets and flips. */
  seed: number;
  /** Batches decoded ahead of the consumer (the official option name for loader workers; 0 acts as 1). */
  nThreads: number;
  /**
   * (pix2pixhd-ts) Worker threads that load items (decode, resize, crop, normalise), so that the
   * main thread only runs the training step; 0 loads on the main thread (sharp still decodes on
   * its thread pool). Worth it on a GPU, where the step is short.
   */
  workers: number;
  /** Folder layout, detected by default. */
  layout: DatasetLayout;
  /** Folder names (relative to dataroot, or absolute) overriding `{phase}_label`, `{phase}_inst`, `{phase}_img`, `{phase}_feat`. */
  label_dir?: string;
  inst_dir?: string;
  img_dir?: string;
  feat_dir?: string;
  /**
   * One label map given by path (test --label) instead of a data set's folders, with its instance
   * map (inst_file); read where it is, so every message names the user's own file.
   */
  label_file?: string;
  inst_file?: string;
}

export const DEFAULT_DATA_OPTIONS: Readonly<DataOptions> = Object.freeze({
  dataroot: './datasets/cityscapes/',
  phase: 'train',
  label_nc: 35,
  resize_or_crop: 'scale_width',
  loadSize: 1024,
  fineSize: 512,
  no_flip: false,
  serial_batches: false,
  batchSize: 1,
  max_dataset_size: Number.POSITIVE_INFINITY,
  no_instance: false,
  load_features: false,
  use_encoded_image: false,
  n_downsample_global: 4,
  netG: 'global',
  n_local_enhancers: 1,
  isTrain: true,
  seed: 0,
  nThreads: 2,
  workers: 0,
  layout: 'auto',
});

/** Fills in defaults and rejects values that cannot work, with the option's name in the message. */
export function resolveDataOptions(partial: Partial<DataOptions>): DataOptions {
  const o: DataOptions = { ...DEFAULT_DATA_OPTIONS };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  if (!RESIZE_OR_CROP_MODES.includes(o.resize_or_crop)) {
    throw new Error(`resize_or_crop must be one of ${RESIZE_OR_CROP_MODES.join(', ')}; got '${String(o.resize_or_crop)}'`);
  }
  if (o.netG !== 'global' && o.netG !== 'local') throw new Error(`netG must be 'global' or 'local'; got '${String(o.netG)}'`);
  if (!['auto', 'official', 'cityscapes'].includes(o.layout)) throw new Error(`layout must be auto, official or cityscapes; got '${String(o.layout)}'`);
  positiveInt('loadSize', o.loadSize);
  positiveInt('fineSize', o.fineSize);
  positiveInt('batchSize', o.batchSize);
  nonNegativeInt('nThreads', o.nThreads);
  nonNegativeInt('workers', o.workers);
  nonNegativeInt('label_nc', o.label_nc);
  nonNegativeInt('n_downsample_global', o.n_downsample_global);
  nonNegativeInt('n_local_enhancers', o.n_local_enhancers);
  if (!(o.max_dataset_size >= 1)) throw new Error(`max_dataset_size must be at least 1; got ${o.max_dataset_size}`);
  if (!Number.isInteger(o.seed)) throw new Error(`seed must be an integer; got ${o.seed}`);
  return o;
}

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer; got ${v}`);
}
function nonNegativeInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be a non-negative integer; got ${v}`);
}
