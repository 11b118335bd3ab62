// c10d through the binding: two Gloo ranks on the loopback reduce, broadcast and meet at a
// barrier; a rank that leaves or stops responding makes its peer's collective fail (never hang).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { distributedAvailable } from '../../src/torch/index.js';
import { ROOT } from '../cli/helpers.js';
import { runRanks } from './helpers.js';
import { spawn, spawnSync } from 'node:child_process';
import { freePort } from '../../src/dist/launcher.js';

const RANK_SCRIPT = join(ROOT, 'test', 'dist', 'collectives-rank.ts');
const gloo = distributedAvailable().gloo;
const skip = gloo ? false : 'this build of the binding has no c10d Gloo (install libgloo-dev and rebuild)';

test('all-reduce (sum, avg), broadcast and barrier across two Gloo ranks', { skip }, async (t) => {
  const results = await runRanks(RANK_SCRIPT, [], 2, {}, t);
  const outs = results.map((r) => {
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim()) as { rank: number; sum: number[]; avg: number[]; bigLast: number; bcast: number[] };
  });
  for (const o of outs) {
    assert.deepEqual(o.sum, [3, 30]);
    assert.deepEqual(o.avg, [1.5, 15]);
    assert.equal(o.bigLast, 99_999 * 3, 'a 100k-element tensor is reduced whole');
    assert.deepEqual(o.bcast, [1, 2], 'rank 0\'s values everywhere');
  }
});

test('a rank that leaves the group: its peer\'s collective throws, naming the lost connection', { skip }, async (t) => {
  const [r0, r1] = await runRanks(RANK_SCRIPT, [], 2, { EXIT_EARLY: '1', TIMEOUT_S: '60' }, t);
  assert.equal(r1!.status, 0);
  assert.notEqual(r0!.status, 0, 'rank 0 fails instead of waiting');
  assert.match(r0!.stderr, /Connection closed by peer|Connection reset/);
});

test('a rank that stops responding: its peer\'s collective fails after the group\'s timeout', { skip }, async (t) => {
  // The timeout is the group's, rendezvous included: long enough for both ranks to start on a busy machine.
  const [r0] = await runRanks(RANK_SCRIPT, [], 2, { HANG: '1', TIMEOUT_S: '8' }, t);
  assert.notEqual(r0!.status, 0);
  // Gloo words the same timeout two ways, by which of its timers fires first: the collective's
  // ("Timed out waiting 8000ms …") or the connection pair's (seen once in CI on a busy machine).
  assert.match(r0!.stderr, /Timed out waiting 8000ms|Application timeout caused pair closure/);
});

test('without Gloo in the build, joining a group says so', { skip: gloo ? 'this build has Gloo' : false }, async () => {
  const { ProcessGroup } = await import('../../src/torch/index.js');
  assert.throws(() => ProcessGroup.init({ backend: 'gloo', rank: 0, worldSize: 1, timeoutSeconds: 1, store: { kind: 'tcp', host: '127.0.0.1', port: 1 } }), /unavailable in this build/);
});

// torchrun's static rendezvous: its agent serves the store at MASTER_PORT and sets
// TORCHELASTIC_USE_AGENT_STORE=True; a rank 0 that tried to serve one too would find the port taken.
const pythonTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch.distributed'], { stdio: 'ignore' }).status === 0;
test('under torchrun\'s agent store (served here by PyTorch\'s TCPStore), every rank joins as a client', { skip: skip || (pythonTorch ? false : 'no python3 torch to serve the store') }, async (t) => {
  const port = await freePort();
  const agent = spawn('/usr/bin/python3', ['-c', `import torch.distributed as d, sys\ns = d.TCPStore('127.0.0.1', ${port}, 3, True, wait_for_workers=False)\nprint('up', flush=True)\nsys.stdin.read()`], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => agent.kill('SIGKILL'));
  await new Promise<void>((resolve) => agent.stdout!.once('data', () => resolve()));
  const results = await runRanks(join(ROOT, 'test', 'dist', 'agent-store-rank.ts'), [], 2, { TORCHELASTIC_USE_AGENT_STORE: 'True', MASTER_PORT: String(port) }, t);
  for (const r of results) {
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim()), { rank: r.rank, agentStore: true, sum: [3] });
  }
});

test('a backend this build lacks is refused with what to do (here: NCCL, on a CPU libtorch)', { skip: distributedAvailable().nccl ? 'this build has NCCL' : false }, async () => {
  const { assertBackendAvailable } = await import('../../src/torch/index.js');
  assert.throws(() => assertBackendAvailable('nccl'), /NCCL backend is unavailable in this build: .* use Gloo/);
});
