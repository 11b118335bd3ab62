export { Module, Layer, type StateDict } from './module.js';
export * from './layers.js';
export { networkSummary, pyFloat, pyBool, pyTuple, pyIntOrTuple, addIndent } from './describe.js';
