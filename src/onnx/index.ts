// ONNX export of the generator, and what an exported model says about its inputs.
export { exportGenerator, OPSET, type ExportOptions } from './generator-model.js';
export { checkLayout, describeLayout, inputNames, layoutFromMetadata, layoutOf, type ModelLayout } from './model-layout.js';
export { decodeModel, readMetadataProps } from './proto.js';
export { exportRunGenerator, writeRunGenerator, type RunModelSource } from './run-model.js';
