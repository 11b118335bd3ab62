// Every command-line option, with the official pix2pixHD names and defaults (so its scripts'
// command lines work here), plus this project's own (seed, threads, device, …), marked as such.
export type OptionValue = number | string | boolean;
export type OptionKind = 'int' | 'float' | 'string' | 'flag';
/** Which commands take an option: base options go to every model command. */
export type OptionGroup = 'base' | 'train' | 'test' | 'serve' | 'features';

export interface OptionDef {
  name: string;
  kind: OptionKind;
  default: OptionValue;
  help: string;
  groups: readonly OptionGroup[];
  choices?: readonly string[];
  /** Part of the network's shape: saved with the run and checked against explicit values. */
  architecture?: boolean;
  /**
   * The values a numeric option can take, checked by the parser so that a bad value is refused
   * with the option's name before it reaches libtorch (whose messages name neither) or trains
   * silently wrong. Bounds are inclusive but for `below` (beta1 < 1). Only values the official
   * code cannot use are refused.
   */
  range?: NumericRange;
  /** For a string option: why a value cannot be used (undefined when it can), checked by the parser. */
  check?: (value: string) => string | undefined;
}

export interface NumericRange {
  min?: number;
  max?: number;
  /** Exclusive upper bound. */
  below?: number;
  /** Exclusive lower bound. */
  above?: number;
}

/**
 * A run's name is one folder inside checkpoints_dir (and results_dir): a name with a path
 * separator or '..' would put the run, and everything it writes, somewhere else.
 */
export function runNameProblem(name: string): string | undefined {
  if (name === '' || name.trim() === '') return 'the run\'s name is empty';
  if (/[\\/]/.test(name)) return `'${name}' holds a path separator: a run's name is one folder inside --checkpoints_dir (give the parent folder as --checkpoints_dir)`;
  if (name === '.' || name === '..') return `'${name}' is not a folder name inside --checkpoints_dir`;
  if (name.includes('\0')) return 'the run\'s name holds a NUL character';
  return undefined;
}

const B: OptionGroup[] = ['base'];
const T: OptionGroup[] = ['train'];
const TS: OptionGroup[] = ['test', 'serve'];

function o(name: string, kind: OptionKind, def: OptionValue, help: string, groups: readonly OptionGroup[], extra: Partial<OptionDef> = {}): OptionDef {
  return { name, kind, default: def, help, groups, ...extra };
}
const arch = { architecture: true };
// Ranges (see OptionDef.range), shared by the options they describe.
const atLeast1 = { range: { min: 1 } };
const atLeast0 = { range: { min: 0 } };
const archAtLeast1 = { ...arch, ...atLeast1 };
const archAtLeast0 = { ...arch, ...atLeast0 };

export const OPTION_DEFS: readonly OptionDef[] = [
  // experiment
  o('name', 'string', 'label2city', 'name of the run: its checkpoints, options and pages go to checkpoints_dir/name', B, { check: runNameProblem }),
  o('checkpoints_dir', 'string', './checkpoints', 'where runs are kept', B),
  o('gpu_ids', 'string', '-1', "official option: '-1' for CPU, '0' for the first CUDA device; train: '0,1,…' trains with one rank per listed device", B),
  o('model', 'string', 'pix2pixHD', 'official option; only pix2pixHD exists', B, { choices: ['pix2pixHD'] }),
  o('norm', 'string', 'instance', 'normalisation layers: instance or batch', B, { choices: ['instance', 'batch'], ...arch }),
  o('use_dropout', 'flag', false, 'official option, unused by pix2pixHD\'s generators', B),
  o('data_type', 'int', 32, 'test: 32 full precision; 16 half precision (float16 autocast, CUDA only); 8 (TensorRT, official code only) is refused', B, { choices: ['8', '16', '32'] }),
  o('verbose', 'flag', false, 'print the networks (layers and parameter counts) before training or testing', B),
  o('fp16', 'flag', false, 'mixed precision on CUDA: float16 autocast with dynamic loss scaling (an error on the CPU); export and test --export_onnx: float16 weights', B),
  o('local_rank', 'int', 0, 'official option, unused: a rank reads LOCAL_RANK from the environment (torchrun, Slurm)', B),
  // data-parallel training (this project's)
  o('nproc_per_node', 'int', 0, 'this project: train with N ranks on this machine (spawned here; torchrun and srun start ranks themselves); 0: one process, or one rank per --gpu_ids device', T),
  o('dist_backend', 'string', 'auto', 'this project: c10d process group across ranks: gloo (CPU tensors), nccl (CUDA tensors), auto (nccl on CUDA where built, else gloo)', T, { choices: ['auto', 'gloo', 'nccl'] }),
  o('dist_timeout', 'float', 300, 'this project: seconds a rank waits for the others (joining, or in a gradient all-reduce) before the job stops naming the rank that was lost', T),
  o('bucket_cap_mb', 'float', 25, 'this project: MB of gradients per all-reduce bucket (DDP\'s bucket_cap_mb); a bucket starts reducing as soon as the backward pass has filled it', T),
  // sizes
  o('batchSize', 'int', 1, 'input batch size (with several ranks: the whole batch, split evenly among them)', B, atLeast1),
  o('loadSize', 'int', 1024, 'scale images to this size', B, atLeast1),
  o('fineSize', 'int', 512, 'then crop to this size', B, atLeast1),
  o('label_nc', 'int', 35, 'number of label classes (0: the input is an image used as is)', B, archAtLeast0),
  o('input_nc', 'int', 3, 'input image channels when label_nc is 0', B, archAtLeast1),
  o('output_nc', 'int', 3, 'output image channels', B, archAtLeast1),
  // data
  o('dataroot', 'string', './datasets/cityscapes/', 'the data set: the official layout (train_label/, train_img/, …) or Cityscapes\' own (gtFine/, leftImg8bit/)', B),
  o('resize_or_crop', 'string', 'scale_width', 'scaling and cropping at load time', B, { choices: ['resize_and_crop', 'crop', 'scale_width', 'scale_width_and_crop', 'none'] }),
  o('serial_batches', 'flag', false, 'take images in order instead of shuffled', B),
  o('no_flip', 'flag', false, 'do not flip images horizontally when training', B),
  o('nThreads', 'int', 2, 'batches decoded ahead of the training step', B, atLeast0),
  o('max_dataset_size', 'int', Number.POSITIVE_INFINITY, 'use at most this many images', B, atLeast1),
  o('display_winsize', 'int', 512, 'width at which the training and results pages show images', B, atLeast1),
  o('tf_log', 'flag', false, 'official option, unused (losses go to loss_log.jsonl)', B),
  // generator
  o('netG', 'string', 'global', 'generator: global (G1) or local (G1 + local enhancers)', B, { choices: ['global', 'local'], ...arch }),
  o('ngf', 'int', 64, 'generator filters in the first conv layer', B, archAtLeast1),
  o('n_downsample_global', 'int', 4, 'downsampling layers in G1', B, archAtLeast0),
  o('n_blocks_global', 'int', 9, 'residual blocks in G1', B, archAtLeast0),
  o('n_blocks_local', 'int', 3, 'residual blocks in each local enhancer', B, archAtLeast0),
  o('n_local_enhancers', 'int', 1, 'number of local enhancers', B, archAtLeast0),
  o('niter_fix_global', 'int', 0, 'epochs in which only the outermost local enhancer trains', B, atLeast0),
  // instance features
  o('no_instance', 'flag', false, 'do not add the instance boundary map to the input', B, arch),
  o('instance_feat', 'flag', false, 'add encoded instance features to the input', B, arch),
  o('label_feat', 'flag', false, 'add encoded label features to the input', B, arch),
  o('feat_num', 'int', 3, 'length of the encoded feature vectors', B, archAtLeast1),
  o('load_features', 'flag', false, 'use precomputed feature maps ({phase}_feat/)', B),
  o('n_downsample_E', 'int', 4, 'downsampling layers in the encoder', B, archAtLeast0),
  o('nef', 'int', 16, 'encoder filters in the first conv layer', B, archAtLeast1),
  o('n_clusters', 'int', 10, 'clusters per class for feature styles', B, atLeast1),
  // this project's own
  o('seed', 'int', 0, '(pix2pixhd-ts) random seed for weights, data order, crops and flips', B),
  o('threads', 'int', 0, '(pix2pixhd-ts) libtorch threads; 0 = all cores', B, atLeast0),
  o('vgg_weights', 'string', '', '(pix2pixhd-ts) torchvision vgg19 .pth for the VGG loss (default: $TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth)', B),
  // training
  o('display_freq', 'int', 100, 'iterations between updates of the HTML page of samples', T, atLeast0),
  o('print_freq', 'int', 100, 'iterations between loss log lines', T, atLeast0),
  o('save_latest_freq', 'int', 1000, 'iterations between saves of the latest checkpoint', T, atLeast0),
  o('save_epoch_freq', 'int', 10, 'epochs between numbered checkpoints', T, atLeast0),
  o('no_html', 'flag', false, 'do not write the HTML page of samples', T),
  o('debug', 'flag', false, 'one epoch of at most 10 images, pages every iteration', T),
  o('continue_train', 'flag', false, 'resume from the latest checkpoint', T),
  o('load_pretrain', 'string', '', 'a run folder whose G1 (netG global) starts this run\'s G2 training', T),
  o('which_epoch', 'string', 'latest', 'which checkpoint to load: latest or an epoch number', [...T, ...TS, 'features']),
  o('phase', 'string', 'train', 'which part of the data set: train, test, val, … (test: test)', [...T, ...TS, 'features']),
  o('niter', 'int', 100, 'epochs at the initial learning rate', T, atLeast0),
  o('niter_decay', 'int', 100, 'epochs of linear decay of the learning rate to zero', T, atLeast0),
  o('beta1', 'float', 0.5, 'Adam\'s first momentum term', T, { range: { min: 0, below: 1 } }),
  o('lr', 'float', 0.0002, 'initial learning rate', T, atLeast0),
  o('num_D', 'int', 2, 'number of discriminators (scales)', T, archAtLeast1),
  o('n_layers_D', 'int', 3, 'layers of each discriminator', T, archAtLeast1),
  o('ndf', 'int', 64, 'discriminator filters in the first conv layer', T, archAtLeast1),
  o('lambda_feat', 'float', 10.0, 'weight of the feature matching losses', T, atLeast0),
  o('no_ganFeat_loss', 'flag', false, 'no discriminator feature matching loss', T),
  o('no_vgg_loss', 'flag', false, 'no VGG perceptual loss', T),
  o('recompute_blocks', 'flag', false, '(pix2pixhd-ts) keep only the inputs of G\'s residual blocks in the forward and recompute the blocks in the backward: less memory (see the estimate printed before training), one more forward of the blocks, the same weights; not with --norm batch or several ranks', T),
  o('recompute_vgg', 'flag', false, '(pix2pixhd-ts) keep only the five VGG feature maps of the fake for the VGG loss and recompute the rest in the backward: less memory, one more VGG forward, the same weights; not with several ranks', T),
  o('D_real_first', 'flag', false, '(pix2pixhd-ts) back-propagate D\'s loss on the real image before G runs, so that pass\'s graph is freed before the rest is built: less memory, the same weights; not with several ranks', T),
  o('no_lsgan', 'flag', false, 'vanilla GAN (BCE) instead of least squares', T, arch),
  o('pool_size', 'int', 0, 'size of the buffer of generated images shown to D', T, atLeast0),
    o('spectral_norm', 'string', 'none', '(pix2pixhd-ts) spectral normalisation (saved as PyTorch\'s weight_orig/weight_u/weight_v) of every conv of D, of G\'s convs but its output layer (as SPADE), or both: none, D, G or both', T, { choices: ['none', 'D', 'G', 'both'], ...arch }),
  o('gan_mode', 'string', 'official', '(pix2pixhd-ts) adversarial loss: official (LSGAN, or vanilla with --no_lsgan) or hinge (SPADE\'s)', T, { choices: ['official', 'hinge'] }),
  o('eval_freq', 'int', 0, '(pix2pixhd-ts) every this many epochs, the segmentation score (mean IoU) of G on --eval_phase, logged to eval_log.jsonl; the best G is kept as best_net_G.pth. 0: never', T, atLeast0),
  o('eval_phase', 'string', 'test', '(pix2pixhd-ts) the held-out phase --eval_freq scores', T),
  o('eval_how_many', 'int', 20, '(pix2pixhd-ts) images --eval_freq scores', T, atLeast1),
  o('ema', 'float', 0, '(pix2pixhd-ts) keep a moving average of G\'s weights with this decay (e.g. 0.999), saved as {which}_net_G_ema.pth; 0: none', T, { range: { min: 0, below: 1 } }),
  o('lr_D', 'float', 0, '(pix2pixhd-ts) D\'s initial learning rate, for two time-scale updates (TTUR); 0: the same as --lr. Decays on the same schedule', T, atLeast0),
  // testing
  o('ntest', 'int', Number.POSITIVE_INFINITY, 'official option: number of test examples', TS, atLeast0),
  o('results_dir', 'string', './results/', 'where test results go', TS),
  o('aspect_ratio', 'float', 1.0, 'test: result images are saved stretched to this width/height ratio (above 1 wider, below 1 taller; bicubic)', TS, { range: { above: 0 } }),
  o('how_many', 'int', 50, 'how many test images to run', TS, atLeast0),
  o('cluster_path', 'string', 'features_clustered_010.npy', 'clustered features: our JSON or the official .npy', [...TS, 'features']),
  o('use_encoded_image', 'flag', false, 'encode the real photo to get the feature map', TS),
  o('use_ema', 'flag', false, '(pix2pixhd-ts) test/eval/serve: synthesise with the moving average of G\'s weights (a run trained with --ema)', TS),
  o('export_onnx', 'string', '', 'test: write G as an ONNX model to this .onnx path and stop (see pix2pixhd export)', ['test']),
  o('onnx', 'string', '', 'the .onnx model: export writes it; test synthesises with it through onnxruntime-node instead of libtorch', ['test']),
];

export const OPTIONS_BY_NAME: ReadonlyMap<string, OptionDef> = new Map(OPTION_DEFS.map((d) => [d.name, d]));

export function defaultsFor(groups: readonly OptionGroup[]): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  for (const d of OPTION_DEFS) if (d.groups.some((g) => groups.includes(g))) out[d.name] = d.default;
  return out;
}
