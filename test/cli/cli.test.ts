// The pix2pixhd command end to end, as a user runs it: make-dataset → train → test (a data set's
// test phase, and one label map of an odd size) → eval; contradicting options, --help, unknown
// commands and options.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeRgb, writeGrey16, writeGrey8 } from '../data/helpers.js';
import { cli, cliAsync, tempDir, tinyTrainArgs } from './helpers.js';

async function size(file: string): Promise<[number, number]> {
  const m = await sharp(file).metadata();
  return [m.width!, m.height!];
}

test('make-dataset → train → test → eval on tiny synthetic scenes', async (t) => {
  const root = tempDir(t);
  const data = join(root, 'data');
  const ck = join(root, 'checkpoints');
  const results = join(root, 'results');

  const made = cli(['make-dataset', 'synthetic', '--out', data, '--n', '3', '--n_test', '2', '--size', '64x32', '--seed', '3']);
  assert.equal(made.status, 0, made.stderr);
  assert.match(made.stdout, /wrote 3 training and 2 test scenes at 64×32/);
  assert.deepEqual(readdirSync(join(data, 'test_label')).sort(), ['scene_00000.png', 'scene_00001.png']);
  assert.deepEqual(await size(join(data, 'train_img', 'scene_00002.png')), [64, 32]);

  const trained = cli(['train', ...tinyTrainArgs(data, ck, 'tiny'), '--niter', '1', '--niter_decay', '1', '--save_latest_freq', '100', '--print_freq', '1']);
  assert.equal(trained.status, 0, trained.stderr);
  assert.match(trained.stdout, /done: 6 iterations/);
  const runDir = join(ck, 'tiny');
  for (const f of ['opt.txt', 'opt.json', 'latest_net_G.pth', 'latest_net_D.pth', '2_net_G.pth', 'iter.txt', 'loss_log.txt', 'latest_state.json']) {
    assert.ok(existsSync(join(runDir, f)), `the run folder has ${f}`);
  }
  assert.deepEqual(readdirSync(join(runDir, 'generations', 'step-00000006')).sort(), ['net_D.pth', 'net_G.pth', 'optim_D.pth', 'optim_G.pth'], 'the last save');

  // test: the architecture comes from the run folder (no --ngf, --n_downsample_global, … here).
  const tested = cli(['test', '--name', 'tiny', '--checkpoints_dir', ck, '--dataroot', data, '--results_dir', results, '--threads', '1']);
  assert.equal(tested.status, 0, tested.stderr);
  const out = join(results, 'tiny', 'test_latest');
  assert.ok(existsSync(join(out, 'index.html')), 'index.html');
  const images = readdirSync(join(out, 'images')).sort();
  for (const name of ['scene_00000', 'scene_00001']) {
    for (const kind of ['input_label', 'synthesized_image', 'real_image']) assert.ok(images.includes(`${name}_${kind}.png`), `${name}_${kind}.png in ${images.join(', ')}`);
    assert.deepEqual(await size(join(out, 'images', `${name}_synthesized_image.png`)), [64, 32], 'the label map\'s size');
  }
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.ok(html.includes('images/scene_00001_synthesized_image.png'), 'the page shows the results');

  // One label map of 50×30, not a multiple of G's 4: the result is 50×30 all the same.
  const label = join(root, 'map', 'odd.png');
  const inst = join(root, 'map', 'odd_inst.png');
  await writeGrey8(label, 50, 30, (x, y) => (y < 10 ? 23 : x < 20 ? 26 : 7)); // sky, a car, road
  await writeGrey16(inst, 50, 30, (x, y) => (y < 10 ? 23 : x < 20 ? 26001 : 7));
  const single = cli(['test', '--name', 'tiny', '--checkpoints_dir', ck, '--label', label, '--inst', inst, '--results_dir', join(root, 'single'), '--threads', '1']);
  assert.equal(single.status, 0, single.stderr);
  const oddOut = join(root, 'single', 'tiny', 'test_latest', 'images', 'odd_synthesized_image.png');
  assert.deepEqual(await size(oddOut), [50, 30]);

  // An explicit option that contradicts the run names both values, and nothing is written.
  const contradicting = cli(['test', '--name', 'tiny', '--checkpoints_dir', ck, '--dataroot', data, '--results_dir', join(root, 'never'), '--ngf', '16']);
  assert.equal(contradicting.status, 2);
  assert.match(contradicting.stderr, /--ngf 16 was given, but the run in .*tiny was trained with ngf = 8/);
  assert.ok(!existsSync(join(root, 'never')));

  // eval: the trained and the untrained network's figures. The trained MAE is checked against the
  // images `test` wrote (same network, same maps): mean |synthesized − real| over every byte.
  const evaluated = cli(['eval', '--name', 'tiny', '--checkpoints_dir', ck, '--dataroot', data, '--threads', '1']);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  assert.match(evaluated.stdout, /^2 images of /m);
  assert.match(evaluated.stdout, /trained\s+untrained/);
  const row = (name: string) => {
    const m = new RegExp(`^${name}\\s+(\\S+)\\s+(\\S+)$`, 'm').exec(evaluated.stdout);
    assert.ok(m, `a '${name}' row in:\n${evaluated.stdout}`);
    return [Number(m[1]), Number(m[2])] as const;
  };
  const [maeTrained, maeUntrained] = row('mean absolute error');
  const [classTrained, classUntrained] = row('mean per-class colour error');
  for (const v of [maeTrained, maeUntrained, classTrained, classUntrained]) assert.ok(Number.isFinite(v) && v >= 0 && v <= 255 * Math.sqrt(3), String(v));
  let sum = 0;
  let count = 0;
  for (const name of ['scene_00000', 'scene_00001']) {
    const fake = await decodeRgb(join(out, 'images', `${name}_synthesized_image.png`));
    const real = await decodeRgb(join(out, 'images', `${name}_real_image.png`));
    assert.equal(fake.data.length, real.data.length);
    for (let i = 0; i < fake.data.length; i++) sum += Math.abs(fake.data[i]! - real.data[i]!);
    count += fake.data.length;
  }
  assert.ok(Math.abs(maeTrained - sum / count) <= 0.051, `eval's trained MAE ${maeTrained} vs ${(sum / count).toFixed(3)} from test's images`);
  assert.match(evaluated.stdout, /^\s+(road|sky|car)\s+\S+\s+\S+$/m, 'per-class rows by Cityscapes name');
  // The paper's segmentation score, with a compact segmenter trained on the run's data and kept in the run folder.
  assert.match(evaluated.stdout, /^\s+pix2pixHD\s+untrained\s+oracle$/m);
  assert.match(evaluated.stdout, /^Pixel acc \(%\)(\s+\d+\.\d\d){3}$/m);
  assert.match(evaluated.stdout, /^Mean IoU(\s+[01]\.\d{4}){3}$/m);
  assert.ok(existsSync(join(ck, 'tiny', 'segmenter', 'compact_segmenter.pth')));
});

test('--help for every command exits 0 listing its options; unknown commands and options exit 2', async () => {
  const runs = {
    train: cliAsync(['train', '--help']).done,
    test: cliAsync(['test', '--help']).done,
    eval: cliAsync(['eval', '--help']).done,
    'make-dataset': cliAsync(['make-dataset', '--help']).done,
    demo: cliAsync(['demo', '--help']).done,
    unknown: cliAsync(['frobnicate']).done,
    none: cliAsync([]).done,
    badOption: cliAsync(['train', '--niterr', '3']).done,
  };
  const r = Object.fromEntries(await Promise.all(Object.entries(runs).map(async ([k, p]) => [k, await p] as const)));
  const expectOptions: Record<string, string[]> = {
    train: ['--ngf', '--niter', '--niter_fix_global', '--load_pretrain', '--continue_train', '--no_vgg_loss', '--save_latest_freq'],
    test: ['--ngf', '--which_epoch', '--results_dir', '--how_many', '--label', '--inst'],
    eval: ['--which_epoch', '--how_many', '--dataroot'],
    'make-dataset': ['--out', '--n', '--size', '--seed'],
    demo: ['--out', '--quick'],
  };
  for (const [command, options] of Object.entries(expectOptions)) {
    const res = r[command]!;
    assert.equal(res.status, 0, `${command} --help: ${res.stderr}`);
    assert.ok(res.stdout.startsWith(`usage: pix2pixhd ${command}`), res.stdout.slice(0, 80));
    for (const o of options) assert.match(res.stdout, new RegExp(`^  ${o}\\b`, 'm'), `${command} --help lists ${o}`);
  }
  assert.ok(!/^ {2}--niter\b/m.test(r.test!.stdout), 'test does not take training options');
  assert.equal(r.unknown!.status, 2);
  assert.match(r.unknown!.stderr, /unknown command 'frobnicate'/);
  assert.equal(r.none!.status, 2);
  assert.match(r.none!.stdout, /^usage: pix2pixhd <command>/);
  assert.equal(r.badOption!.status, 2);
  assert.match(r.badOption!.stderr, /unknown option --niterr; did you mean --niter\?/);
});

test('precision options on the CPU are refused with their reason, before anything is written', async (t) => {
  const dir = tempDir(t);
  const runs = {
    fp16: cliAsync(['train', '--name', 'p', '--checkpoints_dir', dir, '--dataroot', dir, '--fp16']).done,
    test16: cliAsync(['test', '--name', 'p', '--checkpoints_dir', dir, '--data_type', '16']).done,
    eval8: cliAsync(['eval', '--name', 'p', '--checkpoints_dir', dir, '--data_type', '8']).done,
  };
  const r = Object.fromEntries(await Promise.all(Object.entries(runs).map(async ([k, p]) => [k, await p] as const)));
  assert.match(r.fp16!.stderr, /--fp16: mixed precision runs on a CUDA device/);
  assert.match(r.test16!.stderr, /--data_type 16: half precision runs on a CUDA device/);
  assert.match(r.eval8!.stderr, /--data_type 8: .*TensorRT/);
  for (const res of Object.values(r)) assert.notEqual(res.status, 0);
  assert.deepEqual(readdirSync(dir), [], 'no run folder was started');
});

test('--continue_train on a folder without a run starts fresh and saves the options; resuming takes the run\'s architecture', async (t) => {
  const root = tempDir(t);
  const data = join(root, 'data');
  const ck = join(root, 'checkpoints');
  assert.equal(cli(['make-dataset', 'synthetic', '--out', data, '--n', '2', '--n_test', '1', '--size', '64x32', '--seed', '4']).status, 0);
  const first = cli(['train', ...tinyTrainArgs(data, ck, 'fresh'), '--niter', '1', '--niter_decay', '0', '--continue_train']);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /no checkpoint in .* yet; starting from epoch 1/);
  const saved = JSON.parse(readFileSync(join(ck, 'fresh', 'opt.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(saved.ngf, 8, 'opt.json written by a run started with --continue_train');

  // Resumed with more epochs and without the architecture options: the run's own are used, so
  // its checkpoint loads (the defaults, ngf 64 and 4 downsamplings, would not fit it).
  const resumed = cli(['train', '--name', 'fresh', '--dataroot', data, '--checkpoints_dir', ck, '--resize_or_crop', 'none', '--no_vgg_loss',
    '--display_freq', '0', '--no_html', '--nThreads', '1', '--threads', '1', '--niter', '2', '--niter_decay', '0', '--continue_train']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stdout, /resuming at epoch 2/);
  assert.match(resumed.stdout, /done: 4 iterations/);
  const withNgf16 = tinyTrainArgs(data, ck, 'fresh').map((a, i, all) => (all[i - 1] === '--ngf' ? '16' : a));
  const contradicted = cli(['train', ...withNgf16, '--niter', '3', '--niter_decay', '0', '--continue_train']);
  assert.notEqual(contradicted.status, 0);
  assert.match(contradicted.stderr, /--ngf 16 was given, but the run in .* was trained with ngf = 8/);
});
