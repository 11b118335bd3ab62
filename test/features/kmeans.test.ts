// K-means with k-means++ seeding: recovers well-separated groups, is deterministic for a seed,
// and handles the corner cases of small classes (k = n, repeated points).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kmeans, kmeansPlusPlus, nearest } from '../../src/features/kmeans.js';
import { randomSource } from '../../src/util/rng.js';

/** n points around each centre, jittered by ±spread with a seeded generator. */
function blobs(centres: number[][], n: number, spread: number, seed: number): { points: number[][]; truth: number[] } {
  const r = randomSource(seed);
  const points: number[][] = [];
  const truth: number[] = [];
  for (let i = 0; i < n; i++) {
    centres.forEach((c, j) => {
      points.push(c.map((x) => x + (r() * 2 - 1) * spread));
      truth.push(j);
    });
  }
  return { points, truth };
}

const CENTRES = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]];

test('kmeans finds well-separated groups: every point with its own group, centres at the group means', () => {
  const { points, truth } = blobs(CENTRES, 20, 0.1, 3);
  const r = kmeans(points, 5, { seed: 0 });
  assert.equal(r.centers.length, 5);
  // Each found cluster holds exactly one true group.
  for (let j = 0; j < 5; j++) {
    const members = truth.filter((_, i) => r.labels[i] === j);
    assert.equal(members.length, 20, `cluster ${j} has ${members.length} points`);
    assert.equal(new Set(members).size, 1, `cluster ${j} mixes groups`);
    const g = members[0]!;
    const mean = [0, 1, 2].map((d) => points.filter((_, i) => truth[i] === g).reduce((a, p) => a + p[d]!, 0) / 20);
    r.centers[j]!.forEach((x, d) => assert.ok(Math.abs(x - mean[d]!) < 1e-9));
  }
  assert.deepEqual(r.counts, [20, 20, 20, 20, 20]);
  const inertia = points.reduce((a, p, i) => a + p.reduce((s, x, d) => s + (x - r.centers[r.labels[i]!]![d]!) ** 2, 0), 0);
  assert.ok(Math.abs(inertia - r.inertia) < 1e-9);
});

test('kmeans is deterministic for a seed, and the labels are each point\'s nearest centre', () => {
  const { points } = blobs(CENTRES, 8, 0.45, 9);
  const a = kmeans(points, 4, { seed: 7 });
  const b = kmeans(points, 4, { seed: 7 });
  assert.deepEqual(a, b);
  points.forEach((p, i) => assert.equal(a.labels[i], nearest(p, a.centers)));
});

test('kmeans with k = n puts one point per cluster; repeated points still give k centres', () => {
  const pts = [[0, 0], [3, 0], [0, 4]];
  const r = kmeans(pts, 3, { seed: 1 });
  assert.equal(r.inertia, 0);
  assert.deepEqual([...r.centers].sort(), [...pts].sort());
  const same = [[1, 1], [1, 1], [1, 1], [2, 2]];
  const s = kmeans(same, 3, { seed: 0 });
  assert.equal(s.centers.length, 3);
  assert.equal(s.inertia, 0);
  assert.deepEqual(s.counts.reduce((a, b) => a + b, 0), 4);
});

test('k-means++ draws distinct points first, then repeats only when every point is a centre', () => {
  const pts = [[0], [0], [5]];
  const c = kmeansPlusPlus(pts, 3, randomSource(2));
  assert.equal(c.length, 3);
  assert.ok(c.some((x) => x[0] === 5) && c.some((x) => x[0] === 0));
});

test('kmeans refuses empty input, k out of range and rows of different lengths', () => {
  assert.throws(() => kmeans([], 1), /no points/);
  assert.throws(() => kmeans([[1]], 2), /exceeds the number of points/);
  assert.throws(() => kmeans([[1]], 0), /positive integer/);
  assert.throws(() => kmeans([[1, 2], [1]], 1), /point 1 has 1 values/);
  assert.throws(() => kmeans([[1, NaN]], 1), /finite/);
});
