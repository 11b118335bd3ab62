// A run: its one typed configuration, its folder (saved options, checkpoints, networks, styles)
// and the one path from maps to G's input. Everything above (train, infer, eval, server, cli)
// goes through here.
export { applyDebug, requestedDevice, runConfig, synthesisData, type NetworkConfig, type OptionValues, type RunConfig, type SynthesisConfig, type TrainConfig } from './config.js';
export { applyThreads, checkDevice, deviceFor } from './device.js';
export { applyRunOptions, loadRunOptions, runDir, saveRunOptions } from './options-file.js';
export {
  adamFromPy, adamToPy, checkpointFiles, loadNetwork, loadOptimizer, loadTrainingState, netPath, saveCheckpoint, saveTrainingCheckpoint,
  type CheckpointParts, type ResumeFiles, type TrainingState,
} from './checkpoint.js';
export { GENERATIONS_DIR, settleRunFolder, STATE_FILE, type GenerationRecord } from './generation.js';
export { loadEncoder, loadGenerator } from './networks.js';
export { openFeatureSource, openStyleBank, runStyles, type OpenedFeatureSource, type RunStyles } from './feature-source.js';
export { generatorInput, itemName, type FeatureSource, type GeneratorInput, type Maps } from './generator-input.js';
