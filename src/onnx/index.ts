// ONNX export of the generator and the feature encoder, and what an exported model says about its inputs.
export { exportGenerator, OPSET, type ExportOptions } from './generator-model.js';
export { checkLayout, describeLayout, inputNames, layoutFromMetadata, layoutOf, type ModelLayout } from './model-layout.js';
export { decodeModel, readMetadataProps } from './proto.js';
export { encoderModelPath, exportRunEncoder, exportRunGenerator, hasEncoder, writeRunGenerator, writeRunModels, type RunModelSource, type WrittenModels } from './run-model.js';
export { exportEncoder } from './encoder-model.js';
