// Running the encoder E over a data set (the official encode_features.py and
// precompute_feature_maps.py) and clustering each class's objects (K-means per class).
//
// Official semantics kept: one row per object per image (instance ids; label ids for label_feat
// runs), class = id // 1000 for ids ≥ 1000; rows whose relative area pixels / (H·W // 32) is not
// above min_area (0.5) are left out of the clustering; per class min(rows, n_clusters) clusters.
// Differences: the official script clusters with scikit-learn (k-means++, random_state 0); here
// kmeans.ts (k-means++, seeded, 10 restarts) gives the same kind of centres, not the same digits.
// The official encode_features always groups by the instance map, even for label_feat runs whose
// E was trained on label groups; here label_feat runs are encoded by label, as they were trained.
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, extname, join, relative, sep } from 'node:path';
import { AlignedDataset, encodePng, readIdMap, type DataOptions } from '../data/index.js';
import type { Encoder } from '../models/encoder.js';
import { instanceMeanPool } from '../models/encoder.js';
import type { NetworkOptions } from '../models/from-options.js';
import { F, noGrad, tensor, tidy, type Tensor } from '../torch/index.js';
import type { FeatureClusters, Rgb } from './cluster-file.js';
import { extractInstanceFeatures, type InstanceFeature } from './instance-features.js';
import { kmeans } from './kmeans.js';

/**
 * E's instance-averaged features for an image [N, 3, H, W] and a group map [N, 1, H, W] of any
 * size: the image is padded (edge replication) to E's size multiple 2^n_downsample_E, the
 * network's output cropped back, then averaged per group, so the padding never enters the means.
 */
export function encodeFeatures(E: Encoder, image: Tensor, groups: Tensor): Tensor {
  return noGrad(() => tidy(() => {
    const [, , h, w] = image.shape as [number, number, number, number];
    const multiple = 2 ** (E.opts.n_downsample_E ?? 4);
    const padH = (multiple - (h % multiple)) % multiple;
    const padW = (multiple - (w % multiple)) % multiple;
    let out = E.model.forward(padH || padW ? F.pad(image, [0, padW, 0, padH], 'replicate') : image);
    if (padH || padW) out = out.narrow(2, 0, h).narrow(3, 0, w);
    return instanceMeanPool(out, groups);
  }));
}

/** The map E averages over: instance ids, or class ids for label_feat runs (as the official model). */
export function groupMap(o: Pick<NetworkOptions, 'label_feat'>, label: Int32Array | Float32Array | null, inst: Int32Array | null, where: string): Int32Array {
  if (o.label_feat) {
    if (!(label instanceof Int32Array)) throw new Error(`${where}: label_feat needs a label map of class ids (label_nc > 0)`);
    return label;
  }
  if (!inst) throw new Error(`${where}: instance features need the instance map (the run was trained with instance maps; do not set --no_instance)`);
  return inst;
}

/** One image's objects, with the image's name. */
export interface ImageInstances {
  name: string;
  path: string;
  instances: InstanceFeature[];
}

function dataItems(data: Partial<DataOptions>): AlignedDataset {
  return AlignedDataset.open({ ...data, isTrain: false, use_encoded_image: true, load_features: false, serial_batches: true, batchSize: 1, no_flip: true });
}

const nameOf = (path: string): string => path.slice(path.lastIndexOf(sep) + 1).replace(/\.[^.]+$/, '');

/**
 * E over every image of a phase (in file order, no flips), each object's features, relative area
 * and mean photo colour. `onImage` reports progress.
 */
export async function encodeDataset(
  E: Encoder, o: NetworkOptions, data: Partial<DataOptions>, device = 'cpu',
  onImage?: (done: number, total: number, name: string) => void,
): Promise<ImageInstances[]> {
  const dataset = dataItems(data);
  const out: ImageInstances[] = [];
  for (let i = 0; i < dataset.size; i++) {
    const item = await dataset.load(i, 0);
    const { width: w, height: h } = item;
    if (!item.image) throw new Error(`${item.path}: encoding features needs its photo`);
    const groups = groupMap(o, item.label, item.inst, item.path);
    const feat = tidy(() => {
      const dev = device !== 'cpu' ? { device } : {};
      const f = encodeFeatures(E, tensor(item.image!, [1, 3, h, w], dev), tensor(groups, [1, 1, h, w], { dtype: 'int64', ...dev }));
      return f.toFloat32Array();
    });
    out.push({ name: nameOf(item.path), path: item.path, instances: extractInstanceFeatures(feat, o.feat_num, groups, w, h, { chw: item.image }) });
    onImage?.(i + 1, dataset.size, nameOf(item.path));
  }
  return out;
}

export interface ClusterOptions {
  n_clusters: number;
  /** Objects with relative area ≤ this are left out (official 0.5). */
  min_area: number;
  seed: number;
  /** K-means restarts (default 10). */
  nInit?: number;
  feat_num: number;
  label_nc: number;
  grouping: 'instance' | 'label';
  source?: Record<string, unknown>;
}

/** Per class: K-means over the features of its objects (those above min_area), with swatches. */
export function clusterInstances(images: readonly ImageInstances[], opts: ClusterOptions): FeatureClusters {
  const byClass = new Map<number, InstanceFeature[]>();
  for (const img of images) {
    for (const it of img.instances) {
      if (!(it.area > opts.min_area)) continue;
      if (it.feature.length !== opts.feat_num) throw new Error(`${img.path}: instance ${it.id} has ${it.feature.length} features, feat_num is ${opts.feat_num}`);
      let rows = byClass.get(it.label);
      if (!rows) byClass.set(it.label, (rows = []));
      rows.push(it);
    }
  }
  const classes = new Map<number, { centers: number[][]; counts: number[]; swatches: (Rgb | null)[] }>();
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = byClass.get(label)!;
    const k = Math.min(rows.length, opts.n_clusters);
    const r = kmeans(rows.map((x) => x.feature), k, { seed: opts.seed, nInit: opts.nInit ?? 10 });
    const swatches = r.centers.map((_, j) => {
      const members = rows.filter((_, i) => r.labels[i] === j && rows[i]!.meanRgb);
      if (members.length === 0) return null;
      const s = [0, 1, 2].map((c) => members.reduce((a, m) => a + m.meanRgb![c]!, 0) / members.length);
      return s.map((v) => Math.round(v * 10) / 10) as Rgb;
    });
    classes.set(label, { centers: r.centers, counts: r.counts, swatches });
  }
  return {
    feat_num: opts.feat_num, label_nc: opts.label_nc, n_clusters: opts.n_clusters, grouping: opts.grouping,
    min_area: opts.min_area, seed: opts.seed, ...(opts.source ? { source: opts.source } : {}), classes,
  };
}

/**
 * precompute_feature_maps.py: E's feature map of every image of a phase written as an RGB PNG
 * ({phase}_feat/ beside {phase}_label/, same file names), for training with --load_features.
 * The official script encodes at the loaded size and upsamples ×2 (nearest) to the file size;
 * here the map is resized (nearest) to the label file's own size and averaged again per object
 * with the file's own instance (or label) map, so every object stays one constant colour.
 * Values in [-1, 1] become bytes as the official tensor2im does: floor((v + 1) / 2 · 255).
 */
export async function precomputeFeatureMaps(
  E: Encoder, o: NetworkOptions, data: Partial<DataOptions>, device = 'cpu',
  onImage?: (done: number, total: number, file: string) => void,
): Promise<{ dir: string; files: string[] }> {
  if (o.feat_num !== 3) throw new Error(`precomputed feature maps are RGB images: they need feat_num 3, the run has feat_num ${o.feat_num}`);
  const dataset = dataItems(data);
  const dataroot = String(data.dataroot);
  const phase = String(data.phase ?? 'train');
  const labelDir = join(dataroot, `${phase}_label`);
  const featDir = join(dataroot, `${phase}_feat`);
  const files: string[] = [];
  for (let i = 0; i < dataset.size; i++) {
    const item = await dataset.load(i, 0);
    const entry = dataset.entries[i]!;
    const { width: w, height: h, sourceWidth: sw, sourceHeight: sh } = item;
    if (!item.image) throw new Error(`${item.path}: precomputing features needs its photo`);
    const groups = groupMap(o, item.label, item.inst, item.path);
    // The file's own group map, for the per-object average at the file's size.
    const full = o.label_feat ? await readIdMap(entry.label, 'label map') : entry.inst ? await readIdMap(entry.inst, 'instance map') : null;
    if (!full) throw new Error(`${item.path}: no instance map to average the features over`);
    const rgb = tidy(() => {
      const dev = device !== 'cpu' ? { device } : {};
      let f = encodeFeatures(E, tensor(item.image!, [1, 3, h, w], dev), tensor(groups, [1, 1, h, w], { dtype: 'int64', ...dev }));
      if (w !== sw || h !== sh) {
        f = F.interpolate(f, { size: [sh, sw], mode: 'nearest' });
        f = instanceMeanPool(f, tensor(full.data, [1, 1, sh, sw], { dtype: 'int64', ...dev }));
      }
      const hwc = f.select(0, 0).add(1).div(2).mul(255).clamp(0, 255).floor().permute([1, 2, 0]).contiguous();
      return Uint8Array.from(hwc.toFloat32Array());
    });
    const rel = relative(labelDir, entry.label);
    const name = (rel.startsWith('..') ? nameOf(entry.label) : rel.slice(0, rel.length - extname(rel).length)) + '.png';
    const file = join(featDir, name);
    mkdirSync(dirname(file), { recursive: true });
    await writeFile(file, await encodePng(rgb, sw, sh, 3));
    files.push(file);
    onImage?.(i + 1, dataset.size, file);
  }
  return { dir: featDir, files };
}
