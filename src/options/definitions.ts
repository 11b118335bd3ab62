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
}

const B: OptionGroup[] = ['base'];
const T: OptionGroup[] = ['train'];
const TS: OptionGroup[] = ['test', 'serve'];

function o(name: string, kind: OptionKind, def: OptionValue, help: string, groups: readonly OptionGroup[], extra: Partial<OptionDef> = {}): OptionDef {
  return { name, kind, default: def, help, groups, ...extra };
}
const arch = { architecture: true };

export const OPTION_DEFS: readonly OptionDef[] = [
  // experiment
  o('name', 'string', 'label2city', 'name of the run: its checkpoints, options and pages go to checkpoints_dir/name', B),
  o('checkpoints_dir', 'string', './checkpoints', 'where runs are kept', B),
  o('gpu_ids', 'string', '-1', "official option: '-1' for CPU, '0' for the first CUDA device (one device is used)", B),
  o('model', 'string', 'pix2pixHD', 'official option; only pix2pixHD exists', B, { choices: ['pix2pixHD'] }),
  o('norm', 'string', 'instance', 'normalisation layers: instance or batch', B, { choices: ['instance', 'batch'], ...arch }),
  o('use_dropout', 'flag', false, 'official option, unused by pix2pixHD\'s generators', B),
  o('data_type', 'int', 32, 'test: 32 full precision; 16 half precision (float16 autocast, CUDA only); 8 (TensorRT, official code only) is refused', B, { choices: ['8', '16', '32'] }),
  o('verbose', 'flag', false, 'print the networks (layers and parameter counts) before training or testing', B),
  o('fp16', 'flag', false, 'mixed precision on CUDA: float16 autocast with dynamic loss scaling (an error on the CPU); export and test --export_onnx: float16 weights', B),
  o('local_rank', 'int', 0, 'official option, unused (one device)', B),
  // sizes
  o('batchSize', 'int', 1, 'input batch size', B),
  o('loadSize', 'int', 1024, 'scale images to this size', B),
  o('fineSize', 'int', 512, 'then crop to this size', B),
  o('label_nc', 'int', 35, 'number of label classes (0: the input is an image used as is)', B, arch),
  o('input_nc', 'int', 3, 'input image channels when label_nc is 0', B, arch),
  o('output_nc', 'int', 3, 'output image channels', B, arch),
  // data
  o('dataroot', 'string', './datasets/cityscapes/', 'the data set: the official layout (train_label/, train_img/, …) or Cityscapes\' own (gtFine/, leftImg8bit/)', B),
  o('resize_or_crop', 'string', 'scale_width', 'scaling and cropping at load time', B, { choices: ['resize_and_crop', 'crop', 'scale_width', 'scale_width_and_crop', 'none'] }),
  o('serial_batches', 'flag', false, 'take images in order instead of shuffled', B),
  o('no_flip', 'flag', false, 'do not flip images horizontally when training', B),
  o('nThreads', 'int', 2, 'batches decoded ahead of the training step', B),
  o('max_dataset_size', 'int', Number.POSITIVE_INFINITY, 'use at most this many images', B),
  o('display_winsize', 'int', 512, 'width at which the training and results pages show images', B),
  o('tf_log', 'flag', false, 'official option, unused (losses go to loss_log.jsonl)', B),
  // generator
  o('netG', 'string', 'global', 'generator: global (G1) or local (G1 + local enhancers)', B, { choices: ['global', 'local'], ...arch }),
  o('ngf', 'int', 64, 'generator filters in the first conv layer', B, arch),
  o('n_downsample_global', 'int', 4, 'downsampling layers in G1', B, arch),
  o('n_blocks_global', 'int', 9, 'residual blocks in G1', B, arch),
  o('n_blocks_local', 'int', 3, 'residual blocks in each local enhancer', B, arch),
  o('n_local_enhancers', 'int', 1, 'number of local enhancers', B, arch),
  o('niter_fix_global', 'int', 0, 'epochs in which only the outermost local enhancer trains', B),
  // instance features
  o('no_instance', 'flag', false, 'do not add the instance boundary map to the input', B, arch),
  o('instance_feat', 'flag', false, 'add encoded instance features to the input', B, arch),
  o('label_feat', 'flag', false, 'add encoded label features to the input', B, arch),
  o('feat_num', 'int', 3, 'length of the encoded feature vectors', B, arch),
  o('load_features', 'flag', false, 'use precomputed feature maps ({phase}_feat/)', B),
  o('n_downsample_E', 'int', 4, 'downsampling layers in the encoder', B, arch),
  o('nef', 'int', 16, 'encoder filters in the first conv layer', B, arch),
  o('n_clusters', 'int', 10, 'clusters per class for feature styles', B),
  // this project's own
  o('seed', 'int', 0, '(pix2pixhd-ts) random seed for weights, data order, crops and flips', B),
  o('threads', 'int', 0, '(pix2pixhd-ts) libtorch threads; 0 = all cores', B),
  o('vgg_weights', 'string', '', '(pix2pixhd-ts) torchvision vgg19 .pth for the VGG loss (default: $TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth)', B),
  // training
  o('display_freq', 'int', 100, 'iterations between updates of the HTML page of samples', T),
  o('print_freq', 'int', 100, 'iterations between loss log lines', T),
  o('save_latest_freq', 'int', 1000, 'iterations between saves of the latest checkpoint', T),
  o('save_epoch_freq', 'int', 10, 'epochs between numbered checkpoints', T),
  o('no_html', 'flag', false, 'do not write the HTML page of samples', T),
  o('debug', 'flag', false, 'one epoch of at most 10 images, pages every iteration', T),
  o('continue_train', 'flag', false, 'resume from the latest checkpoint', T),
  o('load_pretrain', 'string', '', 'a run folder whose G1 (netG global) starts this run\'s G2 training', T),
  o('which_epoch', 'string', 'latest', 'which checkpoint to load: latest or an epoch number', [...T, ...TS, 'features']),
  o('phase', 'string', 'train', 'which part of the data set: train, test, val, … (test: test)', [...T, ...TS, 'features']),
  o('niter', 'int', 100, 'epochs at the initial learning rate', T),
  o('niter_decay', 'int', 100, 'epochs of linear decay of the learning rate to zero', T),
  o('beta1', 'float', 0.5, 'Adam\'s first momentum term', T),
  o('lr', 'float', 0.0002, 'initial learning rate', T),
  o('num_D', 'int', 2, 'number of discriminators (scales)', T, arch),
  o('n_layers_D', 'int', 3, 'layers of each discriminator', T, arch),
  o('ndf', 'int', 64, 'discriminator filters in the first conv layer', T, arch),
  o('lambda_feat', 'float', 10.0, 'weight of the feature matching losses', T),
  o('no_ganFeat_loss', 'flag', false, 'no discriminator feature matching loss', T),
  o('no_vgg_loss', 'flag', false, 'no VGG perceptual loss', T),
  o('no_lsgan', 'flag', false, 'vanilla GAN (BCE) instead of least squares', T, arch),
  o('pool_size', 'int', 0, 'size of the buffer of generated images shown to D', T),
  // testing
  o('ntest', 'int', Number.POSITIVE_INFINITY, 'official option: number of test examples', TS),
  o('results_dir', 'string', './results/', 'where test results go', TS),
  o('aspect_ratio', 'float', 1.0, 'test: result images are saved stretched to this width/height ratio (above 1 wider, below 1 taller; bicubic)', TS),
  o('how_many', 'int', 50, 'how many test images to run', TS),
  o('cluster_path', 'string', 'features_clustered_010.npy', 'clustered features: our JSON or the official .npy', [...TS, 'features']),
  o('use_encoded_image', 'flag', false, 'encode the real photo to get the feature map', TS),
  o('export_onnx', 'string', '', 'test: write G as an ONNX model to this .onnx path and stop (see pix2pixhd export)', ['test']),
  o('onnx', 'string', '', 'the .onnx model: export writes it; test synthesises with it through onnxruntime-node instead of libtorch', ['test']),
];

export const OPTIONS_BY_NAME: ReadonlyMap<string, OptionDef> = new Map(OPTION_DEFS.map((d) => [d.name, d]));

export function defaultsFor(groups: readonly OptionGroup[]): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  for (const d of OPTION_DEFS) if (d.groups.some((g) => groups.includes(g))) out[d.name] = d.default;
  return out;
}
