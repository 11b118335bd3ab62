// Typed views of parsed option values for the layers below the CLI.
import type { DataOptions } from '../data/index.js';
import type { OptionValue } from '../options/definitions.js';
import type { TrainOptions } from '../train/trainer.js';
import { getNumThreads, setNumThreads, cudaDeviceCount } from '../torch/index.js';

export type Values = Record<string, OptionValue>;

const num = (v: Values, k: string): number => Number(v[k]);
const str = (v: Values, k: string): string => String(v[k]);
const bool = (v: Values, k: string): boolean => v[k] === true;

export function trainOptions(v: Values): TrainOptions {
  return {
    name: str(v, 'name'), checkpoints_dir: str(v, 'checkpoints_dir'),
    label_nc: num(v, 'label_nc'), input_nc: num(v, 'input_nc'), output_nc: num(v, 'output_nc'),
    netG: str(v, 'netG'), ngf: num(v, 'ngf'), n_downsample_global: num(v, 'n_downsample_global'), n_blocks_global: num(v, 'n_blocks_global'),
    n_blocks_local: num(v, 'n_blocks_local'), n_local_enhancers: num(v, 'n_local_enhancers'), norm: str(v, 'norm'),
    no_instance: bool(v, 'no_instance'), instance_feat: bool(v, 'instance_feat'), label_feat: bool(v, 'label_feat'),
    feat_num: num(v, 'feat_num'), nef: num(v, 'nef'), n_downsample_E: num(v, 'n_downsample_E'), load_features: bool(v, 'load_features'),
    batchSize: num(v, 'batchSize'), niter: num(v, 'niter'), niter_decay: num(v, 'niter_decay'), niter_fix_global: num(v, 'niter_fix_global'),
    lr: num(v, 'lr'), beta1: num(v, 'beta1'), lambda_feat: num(v, 'lambda_feat'), no_ganFeat_loss: bool(v, 'no_ganFeat_loss'),
    no_vgg_loss: bool(v, 'no_vgg_loss'), no_lsgan: bool(v, 'no_lsgan'), pool_size: num(v, 'pool_size'),
    ndf: num(v, 'ndf'), n_layers_D: num(v, 'n_layers_D'), num_D: num(v, 'num_D'),
    save_latest_freq: num(v, 'save_latest_freq'), save_epoch_freq: num(v, 'save_epoch_freq'),
    display_freq: num(v, 'display_freq'), print_freq: num(v, 'print_freq'),
    continue_train: bool(v, 'continue_train'), load_pretrain: str(v, 'load_pretrain'), which_epoch: str(v, 'which_epoch'),
    seed: num(v, 'seed'), vgg_weights: str(v, 'vgg_weights'), debug: bool(v, 'debug'), fp16: bool(v, 'fp16'),
  };
}

export function dataOptions(v: Values, isTrain: boolean): Partial<DataOptions> {
  return {
    dataroot: str(v, 'dataroot'), phase: str(v, 'phase'), label_nc: num(v, 'label_nc'),
    resize_or_crop: str(v, 'resize_or_crop') as DataOptions['resize_or_crop'], loadSize: num(v, 'loadSize'), fineSize: num(v, 'fineSize'),
    no_flip: bool(v, 'no_flip'), serial_batches: bool(v, 'serial_batches'), batchSize: isTrain ? num(v, 'batchSize') : 1,
    max_dataset_size: num(v, 'max_dataset_size'), no_instance: bool(v, 'no_instance'), load_features: bool(v, 'load_features'),
    use_encoded_image: bool(v, 'use_encoded_image'), n_downsample_global: num(v, 'n_downsample_global'),
    netG: str(v, 'netG') as DataOptions['netG'], n_local_enhancers: num(v, 'n_local_enhancers'),
    isTrain, seed: num(v, 'seed'), nThreads: num(v, 'nThreads'),
  };
}

/** Applies --threads and checks --gpu_ids against the devices this libtorch has. */
export function applyRuntimeOptions(v: Values): { device: string; threads: number } {
  if (num(v, 'threads') > 0) setNumThreads(num(v, 'threads'));
  const gpu = str(v, 'gpu_ids').split(',').map((s) => Number(s.trim())).filter((n) => n >= 0);
  let device = 'cpu';
  if (gpu.length) {
    const count = cudaDeviceCount();
    if (gpu[0]! >= count) {
      throw new Error(`--gpu_ids ${str(v, 'gpu_ids')}: this libtorch sees ${count} CUDA device${count === 1 ? '' : 's'}; use --gpu_ids -1 for the CPU`);
    }
    device = `cuda:${gpu[0]}`;
  }
  return { device, threads: getNumThreads() };
}
