// Load on the editor's server, bounded and on the loopback only: a burst of concurrent synthesis
// requests is answered (200) or refused at once (503 with Retry-After) — none lost, none hanging —
// the page's other requests stay quick while the worker computes, the server is alive after, and a
// worker that dies is replaced.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { EditorServer } from '../../src/server/app.js';
import { encodeIds, fetchScene, makeTinyRun, startTinyServer, synthesizeRequest, type TinyRun } from './helpers.js';

const BURST = 16;
const QUEUE = 3;

let run: TinyRun;
let server: EditorServer;
let body: Record<string, unknown>;

before(async () => {
  run = await makeTinyRun({ instanceFeat: true });
  server = await startTinyServer(run, { pool: { workers: 1, queue: QUEUE } });
  const s = await fetchScene(server.url);
  body = { width: s.width, height: s.height, label: encodeIds(s.label), inst: encodeIds(s.inst) };
});

after(async () => {
  await server?.close();
  run?.cleanup();
});

test(`${BURST} concurrent synthesis requests: each answered or refused with 503, none lost`, { timeout: 120_000 }, async () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:/, 'loopback only');
  const before = server.pool.stats();
  const results = await Promise.all(Array.from({ length: BURST }, async () => {
    const res = await synthesizeRequest(server.url, body).then((r) => r, (e: Error) => e);
    if (res instanceof Error) return { status: -1, retryAfter: null, bytes: 0 };
    const bytes = (await res.arrayBuffer()).byteLength;
    return { status: res.status, retryAfter: res.headers.get('retry-after'), bytes };
  }));
  const ok = results.filter((r) => r.status === 200);
  const busy = results.filter((r) => r.status === 503);
  assert.equal(ok.length + busy.length, BURST, `every request answered 200 or 503: ${JSON.stringify(results.map((r) => r.status))}`);
  // The worker takes one, the queue holds QUEUE; the rest are refused at once.
  assert.ok(ok.length >= 1 + QUEUE, `at least ${1 + QUEUE} synthesised (${ok.length})`);
  assert.ok(busy.length >= 1, 'the burst overflowed the queue');
  for (const r of ok) assert.ok(r.bytes > 1000, 'a PNG came back');
  for (const r of busy) assert.ok(Number(r.retryAfter) >= 1, `Retry-After is a number of seconds (${r.retryAfter})`);
  const after = server.pool.stats();
  assert.equal(after.done - before.done, ok.length, 'each 200 is one synthesis');
  assert.equal(after.refused - before.refused, busy.length);
  assert.deepEqual([after.running, after.queued, after.failed], [0, 0, 0], 'nothing left behind');
});

test('the main thread answers the page while the worker synthesises', { timeout: 60_000 }, async () => {
  const burst = Array.from({ length: 1 + QUEUE }, () => synthesizeRequest(server.url, body).then((r) => r.arrayBuffer().then(() => r.status)));
  while (server.pool.stats().running === 0) await new Promise((r) => setTimeout(r, 5));
  let slowest = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const info = await fetch(new URL('/api/info', server.url));
    assert.equal(info.status, 200);
    const stats = ((await info.json()) as { pool: { running: number; queued: number } }).pool;
    slowest = Math.max(slowest, performance.now() - t0);
    if (i === 0) assert.equal(stats.running, 1, 'a synthesis is running meanwhile');
  }
  assert.ok(slowest < 1000, `/api/info took at most ${slowest.toFixed(0)} ms during synthesis`);
  assert.deepEqual(await Promise.all(burst), Array(1 + QUEUE).fill(200));
});

test('a request cancelled while it waits costs no synthesis', { timeout: 60_000 }, async () => {
  const before = server.pool.stats().done;
  const first = synthesizeRequest(server.url, body).then((r) => r.arrayBuffer().then(() => r.status));
  // Let the first one reach the worker, then queue one and cancel it.
  while (server.pool.stats().running === 0) await new Promise((r) => setTimeout(r, 5));
  const controller = new AbortController();
  const second = fetch(new URL('/api/synthesize', server.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal: controller.signal });
  while (server.pool.stats().queued === 0) await new Promise((r) => setTimeout(r, 5));
  controller.abort();
  await assert.rejects(second, { name: 'AbortError' });
  assert.equal(await first, 200);
  while (server.pool.stats().queued > 0 || server.pool.stats().running > 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(server.pool.stats().done - before, 1, 'only the first was synthesised');
  assert.equal((await synthesizeRequest(server.url, body)).status, 200, 'and the server is alive');
});

test('a worker that dies is replaced: the next request is answered by the new one', { timeout: 60_000 }, async () => {
  // Terminated while idle: stopping a worker inside a libtorch call would abort the process (see
  // SynthesisPool.close), and a death is what a crash of the worker looks like to the pool.
  const slots = (server.pool as unknown as { slots: { worker: { terminate(): Promise<number>; threadId: number } }[] }).slots;
  const dead = slots[0]!.worker;
  const oldThread = dead.threadId;
  await dead.terminate();
  const answer = await synthesizeRequest(server.url, body);
  assert.equal(answer.status, 200, 'answered after the death');
  await answer.arrayBuffer();
  assert.notEqual(slots[0]!.worker.threadId, oldThread, 'by a new worker');
  assert.equal(server.pool.stats().ready, 1);
});
