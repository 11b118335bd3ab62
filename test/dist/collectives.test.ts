// c10d through the binding: two Gloo ranks on the loopback reduce, broadcast and meet at a
// barrier; a rank that leaves or stops responding makes its peer's collective fail (never hang).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { distributedAvailable } from '../../src/torch/index.js';
import { ROOT } from '../cli/helpers.js';
import { runRanks } from './helpers.js';

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
  const [r0] = await runRanks(RANK_SCRIPT, [], 2, { HANG: '1', TIMEOUT_S: '3' }, t);
  assert.notEqual(r0!.status, 0);
  assert.match(r0!.stderr, /Timed out waiting 3000ms/);
});

test('without Gloo in the build, joining a group says so', { skip: gloo ? 'this build has Gloo' : false }, async () => {
  const { ProcessGroup } = await import('../../src/torch/index.js');
  assert.throws(() => ProcessGroup.init({ backend: 'gloo', rank: 0, worldSize: 1, timeoutSeconds: 1, store: { kind: 'tcp', host: '127.0.0.1', port: 1 } }), /unavailable in this build/);
});
