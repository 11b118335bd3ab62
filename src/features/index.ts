// Instance-level feature embedding (the paper's §3.4): E's per-object feature vectors, K-means
// per class, the cluster files (ours and the official .npy), the style bank an editor shows, and
// the feature maps that carry each object's chosen style into G.
//
// Typical use (a server or editor):
//   const bank = loadStyleBank(runDir, runOptions);          // features_clustered_010.{npy,json}
//   bank.classes();   // [{ classId: 26, name: 'car', styles: [{ index, center, swatch, count }, …] }, …]
//   const { map, chosen } = sampleFeatureMap(instIds, width, height, bank, { choices: parseStyles({ 26001: 3 }), seed: 0, name: 'scene' });
//   // map: Float32Array [feat_num, H, W] to concatenate to G's input (see infer/synthesize-dataset.ts)
import { checkClustersFitRun, readClusterFile, resolveClusterPath } from './cluster-file.js';
import { StyleBank } from './style-bank.js';

export {
  checkClustersFitRun, clusterFileNames, ClusterFileError, clustersToJson, readClusterFile, resolveClusterPath, validateClusters,
  writeClusterFile, CLUSTER_FORMAT, type ClassClusters, type FeatureClusters, type Rgb,
} from './cluster-file.js';
export { clusterInstances, encodeDataset, encodeFeatures, groupMap, precomputeFeatureMaps, type ClusterOptions, type ImageInstances } from './encode.js';
export {
  choicesForImage, chooseFeatures, fillFeatureMap, parseStyles, readStylesFile, sampleFeatureMap,
  type ChosenFeature, type StyleChoices, type StyleSpec, type StylesFile,
} from './feature-map.js';
export { classOfInstance, extractInstanceFeatures, instanceIds, relativeArea, type InstanceFeature } from './instance-features.js';
export { kmeans, kmeansPlusPlus, nearest, type KMeansOptions, type KMeansResult } from './kmeans.js';
export { isNpy, readNpy, readNpyFile, NpyError, type NpyArray } from './npy.js';
export { StyleBank, StyleError, type ClassStyles, type Style } from './style-bank.js';

/**
 * A run's style bank: the cluster file at `clusterPath` (default the official name, falling back
 * to our JSON; relative paths are looked up in the run folder first), checked against the run's
 * feat_num, label_nc and feature grouping.
 */
export function loadStyleBank(
  runDir: string, run: { feat_num: number; label_nc: number; label_feat?: boolean }, clusterPath = 'features_clustered_010.npy',
): StyleBank {
  const clusters = readClusterFile(resolveClusterPath(runDir, clusterPath));
  checkClustersFitRun(clusters, run);
  return new StyleBank(clusters);
}
