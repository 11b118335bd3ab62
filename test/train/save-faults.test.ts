// Crash safety of checkpoints, tried at every moment that matters: a training run is killed with
// SIGKILL right after the N-th file operation of its saves (the writer's fault-injection hook),
// for every N of a run whose saves are one of each kind: the numbered save that unfreezes G1, a
// `latest` save inside an epoch, and the final numbered save. Each killed run is resumed with
// --continue_train and must end bit-identical to the run never killed (networks, optimizers, the
// image pool, the numbered checkpoints, the loss log), with no temporary file or stray folder left.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSyntheticDataset } from '../../src/data/index.js';
import { trainCommand } from '../../src/cli/commands/train.js';
import { GENERATIONS_DIR, type GenerationRecord } from '../../src/run/generation.js';
import { isTempName } from '../../src/util/atomic-file.js';
import { cliAsync, silentOutput, tempDir } from '../cli/helpers.js';

/** 2 scenes × 2 epochs: saves at step 2 (epoch 1: G1 unfreezes), step 3 (latest), step 4 (epoch 2, the last). */
const runArgs = (data: string, ck: string, name: string) => [
  '--name', name, '--dataroot', data, '--checkpoints_dir', ck, '--label_nc', '35', '--resize_or_crop', 'none',
  '--netG', 'local', '--ngf', '4', '--n_downsample_global', '1', '--n_blocks_global', '1', '--n_blocks_local', '1', '--niter_fix_global', '1',
  '--ndf', '4', '--num_D', '1', '--n_layers_D', '1', '--no_vgg_loss', '--pool_size', '2',
  '--niter', '2', '--niter_decay', '0', '--save_latest_freq', '3', '--save_epoch_freq', '1', '--print_freq', '1',
  '--display_freq', '0', '--no_html', '--nThreads', '1', '--threads', '1',
];


/** Every entry under the run folder that a crash could have left: temporary names, and generation folders. */
function leftovers(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (isTempName(e.name)) found.push(join(rel, e.name));
      else if (e.isDirectory()) walk(join(d, e.name), join(rel, e.name));
    }
  };
  walk(dir, '');
  return found;
}

/** The bytes that must equal the uninterrupted run's. */
function finalFiles(dir: string): Map<string, Buffer> {
  const state = JSON.parse(readFileSync(join(dir, 'latest_state.json'), 'utf8')) as GenerationRecord;
  const out = new Map<string, Buffer>();
  for (const f of ['latest_net_G.pth', 'latest_net_D.pth', '1_net_G.pth', '1_net_D.pth', '2_net_G.pth', '2_net_D.pth', 'iter.txt']) out.set(f, readFileSync(join(dir, f)));
  for (const f of readdirSync(join(dir, GENERATIONS_DIR, state.generation))) out.set(`generation/${f}`, readFileSync(join(dir, GENERATIONS_DIR, state.generation, f)));
  const log = readFileSync(join(dir, 'loss_log.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { total_steps: number; losses: unknown });
  out.set('loss_log', Buffer.from(JSON.stringify(log.map((r) => [r.total_steps, r.losses]))));
  return out;
}

test('SIGKILL after every file operation of every kind of save, then --continue_train: each run ends bit-identical to the uninterrupted one, nothing left behind', async (t) => {
  const root = tempDir(t, 'p2phd-faults-');
  const data = join(root, 'data');
  const ck = join(root, 'checkpoints');
  await makeSyntheticDataset({ out: data, n: 2, nTest: 1, width: 32, height: 16, seed: 5 });

  // The uninterrupted run, listing the operations of its saves.
  const reference = await cliAsync(['train', ...runArgs(data, ck, 'reference')], { PIX2PIXHD_TRACE_SAVE_OPS: '1' }).done;
  assert.equal(reference.status, 0, reference.stderr);
  const ops = reference.stderr.split('\n').filter((l) => l.startsWith('save-op ')).map((l) => l.slice('save-op '.length));
  const commits = ops.filter((o) => / commit latest_state\.json/.test(o));
  assert.equal(commits.length, 3, `three saves:\n${ops.join('\n')}`);
  for (const kind of ['link 1_net_G.pth', 'link latest_net_G.pth', 'link 2_net_G.pth', 'write pool.pth', 'write optim_G.pth']) {
    assert.ok(ops.some((o) => o.endsWith(kind)), `the saves include "${kind}"`);
  }
  const expected = finalFiles(join(ck, 'reference'));
  assert.deepEqual(leftovers(join(ck, 'reference')), []);

  // Killed after operation n, for every n; two killed runs at a time, each resumed (here, in this process) as it ends.
  let resumeQueue: Promise<unknown> = Promise.resolve();
  const children: { child: import('node:child_process').ChildProcess }[] = [];
  t.after(() => { for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL'); });
  const failures: string[] = [];
  const trial = async (n: number) => {
    const name = `killed-${n}`;
    const run = cliAsync(['train', ...runArgs(data, ck, name)], { PIX2PIXHD_KILL_AT_SAVE_OP: String(n) });
    children.push(run);
    const killed = await run.done;
    if (killed.signal !== 'SIGKILL') { failures.push(`op ${n} (${ops[n - 1]}): not killed (${killed.status}): ${killed.stderr}`); return; }
    const resumed = resumeQueue.then(() => trainCommand([...runArgs(data, ck, name), '--continue_train'], silentOutput));
    resumeQueue = resumed.catch(() => undefined);
    try {
      await resumed;
    } catch (e) {
      failures.push(`op ${n} (${ops[n - 1]}): the resumed run failed: ${(e as Error).message}`);
      return;
    }
    const dir = join(ck, name);
    const got = finalFiles(dir);
    for (const [file, bytes] of expected) {
      if (!got.get(file)?.equals(bytes)) failures.push(`op ${n} (${ops[n - 1]}): ${file} differs from the uninterrupted run's`);
    }
    if (got.size !== expected.size) failures.push(`op ${n} (${ops[n - 1]}): files ${[...got.keys()].join(', ')}`);
    const left = leftovers(dir);
    if (left.length) failures.push(`op ${n} (${ops[n - 1]}): left behind: ${left.join(', ')}`);
    const generations = readdirSync(join(dir, GENERATIONS_DIR));
    if (generations.length !== 1) failures.push(`op ${n} (${ops[n - 1]}): generation folders ${generations.join(', ')}`);
  };
  const pending = new Set<Promise<void>>();
  for (let n = 1; n <= ops.length; n++) {
    if (pending.size >= 2) await Promise.race(pending);
    const p = trial(n).finally(() => pending.delete(p));
    pending.add(p);
  }
  await Promise.all(pending);
  const failedPoints = new Set(failures.map((f) => f.split(' (')[0]));
  assert.deepEqual(failures, [], `${failedPoints.size} of ${ops.length} kill points failed`);
  t.diagnostic(`${ops.length} kill points (${commits.length} saves), every one resumed bit-identical`);
});
