// `pix2pixhd encode-features`: the official encode_features.py. Runs the run's encoder E over the
// training images, takes each object's feature vector and relative area, and clusters every
// class's objects with K-means (n_clusters per class, fewer when a class has fewer objects).
// Writes the run's style bank: features_clustered_NNN.json (see src/features/cluster-file.ts).
import { isAbsolute, join } from 'node:path';
import { clusterFileNames, writeClusterFile } from '../../features/cluster-file.js';
import { clusterInstances, encodeDataset } from '../../features/encode.js';
import { StyleBank } from '../../features/style-bank.js';
import { usesFeatures } from '../../models/from-options.js';
import type { OptionDef } from '../../options/definitions.js';
import { helpText, OptionError } from '../../options/parse.js';
import { loadEncoder, synthesisData } from '../../run/index.js';
import { parseFeatureCommand } from '../run-command.js';
import { prepareRuntime } from '../engine-runtime.js';

const EXTRA: OptionDef[] = [
  { name: 'min_area', kind: 'float', default: 0.5, help: 'objects whose relative area (pixels / (H·W // 32)) is not above this are not clustered (the official 0.5: more than 1/64 of the image)', groups: [] },
  { name: 'n_init', kind: 'int', default: 10, help: 'K-means restarts per class (k-means++ seeding from --seed; the lowest inertia is kept)', groups: [] },
  { name: 'out', kind: 'string', default: '', help: 'where to write the clusters (default: --cluster_path when given, relative to the run folder; else the run folder\'s features_clustered_NNN.json)', groups: [] },
];
export const ENCODE_FEATURES_USAGE = 'pix2pixhd encode-features --name RUN [--dataroot DIR] [--n_clusters 10] [options]';
export const ENCODE_FEATURES_HELP = () => helpText(ENCODE_FEATURES_USAGE,
  'The official encode_features.py: E (the run\'s {which_epoch}_net_E.pth) over every image of --phase (train),\n' +
  'each object\'s mean feature vector and relative area, then K-means per class (k-means++, seeded) over the\n' +
  'objects above --min_area. Writes features_clustered_NNN.json to the run folder: per class the centres,\n' +
  'the objects in each cluster and their mean photo colour (a swatch for choosing styles). `test` reads it\n' +
  '(--cluster_path), as it reads the official features_clustered_010.npy. The run\'s options come from its\n' +
  'folder, its data options (dataroot, resize_or_crop, loadSize, fineSize) too unless given.',
  ['base', 'features'], EXTRA);

export interface EncodeFeaturesResult {
  file: string;
  images: number;
  objects: number;
  clustered: number;
  bank: StyleBank;
}

export async function encodeFeaturesCommand(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<EncodeFeaturesResult> {
  const { config, values: v } = parseFeatureCommand(argv, EXTRA);
  prepareRuntime(config);
  const { network: o, dir, device } = config;
  if (!usesFeatures(o)) throw new OptionError(`the run ${dir} was not trained with --instance_feat or --label_feat: it has no encoder to encode features with`);
  const nClusters = Number(v.n_clusters);
  if (!Number.isInteger(nClusters) || nClusters < 1) throw new OptionError(`--n_clusters must be a positive integer, got ${nClusters}`);
  const minArea = Number(v.min_area);
  if (!(minArea >= 0)) throw new OptionError(`--min_area must be ≥ 0, got ${minArea}`);
  // --out, else an explicit --cluster_path (relative to the run folder, where test looks first), else the default name.
  const clusterPath = argv.some((a) => /^--cluster_path(=|$)/.test(a)) ? config.synthesis.cluster_path : '';
  const file = String(v.out) || (clusterPath ? (isAbsolute(clusterPath) ? clusterPath : join(dir, clusterPath)) : join(dir, clusterFileNames(nClusters).json));
  if (!file.endsWith('.json')) throw new OptionError(`--out ${file}: the clusters are written as JSON (name it *.json); the official .npy is read, not written`);
  const data = synthesisData(config);

  const E = loadEncoder(o, dir, config.which_epoch, device);
  let images;
  try {
    images = await encodeDataset(E, o, data, device, (done, total) => {
      if (done % 25 === 0 || done === total) out.write(`${done} / ${total} images\n`);
    });
  } finally {
    E.dispose();
  }
  const objects = images.reduce((a, i) => a + i.instances.length, 0);
  const clustered = images.reduce((a, i) => a + i.instances.filter((x) => x.area > minArea).length, 0);
  const clusters = clusterInstances(images, {
    n_clusters: nClusters, min_area: minArea, seed: config.seed, nInit: Number(v.n_init), feat_num: o.feat_num, label_nc: o.label_nc,
    grouping: o.label_feat ? 'label' : 'instance',
    source: { dataroot: String(data.dataroot), phase: String(data.phase), images: images.length, which_epoch: config.which_epoch },
  });
  writeClusterFile(file, clusters);
  const bank = new StyleBank({ ...clusters, file });
  out.write(`${objects} objects in ${images.length} images; ${clustered} above relative area ${minArea} clustered\n`);
  for (const c of bank.classes()) {
    const swatches = c.styles.map((s) => (s.swatch ? `#${s.swatch.map((x) => Math.round(x).toString(16).padStart(2, '0')).join('')}` : '-')).join(' ');
    out.write(`  ${String(c.classId).padStart(3)} ${c.name.padEnd(16)} ${String(c.styles.length).padStart(2)} clusters  ${swatches}\n`);
  }
  if (bank.classes().length === 0) out.write(`no object is above --min_area ${minArea}: no class has styles (lower --min_area for small images)\n`);
  out.write(`saving to ${file}\n`);
  return { file, images: images.length, objects, clustered, bank };
}
