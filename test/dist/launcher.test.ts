// Launch as the ecosystem launches: torchrun's and Slurm's variables, the built-in launcher
// (one rank dies → every rank stops, the job ends with that rank's status), the shards of an
// epoch, and what data-parallel training refuses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstSlurmHost, launchEnvFrom, rankDevice } from '../../src/dist/launch-env.js';
import { launchRanks, withoutLauncherOptions } from '../../src/dist/launcher.js';
import { checkDataParallel } from '../../src/dist/rank-setup.js';
import { DataLoader } from '../../src/data/loader.js';
import { ROOT, tempDir } from '../cli/helpers.js';

test('torchrun\'s variables, and a world of one is no job', () => {
  assert.deepEqual(launchEnvFrom({ RANK: '3', WORLD_SIZE: '8', LOCAL_RANK: '1', MASTER_ADDR: 'node0', MASTER_PORT: '29400' }),
    { rank: 3, worldSize: 8, localRank: 1, masterAddr: 'node0', masterPort: 29400, source: 'torchrun', agentStore: false });
  assert.equal(launchEnvFrom({ RANK: '0', WORLD_SIZE: '2', TORCHELASTIC_USE_AGENT_STORE: 'True' })?.agentStore, true, 'torchrun\'s agent serves the store');
  assert.equal(launchEnvFrom({ RANK: '0', WORLD_SIZE: '1' }), null);
  assert.equal(launchEnvFrom({}), null);
  assert.throws(() => launchEnvFrom({ WORLD_SIZE: '2' }), /RANK is not/);
  assert.throws(() => launchEnvFrom({ RANK: '2', WORLD_SIZE: '2' }), /not a rank/);
});

test('Slurm\'s variables: the rendezvous on the first host of the node list; torchrun\'s win inside an srun step', () => {
  assert.deepEqual(launchEnvFrom({ SLURM_PROCID: '5', SLURM_NTASKS: '8', SLURM_LOCALID: '1', SLURM_JOB_NODELIST: 'gpu[07-09,12],cpu3' }),
    { rank: 5, worldSize: 8, localRank: 1, masterAddr: 'gpu07', masterPort: 29500, source: 'slurm', agentStore: false });
  assert.equal(launchEnvFrom({ SLURM_PROCID: '0', SLURM_NTASKS: '1', SLURM_NODELIST: 'a' }), null);
  assert.equal(launchEnvFrom({ SLURM_PROCID: '1', SLURM_NTASKS: '2', SLURM_NODELIST: 'a,b', MASTER_ADDR: 'x', MASTER_PORT: '1234' })?.masterAddr, 'x');
  assert.equal(launchEnvFrom({ SLURM_PROCID: '1', SLURM_NTASKS: '2', RANK: '0', WORLD_SIZE: '4' })?.source, 'torchrun');
  assert.equal(firstSlurmHost('node-[1-3]'), 'node-1');
  assert.equal(firstSlurmHost('a,b'), 'a');
  assert.equal(firstSlurmHost('host1'), 'host1');
  assert.equal(firstSlurmHost('r[001-004]n[01-02]'), 'r001n01');
});

test('a rank\'s device: one per listed GPU, the local rank\'s with one id, the CPU with -1', () => {
  assert.equal(rankDevice('-1', 3), 'cpu');
  assert.equal(rankDevice('2,5', 1), 'cuda:5');
  assert.equal(rankDevice('0', 3), 'cuda:3');
  assert.throws(() => rankDevice('0,1', 2), /one rank per listed device/);
});

test('the launcher\'s own option is not passed to the ranks', () => {
  assert.deepEqual(withoutLauncherOptions(['--name', 'a', '--nproc_per_node', '2', '--nproc_per_node=4', '--x']), ['--name', 'a', '--x']);
});

test('each rank reads a disjoint part of every whole batch; together the batches of one process', () => {
  const source = { size: 11, load: async (i: number) => i };
  const collate = (items: number[]) => items;
  // Data-parallel epochs are whole batches only (the last partial one, which one process keeps, is left out).
  const single = new DataLoader(source, { batchSize: 4, seed: 7, drop_last: true }, collate);
  const ranks = [0, 1].map((rank) => new DataLoader(source, { batchSize: 2, seed: 7, shard: { rank, count: 2 } }, collate));
  assert.equal(ranks[0]!.batchesPerEpoch, single.batchesPerEpoch);
  for (const epoch of [1, 2]) {
    const whole = single.order(epoch).slice(0, 8);
    const [a, b] = ranks.map((r) => r.order(epoch));
    assert.equal(new Set([...a!, ...b!]).size, 8, 'disjoint');
    for (let k = 0; k < 2; k++) {
      assert.deepEqual([...a!.slice(2 * k, 2 * k + 2), ...b!.slice(2 * k, 2 * k + 2)].sort(), whole.slice(4 * k, 4 * k + 4).sort(), `batch ${k} of epoch ${epoch}`);
    }
  }
  assert.notDeepEqual(ranks[0]!.order(1), ranks[0]!.order(2), 'a new permutation each epoch (set_epoch)');
});

test('refused across ranks: a batch that does not divide, and batch norm', () => {
  const config = (batchSize: number, norm: string) => ({ train: { batchSize }, network: { norm } }) as Parameters<typeof checkDataParallel>[0];
  assert.throws(() => checkDataParallel(config(3, 'instance'), 2), /--batchSize 3 .* multiple of 2/);
  assert.throws(() => checkDataParallel(config(2, 'batch'), 2), /--norm batch with 2 ranks/);
  assert.doesNotThrow(() => checkDataParallel(config(4, 'instance'), 2));
  assert.doesNotThrow(() => checkDataParallel(config(3, 'batch'), 1));
});

for (const [how, expected] of [['kill', 128 + 9], ['3', 3]] as const) {
  test(`the launcher: a rank that ${how === 'kill' ? 'is SIGKILLed' : 'exits with status 3'} stops every rank, and the job ends with its status`, async (t) => {
    const dir = tempDir(t, 'p2phd-launch-');
    const logs: string[] = [];
    const saved = { ...process.env };
    Object.assign(process.env, { PID_DIR: dir, FAIL_RANK: '1', FAIL_HOW: how });
    t.after(() => { for (const k of ['PID_DIR', 'FAIL_RANK', 'FAIL_HOW']) if (saved[k] === undefined) delete process.env[k]; });
    const result = await launchRanks({ nproc: 3, args: [join(ROOT, 'test', 'dist', 'fixtures', 'rank-exits.mjs')], nodeArgs: [], graceSeconds: 5, log: (l) => logs.push(l) });
    assert.equal(result.status, expected);
    assert.equal(result.failure?.rank, 1);
    assert.match(logs.join('\n'), how === 'kill' ? /rank 1 \(pid \d+\) was killed by SIGKILL; stopping the other ranks/ : /rank 1 \(pid \d+\) exited with status 3/);
    for (const r of [0, 2]) {
      const pid = Number(readFileSync(join(dir, `rank${r}.pid`), 'utf8'));
      assert.throws(() => process.kill(pid, 0), /ESRCH/, `rank ${r} was stopped`);
    }
  });
}
