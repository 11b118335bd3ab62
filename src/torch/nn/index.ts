export { Module, Layer, type StateDict } from './module.js';
export * from './layers.js';
