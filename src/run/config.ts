// One typed run configuration, built once from the parsed options (official names) and passed
// whole to the layers below, as nanoGPT passes its config; it is what opt.json stores. Every
// conversion from the option table's values happens here and nowhere else.
import { join } from 'node:path';
import type { DataOptions, ResizeOrCrop } from '../data/index.js';
import type { NetworkOptions, SpectralNormChoice } from '../models/from-options.js';
import type { OptionValue } from '../options/definitions.js';
import { OptionError } from '../options/parse.js';

export type OptionValues = Record<string, OptionValue>;

/** The networks' shapes (official names): G, E and D. */
export type NetworkConfig = Required<NetworkOptions> & { netG: 'global' | 'local' };

/** What training does beyond the networks (official names). */
export interface TrainConfig {
  batchSize: number;
  niter: number;
  niter_decay: number;
  niter_fix_global: number;
  lr: number;
  beta1: number;
  lambda_feat: number;
  no_ganFeat_loss: boolean;
  no_vgg_loss: boolean;
  pool_size: number;
  save_latest_freq: number;
  save_epoch_freq: number;
  display_freq: number;
  print_freq: number;
  no_html: boolean;
  continue_train: boolean;
  /** A run folder whose networks start this run ('' for none). */
  load_pretrain: string;
  /** torchvision's vgg19 .pth for the VGG loss ('' for the hub cache). */
  vgg_weights: string;
  debug: boolean;
  /** Mixed precision on CUDA: float16 autocast and dynamic loss scaling. */
  fp16: boolean;
  /** Recompute G's residual blocks in the backward instead of keeping their activations. */
  recompute_blocks: boolean;
  /** Recompute the VGG loss network's activations of the fake in the backward. */
  recompute_vgg: boolean;
  /** Back-propagate D's real-image loss term before G's forward (frees that graph first). */
  D_real_first: boolean;
  /** Data-parallel training: ranks to start on this machine (0: none, or one per --gpu_ids device). */
  nproc_per_node: number;
  dist_backend: 'auto' | 'gloo' | 'nccl';
  /** Seconds a rank waits for the others before the job stops. */
  dist_timeout: number;
  /** MB of gradients per all-reduce bucket. */
  bucket_cap_mb: number;
  /** 'official' (LSGAN, or vanilla with no_lsgan) or 'hinge'. */
  gan_mode: 'official' | 'hinge';
  /** D's initial learning rate (two time-scale updates); equal to lr unless given. */
  lr_D: number;
  /** Decay of the moving average of G's weights; 0: none. */
  ema: number;
}

/** What the synthesising commands (test, eval, serve, style-eval) do beyond the networks. */
export interface SynthesisConfig {
  results_dir: string;
  how_many: number;
  /** 32, or 16 (float16 autocast on CUDA). */
  data_type: number;
  /** Feature runs: the clusters file (ours or the official .npy), relative to the run folder first. */
  cluster_path: string;
  /** Feature runs: E on the real photos instead of clusters. */
  use_encoded_image: boolean;
  /** Synthesise with the moving average of G's weights ({which}_net_G_ema.pth). */
  use_ema: boolean;
  /** Pages show images this wide (the official display_winsize) … */
  display_winsize: number;
  /** … and result images are stretched to this width / height ratio when it is not 1 (the official aspect_ratio). */
  aspect_ratio: number;
}

export interface RunConfig {
  name: string;
  checkpoints_dir: string;
  /** The run folder: checkpoints_dir/name. */
  dir: string;
  /** 'latest' or an epoch number: which checkpoint to load. */
  which_epoch: string;
  seed: number;
  /** libtorch threads (0: all cores). */
  threads: number;
  /** 'cpu' or 'cuda:N' (the first of --gpu_ids). */
  device: string;
  verbose: boolean;
  network: NetworkConfig;
  /** The data set and its transforms; training and synthesis add isTrain and their batching. */
  data: Partial<DataOptions>;
  train: TrainConfig;
  synthesis: SynthesisConfig;
  /** The option values the configuration was built from (opt.txt / opt.json). */
  values: OptionValues;
}

const num = (v: OptionValues, k: string, fallback?: number): number => (v[k] === undefined && fallback !== undefined ? fallback : Number(v[k]));
const str = (v: OptionValues, k: string, fallback = ''): string => (v[k] === undefined ? fallback : String(v[k]));
const bool = (v: OptionValues, k: string): boolean => v[k] === true;

/**
 * The device --gpu_ids asks for ('cpu' or 'cuda:N'), not yet checked against the devices libtorch
 * sees: the check loads libtorch (src/run/device.ts, done by the commands that use the engine), and
 * a configuration is also built where libtorch is absent (test --onnx).
 */
export function requestedDevice(gpuIds: string): string {
  const gpu = gpuIds.split(',').map((s) => Number(s.trim())).filter((n) => n >= 0);
  return gpu.length ? `cuda:${gpu[0]}` : 'cpu';
}

function spectralNorm(s: string): SpectralNormChoice {
  if (s !== 'none' && s !== 'D' && s !== 'G' && s !== 'both') throw new OptionError(`--spectral_norm must be none, D, G or both, got '${s}'`);
  return s;
}

function networkConfig(v: OptionValues): NetworkConfig {
  const netG = str(v, 'netG', 'global');
  if (netG !== 'global' && netG !== 'local') throw new OptionError(`--netG must be global or local, got '${netG}'`);
  return {
    label_nc: num(v, 'label_nc'), input_nc: num(v, 'input_nc'), output_nc: num(v, 'output_nc'),
    netG, ngf: num(v, 'ngf'), n_downsample_global: num(v, 'n_downsample_global'), n_blocks_global: num(v, 'n_blocks_global'),
    n_blocks_local: num(v, 'n_blocks_local'), n_local_enhancers: num(v, 'n_local_enhancers'), norm: str(v, 'norm'),
    no_instance: bool(v, 'no_instance'), instance_feat: bool(v, 'instance_feat'), label_feat: bool(v, 'label_feat'),
    feat_num: num(v, 'feat_num'), nef: num(v, 'nef'), n_downsample_E: num(v, 'n_downsample_E'), load_features: bool(v, 'load_features'),
    // D's options belong to training; commands without them get the official defaults.
    ndf: num(v, 'ndf', 64), n_layers_D: num(v, 'n_layers_D', 3), num_D: num(v, 'num_D', 2), no_lsgan: bool(v, 'no_lsgan'),
    spectral_norm: spectralNorm(str(v, 'spectral_norm', 'none')),
  };
}

/**
 * The run configuration of parsed option values (after `--debug`'s overrides and the run folder's
 * saved options are applied). Pure: the device is checked and threads are applied by src/run/device.ts.
 */
export function runConfig(v: OptionValues): RunConfig {
  const network = networkConfig(v);
  return {
    name: str(v, 'name'),
    checkpoints_dir: str(v, 'checkpoints_dir'),
    dir: join(str(v, 'checkpoints_dir'), str(v, 'name')),
    which_epoch: str(v, 'which_epoch', 'latest'),
    seed: num(v, 'seed', 0),
    threads: num(v, 'threads', 0),
    device: requestedDevice(str(v, 'gpu_ids', '-1')),
    verbose: bool(v, 'verbose'),
    network,
    data: {
      dataroot: str(v, 'dataroot'), phase: str(v, 'phase', 'train'), label_nc: network.label_nc,
      resize_or_crop: str(v, 'resize_or_crop') as ResizeOrCrop, loadSize: num(v, 'loadSize'), fineSize: num(v, 'fineSize'),
      no_flip: bool(v, 'no_flip'), serial_batches: bool(v, 'serial_batches'), batchSize: num(v, 'batchSize'),
      max_dataset_size: num(v, 'max_dataset_size'), no_instance: network.no_instance, load_features: network.load_features,
      use_encoded_image: bool(v, 'use_encoded_image'), n_downsample_global: network.n_downsample_global,
      netG: network.netG, n_local_enhancers: network.n_local_enhancers, seed: num(v, 'seed', 0), nThreads: num(v, 'nThreads'),
    },
    train: {
      batchSize: num(v, 'batchSize'), niter: num(v, 'niter', 100), niter_decay: num(v, 'niter_decay', 100),
      niter_fix_global: num(v, 'niter_fix_global'), lr: num(v, 'lr', 0.0002), beta1: num(v, 'beta1', 0.5),
      lambda_feat: num(v, 'lambda_feat', 10), no_ganFeat_loss: bool(v, 'no_ganFeat_loss'), no_vgg_loss: bool(v, 'no_vgg_loss'),
      pool_size: num(v, 'pool_size', 0), save_latest_freq: num(v, 'save_latest_freq', 1000), save_epoch_freq: num(v, 'save_epoch_freq', 10),
      display_freq: num(v, 'display_freq', 100), print_freq: num(v, 'print_freq', 100), no_html: bool(v, 'no_html'),
      continue_train: bool(v, 'continue_train'), load_pretrain: str(v, 'load_pretrain'), vgg_weights: str(v, 'vgg_weights'),
      debug: bool(v, 'debug'), fp16: bool(v, 'fp16'), recompute_blocks: bool(v, 'recompute_blocks'), D_real_first: bool(v, 'D_real_first'), recompute_vgg: bool(v, 'recompute_vgg'),
      nproc_per_node: num(v, 'nproc_per_node', 0), dist_backend: str(v, 'dist_backend', 'auto') as TrainConfig['dist_backend'],
      dist_timeout: num(v, 'dist_timeout', 300), bucket_cap_mb: num(v, 'bucket_cap_mb', 25),
      gan_mode: str(v, 'gan_mode', 'official') === 'hinge' ? 'hinge' : 'official',
      lr_D: num(v, 'lr_D', 0) > 0 ? num(v, 'lr_D', 0) : num(v, 'lr', 0.0002),
      ema: num(v, 'ema', 0),
    },
    synthesis: {
      results_dir: str(v, 'results_dir', './results/'), how_many: num(v, 'how_many', 50), data_type: num(v, 'data_type', 32),
      cluster_path: str(v, 'cluster_path', 'features_clustered_010.npy'), use_encoded_image: bool(v, 'use_encoded_image'),
      use_ema: bool(v, 'use_ema'),
      display_winsize: num(v, 'display_winsize', 512), aspect_ratio: num(v, 'aspect_ratio', 1),
    },
    values: v,
  };
}

/** `--debug`: one epoch of at most 10 images, pages and logs every iteration (the official meaning). */
export function applyDebug(v: OptionValues): void {
  if (v.debug) Object.assign(v, { display_freq: 1, print_freq: 1, niter: 1, niter_decay: 0, max_dataset_size: 10 });
}

/** The data options for synthesis: in order, one at a time, no flips. */
export function synthesisData(config: RunConfig): Partial<DataOptions> {
  return { ...config.data, isTrain: false, serial_batches: true, batchSize: 1, no_flip: true };
}
