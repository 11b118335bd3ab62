// --eval_freq: the segmentation score of G during training, logged, with the best G kept.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, tempDir, tinyTrainArgs } from '../cli/helpers.js';

test('train --eval_freq 1 scores G on the test phase each epoch (eval_log.jsonl) and keeps best_net_G.pth, usable by test', (t) => {
  const root = tempDir(t);
  const data = join(root, 'data');
  const ck = join(root, 'ck');
  assert.equal(cli(['make-dataset', 'synthetic', '--out', data, '--n', '2', '--n_test', '1', '--size', '64x32', '--seed', '4']).status, 0);
  const trained = cli(['train', ...tinyTrainArgs(data, ck, 'v').filter((a) => a !== '--no_html'), '--niter', '2', '--niter_decay', '0', '--eval_freq', '1']);
  assert.equal(trained.status, 0, trained.stderr);
  const log = readFileSync(join(ck, 'v', 'eval_log.jsonl'), 'utf-8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; total_steps: number; meanIou: number; pixelAccuracy: number; best: boolean });
  assert.deepEqual(log.map((r) => [r.epoch, r.total_steps]), [[1, 2], [2, 4]]);
  for (const r of log) assert.ok(r.meanIou >= 0 && r.meanIou <= 1 && r.pixelAccuracy >= 0 && r.pixelAccuracy <= 1);
  assert.equal(log[0]!.best, true, 'the first score is the best so far');
  assert.equal(log[1]!.best, log[1]!.meanIou > log[0]!.meanIou);
  assert.match(trained.stdout, /epoch 1: segmentation score on 1 test images: pixel accuracy \d+\.\d\d%, mean IoU \d\.\d{4}/);
  assert.ok(existsSync(join(ck, 'v', 'best_net_G.pth')));
  const page = readFileSync(join(ck, 'v', 'web', 'index.html'), 'utf-8');
  assert.match(page, /Segmentation score on held-out images/);
  assert.match(page, /mean_IoU/, 'the chart\'s legend names the series');
  const tested = cli(['test', '--name', 'v', '--checkpoints_dir', ck, '--dataroot', data, '--results_dir', join(root, 'r'), '--which_epoch', 'best', '--threads', '1']);
  assert.equal(tested.status, 0, tested.stderr);
});
