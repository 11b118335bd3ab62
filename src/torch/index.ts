// The tensor engine's public surface.
export { Tensor, callOp, opSchema, isDType, type DType, type Shape, type TypedArray, type Reduction } from './tensor.js';
export * from './creation.js';
export * from './autograd.js';
export { tidy, keep, dispose } from './scope.js';
export * as F from './functional.js';
export * as nn from './nn/index.js';
export { Adam, adamUpdatesDuring, withAdamPath, type AdamHyper, type AdamPathCounts, type AdamStateDict, type AdamParamState } from './optim/adam.js';
export { SGD, type SgdHyper } from './optim/sgd.js';
export { autocast, deviceTypeOf, GradScaler, type GradScalerOptions } from './amp.js';
export { copyFromRaw, loadTensorDict, readRawStateDict, saveTensorDict, tensorFromRaw, tensorToRaw } from './serialization.js';
export { ProcessGroup, Work, assertBackendAvailable, distributedAvailable, type DistBackend, type ReduceOp, type InitProcessGroupOptions } from './distributed.js';
export { checkpoint, isRecomputing, Recomputation, type RecomputedBackwardOptions } from './checkpoint.js';
