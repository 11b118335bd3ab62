// The networks of a pix2pixHD run, sized from its options the way the official model does:
// G sees label channels (or input_nc when label_nc is 0), +1 for the instance edges, +feat_num
// for encoded features; D sees the same minus the features, plus the image.
import { applySpectralNorm, applySpectralNormToGenerator } from './spectral-norm.js';
import { Encoder } from './encoder.js';
import { GlobalGenerator } from './global-generator.js';
import { initWeights } from './init.js';
import { LocalEnhancer } from './local-enhancer.js';
import { MultiscaleDiscriminator } from './discriminator.js';
import type { NormType } from './norm.js';
import { generatorInputChannels, labelChannels, usesFeatures, type NetworkOptions } from './network-options.js';

export { generatorInputChannels, labelChannels, usesFeatures, type NetworkOptions, type SpectralNormChoice } from './network-options.js';

export type Generator = GlobalGenerator | LocalEnhancer;

function norm(o: NetworkOptions): NormType {
  if (o.norm !== 'instance' && o.norm !== 'batch') throw new Error(`norm must be instance or batch, got '${o.norm}'`);
  return o.norm;
}

export function buildGenerator(o: NetworkOptions, seed: number): Generator {
  const common = {
    input_nc: generatorInputChannels(o), output_nc: o.output_nc, ngf: o.ngf,
    n_downsample_global: o.n_downsample_global, n_blocks_global: o.n_blocks_global, norm: norm(o),
  };
  let G: Generator;
  if (o.netG === 'global') G = new GlobalGenerator(common);
  else if (o.netG === 'local') G = new LocalEnhancer({ ...common, n_local_enhancers: o.n_local_enhancers, n_blocks_local: o.n_blocks_local });
  else throw new Error(`netG must be 'global' or 'local', got '${o.netG}'`);
  initWeights(G, { seed });
  return o.spectral_norm === 'G' || o.spectral_norm === 'both' ? applySpectralNormToGenerator(G) : G;
}

export function buildDiscriminator(o: NetworkOptions, seed: number): MultiscaleDiscriminator {
  const D = new MultiscaleDiscriminator({
    input_nc: labelChannels(o) + o.output_nc, ndf: o.ndf ?? 64, n_layers_D: o.n_layers_D ?? 3, num_D: o.num_D ?? 2,
    norm: norm(o), use_sigmoid: o.no_lsgan ?? false, getIntermFeat: true,
  });
  initWeights(D, { seed });
  return o.spectral_norm === 'D' || o.spectral_norm === 'both' ? applySpectralNorm(D) : D;
}

/** The feature encoder, when the run uses features and does not load precomputed ones. */
export function buildEncoder(o: NetworkOptions, seed: number): Encoder | null {
  if (!usesFeatures(o) || o.load_features) return null;
  const E = new Encoder({ input_nc: o.output_nc, output_nc: o.feat_num, nef: o.nef, n_downsample_E: o.n_downsample_E, norm: norm(o) });
  return initWeights(E, { seed });
}

/** Parameter keys of the outermost local enhancer: what trains alone during niter_fix_global. */
export function outermostEnhancerPrefix(o: NetworkOptions): string {
  return `model${o.n_local_enhancers}`;
}
