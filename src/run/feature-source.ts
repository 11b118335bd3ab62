// Where a feature run's features come from when it synthesises (test, eval, style-eval, serve):
// E on the real photos (--use_encoded_image), or the run's clusters (--cluster_path) with
// optional --styles; and the run's style bank itself, checked against the run.
import { checkClustersFitRun, readClusterFile, resolveClusterPath, type FeatureClusters } from '../features/cluster-file.js';
import { readStylesFile } from '../features/feature-map.js';
import { StyleBank } from '../features/style-bank.js';
import { usesFeatures } from '../models/from-options.js';
import { OptionError } from '../options/parse.js';
import type { RunConfig } from './config.js';
import type { FeatureSource } from './generator-input.js';
import { loadEncoder } from './networks.js';

export interface OpenedFeatureSource {
  source: FeatureSource | null;
  /** One line saying where the features come from (null for runs without features). */
  description: string | null;
  clusters: FeatureClusters | null;
  dispose(): void;
}

/** The run's clusters (--cluster_path, relative to the run folder first) as a style bank, checked against the run (feat_num, classes, grouping). */
export function openStyleBank(config: RunConfig): { bank: StyleBank; clusters: FeatureClusters; path: string } {
  const path = resolveClusterPath(config.dir, config.synthesis.cluster_path);
  const clusters = readClusterFile(path);
  checkClustersFitRun(clusters, config.network);
  return { bank: new StyleBank(clusters), clusters, path };
}

/** The feature source of a synthesising command; `stylesFile` is --styles ('' for none). */
export function openFeatureSource(config: RunConfig, stylesFile = ''): OpenedFeatureSource {
  const none = { source: null, description: null, clusters: null, dispose() {} };
  if (!usesFeatures(config.network)) {
    if (stylesFile) throw new OptionError('--styles: this run does not use features (trained without --instance_feat / --label_feat)');
    return none;
  }
  if (config.synthesis.use_encoded_image) {
    if (stylesFile) throw new OptionError('--styles and --use_encoded_image exclude each other: styles choose clusters, --use_encoded_image encodes the photos');
    const E = loadEncoder(config.network, config.dir, config.which_epoch, config.device);
    return { source: { kind: 'encoder', E }, description: 'features encoded from the real photos (--use_encoded_image)', clusters: null, dispose: () => E.dispose() };
  }
  const { bank, clusters, path } = openStyleBank(config);
  const styles = stylesFile ? readStylesFile(stylesFile) : null;
  return {
    source: { kind: 'styles', bank, styles, seed: config.seed },
    description: `feature styles from ${path}${styles ? ` with ${stylesFile}` : ''}; other objects drawn at random (seed ${config.seed})`,
    clusters,
    dispose() {},
  };
}

export interface RunStyles {
  /** The clusters (plain data: they travel to the synthesis workers as they are), or null. */
  clusters: FeatureClusters | null;
  /** What the editor's page and console say about styles. */
  note: string;
}

/**
 * The editor's styles: the run's clusters, or none with the reason. A feature run whose clusters
 * have not been computed is not an error there: its objects get zero features until they are.
 */
export function runStyles(config: RunConfig): RunStyles {
  if (!usesFeatures(config.network)) return { clusters: null, note: 'this run was trained without --instance_feat: its objects have no styles to pick' };
  let opened: ReturnType<typeof openStyleBank>;
  try {
    opened = openStyleBank(config);
  } catch (e) {
    const msg = (e as Error).message;
    if (/^no feature clusters at /.test(msg)) return { clusters: null, note: `${msg.split(':')[0]}: run 'pix2pixhd encode-features' for styles; objects are synthesised with zero features` };
    throw e;
  }
  const classes = opened.bank.classes();
  return { clusters: opened.clusters, note: `${classes.length} classes with styles (${classes.map((c) => c.name).join(', ')}) from ${opened.path}` };
}
