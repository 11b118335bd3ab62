// FID and KID as pytorch-fid and torch-fidelity compute them (see each file's header).
export { activationStatistics, frechetDistance, loadStatistics, saveStatistics, traceSqrtProduct, type ActivationStatistics } from './statistics.js';
export { kernelInceptionDistance, polynomialMmd2, type KernelInceptionDistance, type KidOptions } from './kid.js';
export { fidImageFiles, imageTensor, inceptionFeatures, FID_IMAGE_EXTENSIONS, type FeatureOptions } from './image-features.js';
export { readNpz, writeNpz, npyBytes, type NumericArray } from './npz.js';
