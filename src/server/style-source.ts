// The editor's styles: the run's feature clusters (what `pix2pixhd encode-features` writes, or the
// official .npy), shown per class with their swatches by the page's style picker. A run trained
// without instance features has none, and the page hides the picker and says why; so does a
// features run whose clusters have not been computed (it synthesises with zero features then).
import { openStyleBank } from '../cli/feature-source.js';
import type { Values } from '../cli/run-options.js';
import type { FeatureClusters } from '../features/cluster-file.js';
import { usesFeatures, type NetworkOptions } from '../models/from-options.js';

export interface RunStyles {
  /** The clusters (plain data: they travel to the synthesis workers as they are), or null. */
  clusters: FeatureClusters | null;
  /** What the page and the console say about styles. */
  note: string;
}

export function runStyles(v: Values, o: NetworkOptions, runDir: string): RunStyles {
  if (!usesFeatures(o)) return { clusters: null, note: 'this run was trained without --instance_feat: its objects have no styles to pick' };
  let opened: ReturnType<typeof openStyleBank>;
  try {
    opened = openStyleBank(v, o, runDir);
  } catch (e) {
    const msg = (e as Error).message;
    // No clusters yet is not fatal for the editor: objects get zero features until there are.
    if (/^no feature clusters at /.test(msg)) return { clusters: null, note: `${msg.split(':')[0]}: run 'pix2pixhd encode-features' for styles; objects are synthesised with zero features` };
    throw e;
  }
  const classes = opened.bank.classes();
  return { clusters: opened.clusters, note: `${classes.length} classes with styles (${classes.map((c) => c.name).join(', ')}) from ${opened.path}` };
}
