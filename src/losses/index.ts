// The training losses of pix2pixHD.
export { GANLoss, type GANLossOptions } from './gan-loss.js';
export { featureMatchingLoss, type FeatureMatchingOptions } from './feature-matching.js';
export { VGGLoss, VGG_LAYER_WEIGHTS } from './vgg-loss.js';
