// The networks of pix2pixHD.
//
// Conventions:
// - Classes are named as the official modules (GlobalGenerator, LocalEnhancer, ResnetBlock,
//   NLayerDiscriminator, MultiscaleDiscriminator, Encoder) and so are their children and
//   parameters, so state dicts load from and save to the official checkpoints key for key.
// - Constructor options use the official option names, snake_case as on the official command
//   line (`input_nc`, `ngf`, `n_downsample_global`, `n_layers_D`, `num_D`, `nef`, …), so parsed
//   options pass straight through; omitted options take the official command-line defaults.
//   Methods and fields are camelCase.
// - Construction gives PyTorch's default initialisation; `initWeights(net, { seed })` applies the
//   official one (as `define_G` / `define_D` do).
// - Deliberate difference: with `use_sigmoid` and intermediate features, the official
//   discriminator silently leaves the sigmoid out; here the last output is passed through it.
export { normLayer, type NormType } from './norm.js';
export { initWeights } from './init.js';
export { ResnetBlock, type ResnetBlockOptions, type PaddingType } from './resnet-block.js';
export { GlobalGenerator, globalGeneratorLayers, GLOBAL_OUTPUT_LAYERS, type GlobalGeneratorOptions } from './global-generator.js';
export { LocalEnhancer, downsample2x, type LocalEnhancerOptions } from './local-enhancer.js';
export {
  NLayerDiscriminator, MultiscaleDiscriminator, type NLayerDiscriminatorOptions, type MultiscaleDiscriminatorOptions,
  type DiscriminatorOutputs,
} from './discriminator.js';
export { Encoder, instanceMeanPool, type EncoderOptions } from './encoder.js';
export { Vgg19Features, defaultVgg19Path, VGG19_FILE, VGG19_URL } from './vgg19.js';
export { instanceEdges, oneHotLabels, encodeInput, type InputEncodingOptions } from './input-encoding.js';
