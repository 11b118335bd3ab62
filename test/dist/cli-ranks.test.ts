// `pix2pixhd train` as ranks of a job: two ranks started by hand with torchrun's variables, one
// of them SIGKILLed mid-run: the other stops (never hangs) naming it; --continue_train resumes the
// saved run with 2 ranks (the launcher) and, from a copy, with 1, and both end on the same
// weights; a checkpoint of the 2-rank run is synthesised from by single-process `test`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeSyntheticDataset } from '../../src/data/index.js';
import { buildGenerator } from '../../src/models/from-options.js';
import { parseOptions } from '../../src/options/parse.js';
import { runConfig, type TrainingState } from '../../src/run/index.js';
import { dispose, distributedAvailable, loadTensorDict } from '../../src/torch/index.js';
import { cli, tempDir, tinyTrainArgs } from '../cli/helpers.js';
import { biasesBeforeInstanceNorm, CLI_ENTRY, relativeL2, runRanks } from './helpers.js';

const skip = distributedAvailable().gloo ? false : 'this build of the binding has no c10d Gloo (install libgloo-dev and rebuild)';
/** Where training stands in the run's state file (which also names the checkpoint generation). */
const state = (dir: string): TrainingState => {
  const { epoch, epochIter, totalSteps, globalUnfrozen } = JSON.parse(readFileSync(join(dir, 'latest_state.json'), 'utf8')) as TrainingState;
  return { epoch, epochIter, totalSteps, globalUnfrozen };
};

test('a rank killed mid-run stops the job naming it; --continue_train with 2 ranks and with 1; single-process test reads the checkpoint', { skip }, async (t) => {
  const root = tempDir(t, 'p2phd-ranks-');
  const data = join(root, 'data');
  const ck = join(root, 'ck');
  await makeSyntheticDataset({ out: data, n: 4, nTest: 1, width: 64, height: 32, seed: 4 });
  // Batch 2 (1 per rank): 2 iterations of 2 items per epoch, 3 epochs = 12 items; latest every 4.
  const args = (name: string) => [...tinyTrainArgs(data, ck, name), '--batchSize', '2', '--niter', '2', '--niter_decay', '1',
    '--save_latest_freq', '4', '--save_epoch_freq', '100', '--print_freq', '2', '--dist_timeout', '60'];

  // Rank 1 SIGKILLs itself after item 6 (rank 0 has saved item 4 by then: item 6's all-reduces
  // needed it); rank 0's next all-reduce fails at once, naming rank 1.
  const [r0, r1] = await runRanks(CLI_ENTRY, ['train', ...args('run')], 2, { PIX2PIXHD_KILL_AFTER_STEP: '6', PIX2PIXHD_KILL_RANK: '1' }, t);
  assert.equal(r1!.signal, 'SIGKILL', r1!.stderr);
  assert.equal(r0!.status, 1, r0!.stderr);
  assert.match(r0!.stderr, /distributed training stopped on rank 0 of 2: rank 1 \(pid \d+ on [^)]+\) is gone/);
  const run = join(ck, 'run');
  assert.deepEqual({ ...state(run) }, { epoch: 1, epochIter: 4, totalSteps: 4, globalUnfrozen: false }, 'the last save before the kill: the end of epoch 1');
  assert.equal(readFileSync(join(run, 'loss_log.txt'), 'utf8').includes('(epoch: 2'), true, 'rank 0 logged before it stopped');
  cpSync(run, join(ck, 'copy'), { recursive: true });

  // Resumed with the launcher's 2 ranks, and (the copy) in one process: both run to the end.
  const two = cli(['train', ...args('run'), '--continue_train', '--nproc_per_node', '2']);
  assert.equal(two.status, 0, two.stderr);
  assert.match(two.stdout, /resuming at epoch 1/);
  assert.doesNotMatch(two.stdout, /epoch 1\/3/, 'nothing of epoch 1 is trained again');
  const one = cli(['train', ...args('copy'), '--continue_train']);
  assert.equal(one.status, 0, one.stderr);
  for (const dir of [run, join(ck, 'copy')]) assert.deepEqual({ ...state(dir) }, { epoch: 4, epochIter: 0, totalSteps: 12, globalUnfrozen: false });
  // Nobody but rank 0 wrote: no file of a second writer, and one loss line per printed step.
  assert.deepEqual(readdirSync(run).filter((f) => f.includes('.tmp')), []);
  const config = runConfig(parseOptions(args('run'), ['base', 'train']).values);
  const G = buildGenerator(config.network, 0);
  const [w2, w1] = [run, join(ck, 'copy')].map((d) => loadTensorDict(join(d, 'latest_net_G.pth')));
  const rel = relativeL2(w2!, w1!, biasesBeforeInstanceNorm(G));
  assert.ok(rel < 1e-5, `2 ranks and 1 resumed from one save end within ${rel}`);
  G.dispose();
  dispose([w2, w1]);

  // The 2-rank run's checkpoint in single-process test (the architecture from its opt.json).
  const results = join(root, 'results');
  const tested = cli(['test', '--name', 'run', '--checkpoints_dir', ck, '--dataroot', data, '--results_dir', results, '--threads', '1']);
  assert.equal(tested.status, 0, tested.stderr);
  assert.ok(existsSync(join(results, 'run', 'test_latest', 'images', 'scene_00000_synthesized_image.png')));
});
