// K-means (Lloyd's algorithm) with k-means++ seeding, as scikit-learn's KMeans that the official
// encode_features.py calls: several seeded restarts, the one with the lowest inertia kept. Pure
// TypeScript over plain arrays: the point sets are small (one row per object of a class), and a
// seeded generator makes the result the same on every machine for a given seed.
import { randomSource, type Random } from '../util/rng.js';

export interface KMeansOptions {
  /** Seed of the k-means++ draws (each restart derives its own stream from it). Default 0. */
  seed?: number;
  /** Restarts; the lowest-inertia result is kept. Default 10 (scikit-learn's classic n_init). */
  nInit?: number;
  /** Lloyd iterations per restart at most. Default 300. */
  maxIter?: number;
  /** Stop when no centre moves more than this (squared distance, relative to the data's variance). Default 1e-4. */
  tol?: number;
}

export interface KMeansResult {
  /** k centres, each a row of the points' dimension. */
  centers: number[][];
  /** For each point, the index of its centre. */
  labels: number[];
  /** Points per centre. */
  counts: number[];
  /** Sum of squared distances of the points to their centres. */
  inertia: number;
  /** Lloyd iterations of the kept restart. */
  iterations: number;
}

function dist2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return s;
}

/** The index of `c`'s nearest row of `centers` (the lowest index among ties). */
export function nearest(c: ArrayLike<number>, centers: readonly ArrayLike<number>[]): number {
  let best = 0;
  let bestD = Infinity;
  for (let j = 0; j < centers.length; j++) {
    const d = dist2(c, centers[j]!);
    if (d < bestD) {
      bestD = d;
      best = j;
    }
  }
  return best;
}

/**
 * k-means++ seeding (Arthur & Vassilvitskii 2007): the first centre uniformly, each next one drawn
 * with probability proportional to the squared distance to the nearest centre chosen so far.
 * When every point already coincides with a centre (fewer distinct points than k), the next
 * centre is drawn uniformly among the points, so k centres always come back.
 */
export function kmeansPlusPlus(points: readonly number[][], k: number, random: Random): number[][] {
  const n = points.length;
  const centers: number[][] = [points[Math.floor(random() * n)]!.slice()];
  const d2 = points.map((p) => dist2(p, centers[0]!));
  while (centers.length < k) {
    const total = d2.reduce((a, b) => a + b, 0);
    let chosen: number;
    if (total > 0) {
      let r = random() * total;
      chosen = n - 1;
      for (let i = 0; i < n; i++) {
        r -= d2[i]!;
        if (r < 0) {
          chosen = i;
          break;
        }
      }
      // Floating-point leftovers must not pick a point that is already a centre.
      while (d2[chosen] === 0) chosen = (chosen + n - 1) % n;
    } else {
      chosen = Math.floor(random() * n);
    }
    const c = points[chosen]!.slice();
    centers.push(c);
    for (let i = 0; i < n; i++) d2[i] = Math.min(d2[i]!, dist2(points[i]!, c));
  }
  return centers;
}

function lloyd(points: readonly number[][], initial: number[][], maxIter: number, tol: number): Omit<KMeansResult, 'counts'> & { counts: number[] } {
  const n = points.length;
  const dim = points[0]!.length;
  const k = initial.length;
  let centers = initial.map((c) => c.slice());
  const labels = new Array<number>(n).fill(0);
  let iterations = 0;
  for (let it = 0; it < maxIter; it++) {
    iterations = it + 1;
    for (let i = 0; i < n; i++) labels[i] = nearest(points[i]!, centers);
    const sums = Array.from({ length: k }, () => new Array<number>(dim).fill(0));
    const counts = new Array<number>(k).fill(0);
    for (let i = 0; i < n; i++) {
      const l = labels[i]!;
      counts[l]!++;
      for (let d = 0; d < dim; d++) sums[l]![d]! += points[i]![d]!;
    }
    const next = sums.map((s, j) => (counts[j]! > 0 ? s.map((v) => v / counts[j]!) : centers[j]!.slice()));
    // An empty cluster takes the point farthest from its centre (as scikit-learn relocates them).
    for (let j = 0; j < k; j++) {
      if (counts[j]! > 0) continue;
      let far = -1;
      let farD = -1;
      for (let i = 0; i < n; i++) {
        if (counts[labels[i]!]! <= 1) continue;
        const d = dist2(points[i]!, next[labels[i]!]!);
        if (d > farD) {
          farD = d;
          far = i;
        }
      }
      if (far < 0) continue;
      counts[labels[far]!]!--;
      labels[far] = j;
      counts[j] = 1;
      next[j] = points[far]!.slice();
    }
    const shift = next.reduce((a, c, j) => a + dist2(c, centers[j]!), 0);
    centers = next;
    if (shift <= tol) break;
  }
  for (let i = 0; i < n; i++) labels[i] = nearest(points[i]!, centers);
  const counts = new Array<number>(k).fill(0);
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    counts[labels[i]!]!++;
    inertia += dist2(points[i]!, centers[labels[i]!]!);
  }
  return { centers, labels, counts, inertia, iterations };
}

/**
 * Clusters `points` (rows of equal length) into k groups. k is at most the number of points (as
 * the official script's min(rows, n_clusters)). Deterministic for a given seed.
 */
export function kmeans(points: readonly number[][], k: number, options: KMeansOptions = {}): KMeansResult {
  const n = points.length;
  if (n === 0) throw new Error('kmeans: no points to cluster');
  if (!Number.isInteger(k) || k < 1) throw new Error(`kmeans: k must be a positive integer, got ${k}`);
  if (k > n) throw new Error(`kmeans: k (${k}) exceeds the number of points (${n})`);
  const dim = points[0]!.length;
  for (const [i, p] of points.entries()) {
    if (p.length !== dim) throw new Error(`kmeans: point ${i} has ${p.length} values, point 0 has ${dim}`);
    if (!p.every(Number.isFinite)) throw new Error(`kmeans: point ${i} holds a value that is not a finite number`);
  }
  const nInit = options.nInit ?? 10;
  const maxIter = options.maxIter ?? 300;
  // The tolerance is relative to the data's spread, as scikit-learn's.
  const mean = new Array<number>(dim).fill(0);
  for (const p of points) for (let d = 0; d < dim; d++) mean[d]! += p[d]! / n;
  const variance = points.reduce((a, p) => a + dist2(p, mean), 0) / (n * Math.max(1, dim));
  const tol = (options.tol ?? 1e-4) * variance;
  const random = randomSource(options.seed ?? 0);
  let best: KMeansResult | null = null;
  for (let r = 0; r < nInit; r++) {
    const result = lloyd(points, kmeansPlusPlus(points, k, random), maxIter, tol);
    if (!best || result.inertia < best.inertia) best = result;
  }
  return best!;
}
