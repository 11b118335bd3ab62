// The options that decide the networks' shapes, and what follows from them, apart from the
// networks themselves: readers that only need the layout (an exported model's client, test --onnx)
// do not load libtorch.
/** The options (official names) that decide the networks' shapes. */
export interface NetworkOptions {
  label_nc: number;
  input_nc: number;
  output_nc: number;
  netG: string;
  ngf: number;
  n_downsample_global: number;
  n_blocks_global: number;
  n_blocks_local: number;
  n_local_enhancers: number;
  norm: string;
  no_instance: boolean;
  instance_feat: boolean;
  label_feat: boolean;
  feat_num: number;
  nef: number;
  n_downsample_E: number;
  load_features?: boolean;
  ndf?: number;
  n_layers_D?: number;
  num_D?: number;
  no_lsgan?: boolean;
  /** Spectral normalisation (PyTorch's weight_orig/weight_u/weight_v layout) of D's convolutions, G's, or both. */
  spectral_norm?: SpectralNormChoice;
}

export function usesFeatures(o: NetworkOptions): boolean {
  return o.instance_feat || o.label_feat;
}

/** Channels of the label encoding: one-hot classes (or the input image) and the edge map. */
export function labelChannels(o: NetworkOptions): number {
  return (o.label_nc === 0 ? o.input_nc : o.label_nc) + (o.no_instance ? 0 : 1);
}

export function generatorInputChannels(o: NetworkOptions): number {
  return labelChannels(o) + (usesFeatures(o) ? o.feat_num : 0);
}

export type SpectralNormChoice = 'none' | 'D' | 'G' | 'both';
