// The per-class feature clusters that `encode-features` writes and synthesis reads.
//
// Our file is JSON (`features_clustered_010.json` in the run folder by default):
//
//   {
//     "format": "pix2pixhd-ts feature clusters",
//     "version": 1,
//     "feat_num": 3,              // length of every centre
//     "label_nc": 35,             // classes of the run (class ids are below it)
//     "n_clusters": 10,           // the requested clusters per class (a class may have fewer)
//     "grouping": "instance",     // features averaged per instance (instance_feat) or per label (label_feat)
//     "min_area": 0.5,            // objects with relative area ≤ this were left out (the official filter)
//     "seed": 0,                  // k-means++ seed
//     "source": { "dataroot": "…", "phase": "train", "images": 150, "which_epoch": "latest" },
//     "classes": {
//       "26": {                   // class id → its clusters
//         "centers": [[f1, f2, f3], …],        // k centres, feat_num values each
//         "counts": [12, 9, …],                 // objects per cluster
//         "swatches": [[r, g, b] | null, …]     // mean photo colour (0–255) of the cluster's objects
//       }, …
//     }
//   }
//
// The official encode_features.py writes `features_clustered_010.npy`: np.save of a dict
// {label: ndarray[k, feat_num] of centres} (a pickled object array, see npy.ts). It is read here
// too, without counts or swatches. A class absent from the file has no styles; the official
// sample_features then leaves its pixels' features unset (uninitialised memory), here they are 0.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { PyDict } from '../torch/pth/types.js';
import { isNpy, isNpyArray, readNpy } from './npy.js';

export type Rgb = [number, number, number];

export interface ClassClusters {
  /** k centres of feat_num values. */
  centers: number[][];
  /** Objects assigned to each centre when clustering (absent for official files). */
  counts?: number[];
  /** Mean photo colour of each centre's objects (absent for official files). */
  swatches?: (Rgb | null)[];
}

export interface FeatureClusters {
  feat_num: number;
  /** The run's label_nc (null when the file does not say: official files). */
  label_nc: number | null;
  n_clusters: number;
  grouping: 'instance' | 'label';
  min_area: number | null;
  seed: number | null;
  source?: Record<string, unknown>;
  /** Class id → clusters, ascending class ids. */
  classes: Map<number, ClassClusters>;
  /** The file it was read from, for error messages. */
  file?: string;
}

export const CLUSTER_FORMAT = 'pix2pixhd-ts feature clusters';

export class ClusterFileError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ClusterFileError';
  }
}

/** The default file names: ours and the official one, for n_clusters (features_clustered_010.*). */
export function clusterFileNames(nClusters: number): { json: string; npy: string } {
  const stem = `features_clustered_${String(nClusters).padStart(3, '0')}`;
  return { json: `${stem}.json`, npy: `${stem}.npy` };
}

/**
 * Where `--cluster_path` points: as given when absolute or present from the working directory,
 * else inside the run folder (as the official code joins it). When the official default name
 * (features_clustered_NNN.npy) is not there, our JSON of the same stem is used. The error lists
 * every place looked at.
 */
export function resolveClusterPath(runDir: string, clusterPath: string): string {
  const tried: string[] = [];
  const candidates = isAbsolute(clusterPath) ? [clusterPath] : [join(runDir, clusterPath), clusterPath];
  if (/\.npy$/.test(clusterPath)) for (const c of [...candidates]) candidates.push(c.replace(/\.npy$/, '.json'));
  for (const c of candidates) {
    if (existsSync(c)) return c;
    tried.push(c);
  }
  throw new Error(
    `no feature clusters at ${[...new Set(tried)].join(', ')}: run 'pix2pixhd encode-features' for this run first, ` +
      'give --cluster_path, or synthesise with --use_encoded_image (features encoded from the real photos)',
  );
}

const isNumberRow = (r: unknown, n?: number): r is number[] => Array.isArray(r) && (n === undefined || r.length === n) && r.every((x) => typeof x === 'number' && Number.isFinite(x));

/** Checks a clusters object's shape; throws naming the first problem. */
export function validateClusters(c: FeatureClusters, file = c.file ?? '<clusters>'): FeatureClusters {
  if (!Number.isInteger(c.feat_num) || c.feat_num < 1) throw new ClusterFileError(file, `feat_num must be a positive integer, got ${String(c.feat_num)}`);
  for (const [label, cl] of c.classes) {
    if (!Number.isInteger(label) || label < 0) throw new ClusterFileError(file, `class id '${label}' is not a non-negative integer`);
    if (c.label_nc !== null && label >= c.label_nc) throw new ClusterFileError(file, `class ${label} is not below the file's label_nc ${c.label_nc}`);
    if (!Array.isArray(cl.centers) || cl.centers.length === 0) throw new ClusterFileError(file, `class ${label} has no centres`);
    cl.centers.forEach((row, k) => {
      if (!isNumberRow(row, c.feat_num)) {
        throw new ClusterFileError(file, `class ${label}, centre ${k}: expected ${c.feat_num} finite numbers (feat_num), got ${JSON.stringify(row)?.slice(0, 80)}`);
      }
    });
    if (cl.counts && (cl.counts.length !== cl.centers.length || !cl.counts.every((n) => Number.isInteger(n) && n >= 0))) {
      throw new ClusterFileError(file, `class ${label}: counts must be ${cl.centers.length} non-negative integers`);
    }
    if (cl.swatches && (cl.swatches.length !== cl.centers.length || !cl.swatches.every((s) => s === null || isNumberRow(s, 3)))) {
      throw new ClusterFileError(file, `class ${label}: swatches must be ${cl.centers.length} [r, g, b] triples or null`);
    }
  }
  return c;
}

/** The JSON text of a clusters object (the format documented above). */
export function clustersToJson(c: FeatureClusters): string {
  const classes: Record<string, ClassClusters> = {};
  for (const [label, cl] of [...c.classes].sort(([a], [b]) => a - b)) classes[String(label)] = cl;
  const body = {
    format: CLUSTER_FORMAT, version: 1, feat_num: c.feat_num, label_nc: c.label_nc, n_clusters: c.n_clusters, grouping: c.grouping,
    min_area: c.min_area, seed: c.seed, ...(c.source ? { source: c.source } : {}), classes,
  };
  return JSON.stringify(body, null, 1) + '\n';
}

/** Writes the JSON cluster file (to a temporary name, then renamed). */
export function writeClusterFile(path: string, c: FeatureClusters): void {
  validateClusters(c, path);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, clustersToJson(c));
  renameSync(tmp, path);
}

function fromJson(text: string, file: string): FeatureClusters {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new ClusterFileError(file, `not valid JSON (${(e as Error).message}) and not a .npy file`);
  }
  if (typeof raw !== 'object' || raw === null || raw.format !== CLUSTER_FORMAT) {
    throw new ClusterFileError(file, `not a feature cluster file (its "format" should be "${CLUSTER_FORMAT}")`);
  }
  if (raw.version !== 1) throw new ClusterFileError(file, `cluster file version ${String(raw.version)} is not supported (1 is)`);
  const classesRaw = raw.classes;
  if (typeof classesRaw !== 'object' || classesRaw === null) throw new ClusterFileError(file, 'no "classes" object');
  const classes = new Map<number, ClassClusters>();
  for (const [k, v] of Object.entries(classesRaw as Record<string, ClassClusters>)) {
    if (!/^\d+$/.test(k)) throw new ClusterFileError(file, `class id '${k}' is not a non-negative integer`);
    classes.set(Number(k), { centers: v?.centers, ...(v?.counts ? { counts: v.counts } : {}), ...(v?.swatches ? { swatches: v.swatches } : {}) });
  }
  return validateClusters({
    feat_num: raw.feat_num as number,
    label_nc: typeof raw.label_nc === 'number' ? raw.label_nc : null,
    n_clusters: typeof raw.n_clusters === 'number' ? raw.n_clusters : Math.max(0, ...[...classes.values()].map((c) => c.centers?.length ?? 0)),
    grouping: raw.grouping === 'label' ? 'label' : 'instance',
    min_area: typeof raw.min_area === 'number' ? raw.min_area : null,
    seed: typeof raw.seed === 'number' ? raw.seed : null,
    ...(raw.source && typeof raw.source === 'object' ? { source: raw.source as Record<string, unknown> } : {}),
    classes: new Map([...classes].sort(([a], [b]) => a - b)),
    file,
  }, file);
}

/** The official features_clustered_NNN.npy: a dict {label: float array [k, feat_num]}. */
function fromNpy(bytes: Uint8Array, file: string): FeatureClusters {
  const value = readNpy(bytes, file);
  if (!(value instanceof PyDict)) throw new ClusterFileError(file, `the .npy file holds ${isNpyArray(value) ? `a ${value.dtype} array` : typeof value}, expected a dict {class id: array of centres} (np.save of the official encode_features.py)`);
  const classes = new Map<number, ClassClusters>();
  let featNum: number | null = null;
  for (const [k, v] of value) {
    const label = Number(k);
    if (!isNpyArray(v) || v.dtype === '|O') throw new ClusterFileError(file, `class ${String(k)}: expected a numeric array of centres`);
    if (v.shape.length !== 2) throw new ClusterFileError(file, `class ${String(k)}: centres have shape (${v.shape.join(', ')}), expected (k, feat_num)`);
    const [k0, f] = v.shape as [number, number];
    if (k0 === 0) continue; // an empty class: no styles
    if (featNum === null) featNum = f;
    else if (f !== featNum) throw new ClusterFileError(file, `class ${String(k)} has centres of ${f} values, other classes ${featNum}`);
    const data = v.data as number[];
    classes.set(label, { centers: Array.from({ length: k0 }, (_, r) => data.slice(r * f, (r + 1) * f)) });
  }
  if (featNum === null) throw new ClusterFileError(file, 'the official cluster file holds no centres');
  return validateClusters({
    feat_num: featNum, label_nc: null, n_clusters: Math.max(...[...classes.values()].map((c) => c.centers.length)), grouping: 'instance',
    min_area: 0.5, seed: null, source: { official: true }, classes: new Map([...classes].sort(([a], [b]) => a - b)), file,
  }, file);
}

/** Reads our JSON or the official .npy (detected by content). */
export function readClusterFile(path: string): FeatureClusters {
  if (!existsSync(path)) throw new ClusterFileError(path, 'no such cluster file');
  const bytes = new Uint8Array(readFileSync(path));
  return isNpy(bytes) ? fromNpy(bytes, path) : fromJson(new TextDecoder().decode(bytes), path);
}

/**
 * Checks that a cluster file fits a run: same feat_num, classes below its label_nc, the same
 * grouping (instance vs label features). Errors name both values.
 */
export function checkClustersFitRun(c: FeatureClusters, run: { feat_num: number; label_nc: number; label_feat?: boolean }): void {
  const file = c.file ?? '<clusters>';
  if (c.feat_num !== run.feat_num) {
    throw new ClusterFileError(file, `the clusters have feat_num ${c.feat_num}, the run uses feat_num ${run.feat_num}: they come from another run (re-run encode-features for this one)`);
  }
  if (c.label_nc !== null && c.label_nc !== run.label_nc) {
    throw new ClusterFileError(file, `the clusters were made for label_nc ${c.label_nc} classes, the run has label_nc ${run.label_nc}`);
  }
  const over = [...c.classes.keys()].filter((l) => run.label_nc > 0 && l >= run.label_nc);
  if (over.length) throw new ClusterFileError(file, `class ids ${over.join(', ')} are not below the run's label_nc ${run.label_nc}`);
  const grouping = run.label_feat ? 'label' : 'instance';
  if (c.grouping !== grouping && c.label_nc !== null) {
    throw new ClusterFileError(file, `the clusters hold ${c.grouping} features, the run uses ${grouping} features (${run.label_feat ? '--label_feat' : '--instance_feat'})`);
  }
}
