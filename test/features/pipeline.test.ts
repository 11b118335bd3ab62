// The feature pipeline end to end on tiny synthetic scenes and a tiny network: training with
// --instance_feat saves E, encode-features clusters deterministically, test synthesises from the
// clusters (random, chosen by --styles, or encoded from the photos), precompute-features writes
// maps that --load_features trains on, and --label_feat runs group by label.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeFeaturesCommand } from '../../src/cli/commands/encode-features.js';
import { precomputeFeaturesCommand } from '../../src/cli/commands/precompute-features.js';
import { styleEvalCommand } from '../../src/cli/commands/style-eval.js';
import { testCommand } from '../../src/cli/commands/test.js';
import { trainCommand } from '../../src/cli/commands/train.js';
import { makeSyntheticDataset, readIdMap, readRgb } from '../../src/data/index.js';
import { readClusterFile } from '../../src/features/cluster-file.js';

const sink = () => {
  let text = '';
  const stream = { write: (s: string) => ((text += s), true), isTTY: false } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
};

const tiny = (data: string, checkpoints: string, name: string) => [
  '--name', name, '--dataroot', data, '--checkpoints_dir', checkpoints, '--label_nc', '35', '--resize_or_crop', 'none',
  '--netG', 'global', '--ngf', '4', '--n_downsample_global', '2', '--n_blocks_global', '1', '--ndf', '4', '--num_D', '1', '--n_layers_D', '1',
  '--no_vgg_loss', '--display_freq', '0', '--no_html', '--nThreads', '1', '--threads', '1', '--niter', '1', '--niter_decay', '0',
  '--nef', '4', '--n_downsample_E', '2', '--print_freq', '0', '--save_latest_freq', '0',
];

test('instance features end to end: train with E, encode + cluster, synthesise from styles, precompute, load_features, label_feat', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'p2phd-features-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const data = join(root, 'syn');
  const ck = join(root, 'checkpoints');
  const run = join(ck, 'feat');
  await makeSyntheticDataset({ out: data, n: 3, nTest: 1, width: 64, height: 32, seed: 5 });

  // Training with --instance_feat: E trains with G and is saved beside G and D.
  await trainCommand([...tiny(data, ck, 'feat'), '--instance_feat'], sink().stream);
  for (const f of ['latest_net_E.pth', '1_net_E.pth', 'latest_net_G.pth']) assert.ok(existsSync(join(run, f)), f);

  // encode-features: the same file twice for the same seed; the run's options come from its folder.
  const first = await encodeFeaturesCommand(['--name', 'feat', '--checkpoints_dir', ck, '--min_area', '0', '--n_clusters', '3'], sink().stream);
  assert.equal(first.file, join(run, 'features_clustered_003.json'));
  const text = readFileSync(first.file, 'utf8');
  await encodeFeaturesCommand(['--name', 'feat', '--checkpoints_dir', ck, '--min_area', '0', '--n_clusters', '3'], sink().stream);
  assert.equal(readFileSync(first.file, 'utf8'), text, 'encoding + clustering is deterministic for a seed');
  const clusters = readClusterFile(first.file);
  assert.equal(clusters.feat_num, 3);
  assert.equal(clusters.label_nc, 35);
  const car = clusters.classes.get(26)!;
  assert.ok(car && car.centers.length === 3, 'the cars (≥ 3 in 3 scenes) get 3 clusters');
  assert.ok(car.swatches!.every((s) => s !== null));
  // The official filter (relative area > 0.5) leaves out every object smaller than 1/64 of the image.
  const official = await encodeFeaturesCommand(['--name', 'feat', '--checkpoints_dir', ck, '--out', join(root, 'official.json')], sink().stream);
  assert.ok(official.clustered < official.objects);
  const named = await encodeFeaturesCommand(['--name', 'feat', '--checkpoints_dir', ck, '--min_area', '0', '--cluster_path', 'mine.json'], sink().stream);
  assert.equal(named.file, join(run, 'mine.json'), 'an explicit --cluster_path is where the clusters go (in the run folder)');

  // test: from the clusters (random styles), then chosen with --styles, then from the photos.
  const base = ['--name', 'feat', '--checkpoints_dir', ck, '--dataroot', data, '--results_dir', join(root, 'results'), '--cluster_path', 'features_clustered_003.json'];
  const out = sink();
  assert.equal((await testCommand(base, out.stream)).results, 1);
  assert.match(out.text(), /feature styles from .*features_clustered_003\.json/);
  const inst = await readIdMap(join(data, 'test_inst', 'scene_00000.png'), 'instance map');
  const carId = [...new Set(inst.data)].find((id) => id >= 26000)!;
  const styles = join(root, 'styles.json');
  writeFileSync(styles, JSON.stringify({ [carId]: 2, classes: { 7: [0.5, 0.5, 0.5] } }));
  assert.equal((await testCommand([...base, '--styles', styles], sink().stream)).results, 1);
  writeFileSync(styles, JSON.stringify({ [carId]: 3 }));
  await assert.rejects(testCommand([...base, '--styles', styles], sink().stream), /instance \d+: style 3 does not exist for class 26 \(car\): it has 3 styles, 0–2/);
  writeFileSync(styles, JSON.stringify({ 26099: 0 }));
  await assert.rejects(testCommand([...base, '--styles', styles], sink().stream), /instance id 26099 is not in the instance map of scene_00000/);
  assert.equal((await testCommand([...base.slice(0, -2), '--use_encoded_image'], sink().stream)).results, 1);
  // A cluster file of another run's feat_num, or no cluster file at all.
  const other = JSON.parse(text);
  other.feat_num = 4;
  other.classes = { 26: { centers: [[0, 0, 0, 0]] } };
  writeFileSync(join(root, 'other.json'), JSON.stringify(other));
  await assert.rejects(testCommand([...base.slice(0, -2), '--cluster_path', join(root, 'other.json')], sink().stream), /feat_num 4, the run uses feat_num 3/);
  await assert.rejects(testCommand(base.slice(0, -2), sink().stream), /no feature clusters at .*features_clustered_010\.npy.*encode-features/s);

  // style-eval: one figure per car cluster, matched against the palette as the real cars look.
  const se = await styleEvalCommand([...base, '--how_many', '1'], sink().stream);
  assert.equal(se.clusters.length, 3);
  assert.equal(se.reference, 'photos');
  assert.ok(se.encoded && se.encoded.cars > 0, 'the encoded-photo figure is there');
  assert.ok(se.recovered.length >= 1 && se.recovered.length <= 3);
  assert.ok(se.clusters.every((c) => c.cars > 0 && c.meanColour.every((x) => x >= 0 && x <= 255)));
  assert.deepEqual(JSON.parse(readFileSync(join(run, 'style_eval.json'), 'utf8')).recovered, se.recovered);

  // precompute-features: one PNG per training image at its size, each object one colour.
  const pre = await precomputeFeaturesCommand(['--name', 'feat', '--checkpoints_dir', ck], sink().stream);
  assert.equal(pre.files.length, 3);
  assert.deepEqual(readdirSync(join(data, 'train_feat')).sort(), ['scene_00000.png', 'scene_00001.png', 'scene_00002.png']);
  const fmap = await readRgb(join(data, 'train_feat', 'scene_00000.png'));
  const tinst = await readIdMap(join(data, 'train_inst', 'scene_00000.png'), 'instance map');
  assert.deepEqual([fmap.width, fmap.height], [64, 32]);
  const colour = new Map<number, string>();
  for (let p = 0; p < 64 * 32; p++) {
    const c = `${fmap.data[p * 3]},${fmap.data[p * 3 + 1]},${fmap.data[p * 3 + 2]}`;
    const id = tinst.data[p]!;
    if (colour.has(id)) assert.equal(colour.get(id), c, `object ${id} has one colour`);
    else colour.set(id, c);
  }

  // --load_features: G trains on the precomputed maps, and there is no E.
  await trainCommand([...tiny(data, ck, 'loaded'), '--instance_feat', '--load_features'], sink().stream);
  assert.ok(existsSync(join(ck, 'loaded', 'latest_net_G.pth')));
  assert.ok(!existsSync(join(ck, 'loaded', 'latest_net_E.pth')));

  // --label_feat: E averages over the label map; the clusters are per label (grouping 'label').
  await trainCommand([...tiny(data, ck, 'bylabel'), '--label_feat', '--max_dataset_size', '1'], sink().stream);
  const byLabel = await encodeFeaturesCommand(['--name', 'bylabel', '--checkpoints_dir', ck, '--min_area', '0'], sink().stream);
  const lc = readClusterFile(byLabel.file);
  assert.equal(lc.grouping, 'label');
  assert.ok([...lc.classes.values()].every((c) => c.centers.length === 1), 'one image: one object per label');
  await assert.rejects(
    testCommand(['--name', 'bylabel', '--checkpoints_dir', ck, '--dataroot', data, '--results_dir', join(root, 'results'), '--cluster_path', first.file], sink().stream),
    /the clusters hold instance features, the run uses label features/,
  );
});
