// What the commands that synthesise (test, eval, style-eval) give a feature run: E on the real
// photos (--use_encoded_image), or the run's clusters (--cluster_path) with optional --styles.
import { checkClustersFitRun, readClusterFile, resolveClusterPath, type FeatureClusters } from '../features/cluster-file.js';
import { readStylesFile } from '../features/feature-map.js';
import { StyleBank } from '../features/style-bank.js';
import { loadEncoder } from '../infer/load-generator.js';
import type { FeatureSource } from '../infer/synthesize-dataset.js';
import { usesFeatures, type NetworkOptions } from '../models/from-options.js';
import { OptionError } from '../options/parse.js';
import type { Values } from './run-options.js';

export interface OpenedFeatureSource {
  source: FeatureSource | null;
  /** One line saying where the features come from (null for runs without features). */
  description: string | null;
  clusters: FeatureClusters | null;
  dispose(): void;
}

/** The run's clusters as a style bank, checked against the run (feat_num, classes, grouping). */
export function openStyleBank(v: Values, o: NetworkOptions, dir: string): { bank: StyleBank; clusters: FeatureClusters; path: string } {
  const path = resolveClusterPath(dir, String(v.cluster_path));
  const clusters = readClusterFile(path);
  checkClustersFitRun(clusters, o);
  return { bank: new StyleBank(clusters), clusters, path };
}

export function openFeatureSource(v: Values, o: NetworkOptions, dir: string, device: string): OpenedFeatureSource {
  const none = { source: null, description: null, clusters: null, dispose() {} };
  if (!usesFeatures(o)) {
    if (v.styles) throw new OptionError('--styles: this run does not use features (trained without --instance_feat / --label_feat)');
    return none;
  }
  if (v.use_encoded_image === true) {
    if (v.styles) throw new OptionError('--styles and --use_encoded_image exclude each other: styles choose clusters, --use_encoded_image encodes the photos');
    const E = loadEncoder(o, dir, String(v.which_epoch), device);
    return { source: { kind: 'encoder', E }, description: 'features encoded from the real photos (--use_encoded_image)', clusters: null, dispose: () => E.dispose() };
  }
  const { bank, clusters, path } = openStyleBank(v, o, dir);
  const styles = v.styles ? readStylesFile(String(v.styles)) : null;
  return {
    source: { kind: 'styles', bank, styles, seed: Number(v.seed) },
    description: `feature styles from ${path}${styles ? ` with ${String(v.styles)}` : ''}; other objects drawn at random (seed ${Number(v.seed)})`,
    clusters,
    dispose() {},
  };
}
