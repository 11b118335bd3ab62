// A training run killed with SIGKILL (no chance to clean up) at a fixed step, and resumed with --continue_train:
// every checkpoint under a final name is whole, the run resumes at the saved epoch and
// iteration, and it finishes on the same iterations, losses and weights as a run never stopped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { makeSyntheticDataset } from '../../src/data/index.js';
import { dispose, loadTensorDict, tidy } from '../../src/torch/index.js';
import { readPthFile } from '../../src/torch/pth/index.js';
import { adamFromPy, type TrainingState } from '../../src/run/checkpoint.js';
import { isTempName } from '../../src/util/atomic-file.js';
import { GENERATIONS_DIR, type GenerationRecord } from '../../src/run/generation.js';
import { trainCommand } from '../../src/cli/commands/train.js';
import { cliAsync, silentOutput, tempDir, tinyTrainArgs } from '../cli/helpers.js';

interface LossLine { epoch: number; iter: number; total_steps: number; lr: number; losses: Record<string, number> }

const readLog = (dir: string): LossLine[] => existsSync(join(dir, 'loss_log.jsonl'))
  ? readFileSync(join(dir, 'loss_log.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as LossLine)
  : [];

const tmpFiles = (dir: string) => readdirSync(dir).filter(isTempName).sort();

/** Every file under a final .pth name (the run folder's, the current generation's) parses; state dicts load as tensors, optimizer files as Adam states. */
function assertCheckpointsWhole(dir: string): string[] {
  const generations = join(dir, GENERATIONS_DIR);
  const current = readdirSync(generations).map((g) => join(GENERATIONS_DIR, g));
  assert.equal(current.length, 1, `one generation folder: ${current.join(', ')}`);
  const files = [...readdirSync(dir), ...readdirSync(join(dir, current[0]!)).map((f) => join(current[0]!, f))].filter((f) => f.endsWith('.pth'));
  for (const f of files) {
    const path = join(dir, f);
    if (/net_[GDE]\.pth$/.test(f)) {
      const tensors = loadTensorDict(path);
      assert.ok(tensors.size > 0, `${f} holds tensors`);
      dispose(tensors);
    } else {
      const sd = adamFromPy(readPthFile(path), path);
      assert.ok(sd.state.size > 0, `${f} holds Adam moments`);
      for (const s of sd.state.values()) { s.expAvg.dispose(); s.expAvgSq.dispose(); }
    }
  }
  return files;
}

test('kill -9 during training, then --continue_train: resumes at the saved iteration and ends as a run never stopped', async (t) => {
  const root = tempDir(t, 'p2phd-resume-');
  const data = join(root, 'data');
  const ck = join(root, 'checkpoints');
  // 4 scenes × 4 epochs (niter 2, niter_decay 2) = 16 iterations; the latest checkpoint every 3.
  await makeSyntheticDataset({ out: data, n: 4, nTest: 1, width: 64, height: 32, seed: 2 });
  const schedule = ['--niter', '2', '--niter_decay', '2', '--save_latest_freq', '3', '--save_epoch_freq', '100', '--print_freq', '1'];
  const perEpoch = 4;
  const total = 16;

  // The same run, never stopped, alongside.
  const straight = cliAsync(['train', ...tinyTrainArgs(data, ck, 'straight'), ...schedule]);

  const runDir = join(ck, 'killed');
  // Killed (SIGKILL, no clean-up) by the trainer's fault-injection point right after step 8: the
  // last save was at step 6, so steps 7 and 8 are logged but not saved.
  const first = cliAsync(['train', ...tinyTrainArgs(data, ck, 'killed'), ...schedule], { PIX2PIXHD_KILL_AFTER_STEP: '8' });
  // Whatever happens to the test, no child is left running.
  t.after(() => { for (const c of [straight.child, first.child]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); });
  const killed = await first.done;
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);

  // Every final-named file is whole, wherever the kill fell.
  const files = assertCheckpointsWhole(runDir);
  assert.ok(files.includes('latest_net_G.pth') && files.some((f) => f.endsWith('optim_D.pth')), files.join(', '));
  const saved = JSON.parse(readFileSync(join(runDir, 'latest_state.json'), 'utf8')) as TrainingState;
  assert.equal(saved.totalSteps, 6, 'the last save before the kill');
  assert.equal((saved.epoch - 1) * perEpoch + saved.epochIter, saved.totalSteps, 'epoch and iteration agree with the step count');
  assert.equal(readFileSync(join(runDir, 'iter.txt'), 'utf8'), `${saved.epoch}\n${saved.epochIter}\n`);
  const linesAtKill = readLog(runDir).length;
  assert.equal(linesAtKill, 8, 'every step up to the kill is logged');

  // Temporary files of dead writers (planted here, as a kill in the middle of a save leaves them)
  // are never taken for checkpoints, and the resumed run removes them.
  const deadPid = 999999;
  const planted = ['latest_net_G.pth', 'latest_state.json', 'iter.txt'].map((f) => `.${f}.${deadPid}.0badf00d.tmp`);
  writeFileSync(join(runDir, planted[0]!), 'not a checkpoint');
  writeFileSync(join(runDir, planted[1]!), JSON.stringify({ epoch: 4, epochIter: 3, totalSteps: 15, globalUnfrozen: false }));
  writeFileSync(join(runDir, planted[2]!), '4\n3\n');
  assert.deepEqual(tmpFiles(runDir), [...planted].sort());

  const resumed = await cliAsync(['train', ...tinyTrainArgs(data, ck, 'killed'), ...schedule, '--continue_train']).done;
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`resuming at epoch ${saved.epoch}\\b`));
  assert.match(resumed.stdout, new RegExp(`done: ${total} iterations`));
  const base = await straight.done;
  assert.equal(base.status, 0, base.stderr);
  assert.match(base.stdout, new RegExp(`done: ${total} iterations`));

  // The log holds one record per step: those of the killed run up to the save, then the resumed
  // run's steps saved+1 … 16, starting in the saved epoch right after the saved iteration.
  const log = readLog(runDir);
  assert.deepEqual(log.map((r) => r.total_steps), Array.from({ length: total }, (_, i) => i + 1));
  assert.match(readFileSync(join(runDir, 'loss_log.txt'), 'utf8'), new RegExp(`Resumed after total_steps ${saved.totalSteps}: the ${linesAtKill - saved.totalSteps} records`));
  const after = log.slice(saved.totalSteps);
  assert.deepEqual(after.map((r) => r.total_steps), Array.from({ length: total - saved.totalSteps }, (_, i) => saved.totalSteps + 1 + i));
  assert.equal(after[0]!.epoch, Math.floor(saved.totalSteps / perEpoch) + 1);
  assert.equal(after[0]!.iter, (saved.totalSteps % perEpoch) + 1);
  // … with the losses and the learning rates of the run never stopped (lr: 2e-4 for epochs 1–3, 1e-4 in epoch 4).
  const reference = readLog(join(ck, 'straight'));
  assert.equal(reference.length, total);
  for (const r of after) {
    const ref = reference[r.total_steps - 1]!;
    assert.equal(ref.total_steps, r.total_steps);
    assert.deepEqual([r.epoch, r.iter], [ref.epoch, ref.iter]);
    assert.deepEqual(r.losses, ref.losses, `losses at step ${r.total_steps}`);
    assert.equal(r.lr, r.epoch <= 3 ? 2e-4 : 1e-4, `lr in epoch ${r.epoch}`);
  }

  const finalState = JSON.parse(readFileSync(join(runDir, 'latest_state.json'), 'utf8')) as TrainingState;
  assert.deepEqual([finalState.epoch, finalState.epochIter, finalState.totalSteps, finalState.globalUnfrozen], [5, 0, total, false]);
  assertCheckpointsWhole(runDir);
  assert.ok(existsSync(join(runDir, '4_net_G.pth')));
  for (const net of ['G', 'D']) {
    const a = loadTensorDict(join(runDir, `latest_net_${net}.pth`));
    const b = loadTensorDict(join(ck, 'straight', `latest_net_${net}.pth`));
    assert.deepEqual([...a.keys()], [...b.keys()]);
    for (const [k, v] of a) assert.equal(tidy(() => v.sub(b.get(k)!).abs().max().item()), 0, `${net} ${k} equals the uninterrupted run's`);
    dispose([a, b]);
  }
  assert.deepEqual(tmpFiles(runDir), [], 'the stale temporary files are gone');
  
});

test('a damaged latest checkpoint is refused naming the file; --continue_train --which_epoch N goes on from epoch N\'s networks as the official code does', async (t) => {
  const root = tempDir(t, 'p2phd-which-epoch-');
  const data = join(root, 'data');
  const ck = join(root, 'checkpoints');
  await makeSyntheticDataset({ out: data, n: 2, nTest: 1, width: 32, height: 16, seed: 3 });
  const schedule = ['--niter', '2', '--niter_decay', '0', '--save_latest_freq', '100', '--save_epoch_freq', '1', '--print_freq', '1'];
  await trainCommand([...tinyTrainArgs(data, ck, 'run'), ...schedule], silentOutput);
  const runDir = join(ck, 'run');
  const reference = readLog(runDir);
  assert.deepEqual(reference.map((r) => r.total_steps), [1, 2, 3, 4]);

  // The latest generation loses a file (a disk error, a person's mistake): resuming from it is refused.
  const state = JSON.parse(readFileSync(join(runDir, 'latest_state.json'), 'utf8')) as GenerationRecord;
  const optim = join(runDir, GENERATIONS_DIR, state.generation, 'optim_D.pth');
  rmSync(optim);
  await assert.rejects(trainCommand([...tinyTrainArgs(data, ck, 'run'), ...schedule, '--niter', '3', '--continue_train'], silentOutput),
    (e: Error) => e.message.includes(optim) && /step 4/.test(e.message) && /--which_epoch N \(this run has epochs 1, 2\)/.test(e.message));

  // From epoch 1's networks (fresh optimizers), on to epoch 3: epoch 2 is trained again from the same
  // networks, so its first step's losses (computed before any update) are the first run's.
  let said = '';
  const capture = new Writable({ write: (c, _e, cb) => { said += String(c); cb(); } }) as unknown as NodeJS.WriteStream;
  const result = await trainCommand([...tinyTrainArgs(data, ck, 'run'), ...schedule, '--niter', '3', '--continue_train', '--which_epoch', '1'], capture);
  assert.match(said, /from the networks of epoch 1 \(.*1_net_G\.pth\), with fresh optimizers/);
  assert.equal(result.totalSteps, 6);
  const log = readLog(runDir);
  assert.deepEqual(log.map((r) => r.total_steps), [1, 2, 3, 4, 5, 6], 'one record per step: the replaced ones were dropped');
  assert.deepEqual(log[2]!.losses, reference[2]!.losses, 'step 3 starts from epoch 1\'s networks');
  assert.notDeepEqual(log[3]!.losses, reference[3]!.losses, 'step 4 follows fresh optimizers, not the first run\'s');
  const final = JSON.parse(readFileSync(join(runDir, 'latest_state.json'), 'utf8')) as GenerationRecord;
  assert.deepEqual([final.epoch, final.totalSteps, final.names], [4, 6, ['latest', '3']]);
});
