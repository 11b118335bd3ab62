// Per-object features: extraction from E's map, clustering per class with the official filter,
// the style bank, choosing a style per object and filling the feature map — with the errors a
// person meets (an id not in the map, a style index beyond the class's clusters, …).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FeatureClusters } from '../../src/features/cluster-file.js';
import { clusterInstances } from '../../src/features/encode.js';
import { chooseFeatures, choicesForImage, fillFeatureMap, parseStyles, sampleFeatureMap } from '../../src/features/feature-map.js';
import { classOfInstance, extractInstanceFeatures, relativeArea } from '../../src/features/instance-features.js';
import { StyleBank } from '../../src/features/style-bank.js';

// A 8×4 map: road (7) on the left half, car 26001 top right, car 26002 bottom right.
const W = 8;
const H = 4;
const INST = Int32Array.from({ length: W * H }, (_, p) => ((p % W) < 4 ? 7 : p < W * 2 ? 26001 : 26002));

test('instance ids give their class as the official code: id // 1000 from 1000 on, else the id', () => {
  assert.equal(classOfInstance(7), 7);
  assert.equal(classOfInstance(999), 999);
  assert.equal(classOfInstance(26000), 26);
  assert.equal(classOfInstance(26017), 26);
  assert.equal(relativeArea(16, 8, 4), 16 / 1);
  assert.equal(relativeArea(64, 64, 32), 1);
});

test('extractInstanceFeatures: per object the mean feature, its area and its mean photo colour', () => {
  const featNum = 2;
  const feats = new Float32Array(featNum * W * H);
  for (let p = 0; p < W * H; p++) {
    feats[p] = INST[p] === 7 ? 0.5 : INST[p] === 26001 ? -0.25 : 1; // channel 0: constant per object
    feats[W * H + p] = p % 2; // channel 1: alternating, mean 0.5 per object
  }
  const rgb = new Uint8Array(W * H * 3).map((_, i) => (Math.floor(i / 3) % W < 4 ? 10 : 200));
  const rows = extractInstanceFeatures(feats, featNum, INST, W, H, { interleaved: rgb });
  assert.deepEqual(rows.map((r) => [r.id, r.label, r.pixels]), [[7, 7, 16], [26001, 26, 8], [26002, 26, 8]]);
  assert.deepEqual(rows.map((r) => r.feature), [[0.5, 0.5], [-0.25, 0.5], [1, 0.5]]);
  assert.deepEqual(rows[0]!.meanRgb, [10, 10, 10]);
  assert.deepEqual(rows[1]!.meanRgb, [200, 200, 200]);
  assert.equal(rows[1]!.area, 8 / Math.floor(32 / 32));
});

/** Objects of class 26 with features near one of two points, and their colours. */
function images() {
  const mk = (id: number, f: number[], c: [number, number, number], area: number) => ({ id, label: classOfInstance(id), feature: f, area, pixels: 1, meanRgb: c });
  return [
    { name: 'a', path: 'a.png', instances: [mk(26000, [1, 0, 0], [200, 0, 0], 2), mk(26001, [0, 1, 0], [0, 0, 200], 2), mk(7, [0, 0, 0], [90, 90, 90], 9)] },
    { name: 'b', path: 'b.png', instances: [mk(26000, [0.9, 0.1, 0], [180, 20, 0], 1), mk(26001, [0.1, 0.9, 0], [0, 20, 180], 0.7), mk(26002, [5, 5, 5], [0, 0, 0], 0.2)] },
  ];
}

test('clusterInstances: K-means per class over the objects above min_area; fewer clusters when a class has fewer objects; swatches', () => {
  const c = clusterInstances(images(), { n_clusters: 2, min_area: 0.5, seed: 0, feat_num: 3, label_nc: 35, grouping: 'instance' });
  assert.deepEqual([...c.classes.keys()], [7, 26]);
  assert.equal(c.classes.get(7)!.centers.length, 1, 'one road object: one cluster');
  const car = c.classes.get(26)!;
  // 26002 (area 0.2) is left out: the centres are the means of the two red and the two blue cars.
  const order = car.centers[0]![0]! > 0.5 ? [0, 1] : [1, 0];
  assert.deepEqual(car.centers[order[0]!]!.map((x) => +x.toFixed(6)), [0.95, 0.05, 0]);
  assert.deepEqual(car.centers[order[1]!]!.map((x) => +x.toFixed(6)), [0.05, 0.95, 0]);
  assert.deepEqual(car.counts, [2, 2]);
  assert.deepEqual(car.swatches![order[0]!], [190, 10, 0]);
  assert.deepEqual(car.swatches![order[1]!], [0, 10, 190]);
  // Same input, same seed: the same clusters, digit for digit.
  assert.deepEqual(clusterInstances(images(), { n_clusters: 2, min_area: 0.5, seed: 0, feat_num: 3, label_nc: 35, grouping: 'instance' }), c);
  // min_area 0 keeps the small car too.
  assert.equal(clusterInstances(images(), { n_clusters: 10, min_area: 0, seed: 0, feat_num: 3, label_nc: 35, grouping: 'instance' }).classes.get(26)!.centers.length, 5);
});

const clusters = (): FeatureClusters => ({
  feat_num: 3, label_nc: 35, n_clusters: 3, grouping: 'instance', min_area: 0.5, seed: 0, file: 'clusters.json',
  classes: new Map([
    [7, { centers: [[0, 0, 0]], counts: [5], swatches: [[90, 90, 90]] }],
    [26, { centers: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], counts: [3, 2, 1], swatches: [[200, 0, 0], [0, 200, 0], null] }],
  ]),
});

test('the style bank lists classes with names, centres and swatches, for an editor', () => {
  const bank = new StyleBank(clusters());
  assert.equal(bank.featNum, 3);
  const list = bank.classes();
  assert.deepEqual(list.map((c) => [c.classId, c.name, c.styles.length]), [[7, 'road', 1], [26, 'car', 3]]);
  assert.deepEqual(list[1]!.styles[1], { index: 1, center: [0, 1, 0], swatch: [0, 200, 0], count: 2 });
  assert.equal(list[1]!.styles[2]!.swatch, null);
  assert.deepEqual(JSON.parse(JSON.stringify(bank)).classes[1].styles[0].center, [1, 0, 0]);
  assert.throws(() => bank.style(26, 3), /style 3 does not exist for class 26 \(car\): it has 3 styles, 0–2/);
  assert.throws(() => bank.style(24, 0), /class 24 has no styles in clusters\.json \(classes with styles: 7, 26\)/);
});

test('chooseFeatures: instance choices, class choices, vectors, seeded draws; zeros for classes without styles', () => {
  const bank = new StyleBank(clusters());
  const ids = [7, 24000, 26001, 26002];
  const styles = parseStyles({ 26001: 2, 26002: [0.5, -0.5, 0.25], classes: { 7: 0 } });
  const chosen = chooseFeatures(ids, bank, styles, () => 0.99);
  assert.deepEqual(chosen.map((c) => [c.id, c.cluster, c.how]), [[7, 0, 'class'], [24000, null, 'none'], [26001, 2, 'instance'], [26002, null, 'instance']]);
  assert.deepEqual(chosen[2]!.vector, [0, 0, 1]);
  assert.deepEqual(chosen[3]!.vector, [0.5, -0.5, 0.25]);
  assert.deepEqual(chosen[1]!.vector, [0, 0, 0]);
  // Random draws are reproducible per (seed, image name) and differ across names.
  const a = sampleFeatureMap(INST, W, H, bank, { seed: 3, name: 'x' });
  assert.deepEqual(sampleFeatureMap(INST, W, H, bank, { seed: 3, name: 'x' }), a);
  const picks = new Set(Array.from({ length: 20 }, (_, i) => sampleFeatureMap(INST, W, H, bank, { seed: i, name: 'x' }).chosen[1]!.cluster));
  assert.ok(picks.size >= 2, 'different seeds draw different clusters');
});

test('fillFeatureMap writes each object\'s vector into its pixels, channel by channel', () => {
  const map = fillFeatureMap(INST, W, H, [{ id: 26001, vector: [1, 2, 3] }, { id: 7, vector: [-1, 0, 0] }], 3);
  const at = (k: number, x: number, y: number) => map[k * W * H + y * W + x];
  assert.equal(at(0, 5, 0), 1);
  assert.equal(at(2, 5, 1), 3);
  assert.equal(at(0, 0, 3), -1);
  assert.equal(at(1, 6, 3), 0, 'ids not given stay 0');
});

test('bad styles are clear errors: an id not in the map, a style beyond the class\'s clusters, a wrong vector length, bad JSON shapes', () => {
  const bank = new StyleBank(clusters());
  const ids = [7, 26001, 26002];
  assert.throws(() => chooseFeatures(ids, bank, parseStyles({ 26005: 0 }), Math.random, 'scene.png'), /instance id 26005 is not in scene\.png \(its ids: 7, 26001, 26002\)/);
  assert.throws(() => chooseFeatures(ids, bank, parseStyles({ 26001: 3 }), Math.random), /instance 26001: style 3 does not exist for class 26 \(car\): it has 3 styles, 0–2/);
  assert.throws(() => chooseFeatures(ids, bank, parseStyles({ classes: { 26: -1 } }), Math.random), /style -1 does not exist/);
  assert.throws(() => chooseFeatures([24001], bank, parseStyles({ 24001: 0 }), Math.random), /class 24 has no styles/);
  assert.throws(() => chooseFeatures(ids, bank, parseStyles({ 26001: [1, 2] }), Math.random), /feature vector has 2 values, the run's feat_num is 3/);
  assert.throws(() => parseStyles({ 26001: 'red' }), /expected a cluster index \(integer\) or a feature vector/);
  assert.throws(() => parseStyles({ car: 1 }), /unknown key 'car'/);
  assert.throws(() => parseStyles([1, 2]), /expected a JSON object/);
  // Per-image choices apply to their image only.
  const file = parseStyles({ classes: { 26: 0 }, images: { b: { 26001: 1 } } });
  assert.equal(choicesForImage(file, 'a').instances!.size, 0);
  assert.equal(choicesForImage(file, 'b').instances!.get(26001), 1);
  assert.equal(choicesForImage(file, 'b').classes!.get(26), 0);
});
