// The feature map of one item computed by the engine (styles from the cluster file, or E on the
// photo) for an exported model's `feat` input: synthesis through onnxruntime of a feature run
// still takes its features from libtorch (see onnx-dataset.ts).
import type { ChosenFeature } from '../features/feature-map.js';
import { labelChannels, type NetworkOptions } from '../models/from-options.js';
import { generatorInput, type FeatureSource, type Maps } from '../run/generator-input.js';
import { tidy } from '../torch/index.js';

/** [feat_num·h·w] for `maps`, and the features each object got (styles). */
export function engineFeatureMap(maps: Maps, o: NetworkOptions, features: FeatureSource | null, device = 'cpu'): { feat: Float32Array; chosen: ChosenFeature[] | null } {
  return tidy(() => {
    const x = generatorInput({ ...maps, feat: null }, o, features, device);
    return { feat: x.input.narrow(1, labelChannels(o), o.feat_num).toFloat32Array(), chosen: x.chosen?.[0] ?? null };
  });
}
