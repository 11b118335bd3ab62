// Load on the editor's server, bounded and on the loopback only, and made deterministic: the
// workers are held at the start of their jobs by a test gate (SynthTestGate), so which requests run,
// wait or are refused follows from the counts alone, never from how fast this machine synthesises.
// Requests beyond the workers and the queue are refused at once (503 with Retry-After) — none lost,
// none hanging — the page's other requests are answered while a synthesis is in flight, a request
// cancelled while it waits costs nothing, and a worker that dies, idle or in the middle of a
// request, is replaced (and when its replacement cannot load, nothing is left waiting for ever).
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import type { EditorServer } from '../../src/server/app.js';
import { SynthTestGate, type SynthesisPool, type SynthResult } from '../../src/server/synth-pool.js';
import { encodeIds, fetchScene, makeTinyRun, startTinyServer, synthesizeRequest, type TinyRun } from './helpers.js';

const WORKERS = 2;
const QUEUE = 3;

let run: TinyRun;
let server: EditorServer;
let gate: SynthTestGate;
let runs: RunWatch;
let body: Record<string, unknown>;

/**
 * The calls of pool.run, in order, with the promise each returned: `until(n)` resolves once there
 * have been n, that is once n requests have reached the pool and each was started, queued or
 * refused there (the pool decides that synchronously, in the call).
 */
interface RunWatch {
  calls: Promise<SynthResult>[];
  until(n: number): Promise<void>;
}

function watchRuns(pool: SynthesisPool): RunWatch {
  const calls: Promise<SynthResult>[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const original = pool.run.bind(pool);
  pool.run = (request, signal) => {
    const p = original(request, signal);
    calls.push(p);
    for (const w of waiters.filter((x) => calls.length >= x.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    return p;
  };
  return {
    calls,
    until: (n) => new Promise<void>((resolve) => (calls.length >= n ? resolve() : void waiters.push({ n, resolve }))),
  };
}

interface Answer { status: number; retryAfter: string | null; error: string | null; bytes: number }

async function answer(res: Response): Promise<Answer> {
  const type = res.headers.get('content-type') ?? '';
  const retryAfter = res.headers.get('retry-after');
  if (type.startsWith('application/json')) {
    const json = (await res.json()) as { error?: unknown };
    return { status: res.status, retryAfter, error: typeof json.error === 'string' ? json.error : null, bytes: 0 };
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], `a ${res.status} answer that is not JSON is a PNG (${type})`);
  return { status: res.status, retryAfter, error: null, bytes: bytes.length };
}

/** Requests not answered yet. */
const outstanding = new Set<Promise<unknown>>();

/**
 * Closes the gate until `open()`, or until the test ends, whatever happened in it; a test that
 * failed leaves no request behind for the next one.
 */
function holdWorkers(t: TestContext, g: SynthTestGate = gate): void {
  g.close();
  t.after(async () => {
    g.open();
    await Promise.allSettled([...outstanding]);
  });
}

function synth(s: EditorServer = server): Promise<Answer> {
  const p = synthesizeRequest(s.url, body).then(answer);
  outstanding.add(p);
  void p.finally(() => outstanding.delete(p)).catch(() => undefined);
  return p;
}

type PoolInternals = { slots: { worker: { terminate(): Promise<number>; threadId: number } }[] };
const threadIds = (s: EditorServer): number[] => (s.pool as unknown as PoolInternals).slots.map((slot) => slot.worker.threadId);

before(async () => {
  run = await makeTinyRun({ instanceFeat: true });
  gate = new SynthTestGate();
  server = await startTinyServer(run, { pool: { workers: WORKERS, queue: QUEUE, testGate: gate } });
  runs = watchRuns(server.pool);
  const s = await fetchScene(server.url);
  body = { width: s.width, height: s.height, label: encodeIds(s.label), inst: encodeIds(s.inst) };
});

after(async () => {
  gate?.open(); // a failed test must not leave the workers held
  await server?.close();
  run?.cleanup();
});

test(`workers held: ${WORKERS} running + ${QUEUE} queued, one more refused at once with 503 and Retry-After; released, the rest are answered`, { timeout: 120_000 }, async (t) => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:/, 'loopback only');
  const before = server.pool.stats();
  const k0 = runs.calls.length;
  const e0 = gate.entered();
  const n = WORKERS + QUEUE + 1;
  holdWorkers(t);
  let settled = 0;
  const answers = Array.from({ length: n }, () => synth().then((a) => { settled++; return a; }));
  await runs.until(k0 + n); // all n have reached the pool
  await gate.untilEntered(e0 + WORKERS); // and every worker is inside a job, held
  const held = server.pool.stats();
  assert.deepEqual(
    { running: held.running, queued: held.queued, refused: held.refused - before.refused, done: held.done - before.done },
    { running: WORKERS, queued: QUEUE, refused: 1, done: 0 },
  );
  // The refused one is answered while the others are still held.
  const first = await Promise.race(answers);
  assert.equal(first.status, 503);
  assert.match(first.error ?? '', /^busy: /, 'a JSON {error} saying why');
  assert.ok(Number.isInteger(Number(first.retryAfter)) && Number(first.retryAfter) >= 1, `Retry-After is a whole number of seconds (${first.retryAfter})`);
  assert.equal(settled, 1, 'only the refused request has its answer while the workers are held');
  gate.open();
  const all = await Promise.all(answers);
  assert.deepEqual(all.map((a) => a.status).sort(), [...Array(n - 1).fill(200), 503], 'each answered: 200, or 503 for the one beyond the queue');
  for (const a of all.filter((x) => x.status === 200)) assert.ok(a.bytes > 1000, 'a PNG came back');
  const end = server.pool.stats();
  assert.equal(end.done - before.done, n - 1, 'each 200 is one synthesis');
  assert.equal(end.refused - before.refused, 1);
  assert.deepEqual([end.running, end.queued, end.failed - before.failed], [0, 0, 0], 'nothing left behind');
});

test('the main thread answers the page while a synthesis is in flight on a worker', { timeout: 60_000 }, async (t) => {
  const e0 = gate.entered();
  holdWorkers(t);
  let synthesised = false;
  const pending = synth().then((a) => { synthesised = true; return a; });
  await gate.untilEntered(e0 + 1); // a worker has taken it and is inside the job
  for (let i = 0; i < 5; i++) {
    const info = await fetch(new URL('/api/info', server.url));
    assert.equal(info.status, 200);
    const stats = ((await info.json()) as { pool: { running: number; queued: number } }).pool;
    assert.deepEqual([stats.running, stats.queued], [1, 0], 'the synthesis is running meanwhile');
    assert.equal(synthesised, false, '/api/info answered before the synthesis finished');
  }
  gate.open();
  assert.equal((await pending).status, 200);
});

test('a request cancelled while it waits costs no synthesis', { timeout: 60_000 }, async (t) => {
  const before = server.pool.stats();
  const k0 = runs.calls.length;
  const e0 = gate.entered();
  holdWorkers(t);
  const running = Array.from({ length: WORKERS }, () => synth());
  await gate.untilEntered(e0 + WORKERS); // every worker busy: the next request waits in the queue
  const controller = new AbortController();
  const second = fetch(new URL('/api/synthesize', server.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal: controller.signal });
  await runs.until(k0 + WORKERS + 1);
  assert.equal(server.pool.stats().queued, 1, 'it waits');
  controller.abort();
  await assert.rejects(second, { name: 'AbortError' });
  await assert.rejects(runs.calls[k0 + WORKERS]!, { name: 'AbortError' }, 'the server dropped it from the queue');
  assert.equal(server.pool.stats().queued, 0);
  gate.open();
  assert.deepEqual((await Promise.all(running)).map((a) => a.status), Array(WORKERS).fill(200));
  const end = server.pool.stats();
  assert.equal(end.done - before.done, WORKERS, 'only the running ones were synthesised');
  assert.equal(gate.entered() - e0, WORKERS, 'no worker took the cancelled one');
  assert.equal((await synth()).status, 200, 'and the server is alive');
});

test('workers that die while idle are replaced: the next request is answered by a new one', { timeout: 60_000 }, async () => {
  // Terminated while idle: stopping a worker inside a libtorch call would abort the process (see
  // SynthesisPool.close). Every worker goes, so whatever answers is a replacement.
  const slots = (server.pool as unknown as PoolInternals).slots;
  const old = threadIds(server);
  await Promise.all(slots.map((s) => s.worker.terminate()));
  const a = await synth();
  assert.equal(a.status, 200, 'answered after the deaths');
  for (const id of threadIds(server)) assert.ok(!old.includes(id), 'by new workers');
});

test('a worker that dies in the middle of a request: that request gets a 500 with a message, the worker is replaced, the others are answered', { timeout: 60_000 }, async (t) => {
  // Each worker must have answered once, so that all are loaded and taking jobs.
  holdWorkers(t);
  let e0 = gate.entered();
  const warm = Array.from({ length: WORKERS }, () => synth());
  await gate.untilEntered(e0 + WORKERS);
  gate.open();
  assert.deepEqual((await Promise.all(warm)).map((a) => a.status), Array(WORKERS).fill(200));

  const before = server.pool.stats();
  const old = threadIds(server);
  const k0 = runs.calls.length;
  e0 = gate.entered();
  holdWorkers(t);
  const inFlight = Array.from({ length: WORKERS }, () => synth());
  await gate.untilEntered(e0 + WORKERS); // each worker inside a job
  const behind = synth(); // and one waiting behind them
  await runs.until(k0 + WORKERS + 1);
  assert.equal(server.pool.stats().queued, 1);
  gate.crashNext(70); // the first worker past the gate exits there, in the middle of its job
  gate.open();
  const answers = await Promise.all(inFlight);
  const failed = answers.filter((a) => a.status !== 200);
  assert.equal(failed.length, 1, `one request lost its worker: ${JSON.stringify(answers.map((a) => a.status))}`);
  assert.equal(failed[0]!.status, 500);
  assert.match(failed[0]!.error ?? '', /^synthesis failed: the worker stopped \(.*code 70\)/, 'a JSON {error} saying what happened');
  assert.equal((await behind).status, 200, 'the request waiting behind it is answered');
  const now = threadIds(server);
  assert.equal(now.filter((id) => !old.includes(id)).length, 1, 'the dead worker was replaced, the other kept');
  const mid = server.pool.stats();
  assert.deepEqual({ failed: mid.failed - before.failed, done: mid.done - before.done }, { failed: 1, done: WORKERS });

  // Every worker, the replacement included, takes and answers a request.
  e0 = gate.entered();
  holdWorkers(t);
  const next = Array.from({ length: WORKERS }, () => synth());
  await gate.untilEntered(e0 + WORKERS);
  assert.equal(server.pool.stats().running, WORKERS, 'one job on each worker');
  gate.open();
  assert.deepEqual((await Promise.all(next)).map((a) => a.status), Array(WORKERS).fill(200));
  const end = server.pool.stats();
  assert.deepEqual([end.ready, end.running, end.queued], [WORKERS, 0, 0]);
});

test('a worker that dies mid-request whose replacement cannot load: every request is answered with a message, none hangs', { timeout: 60_000 }, async (t) => {
  const own = await makeTinyRun({ instanceFeat: true, scenes: false });
  const ownGate = new SynthTestGate();
  const s = await startTinyServer(own, { pool: { workers: 1, queue: 2, testGate: ownGate } });
  try {
    const ownRuns = watchRuns(s.pool);
    holdWorkers(t, ownGate);
    const first = synth(s);
    await ownGate.untilEntered(1);
    const waiting = synth(s);
    await ownRuns.until(2);
    assert.equal(s.pool.stats().queued, 1);
    // The replacement will find no checkpoint.
    for (const f of readdirSync(own.runDir).filter((x) => x.endsWith('_net_G.pth'))) rmSync(join(own.runDir, f));
    ownGate.crashNext(70);
    ownGate.open();
    const a = await first;
    assert.equal(a.status, 500);
    assert.match(a.error ?? '', /^synthesis failed: the worker stopped/);
    const w = await waiting;
    assert.equal(w.status, 503, 'the waiting request is failed, not left waiting');
    assert.match(w.error ?? '', /^no synthesis worker is left: a replacement failed to start \(no generator checkpoint/);
    const later = await synth(s);
    assert.equal(later.status, 503, 'a later request is refused at once');
    assert.match(later.error ?? '', /^no synthesis worker is left/);
    const info = await fetch(new URL('/api/info', s.url));
    assert.equal(info.status, 200, 'the rest of the server still answers');
    assert.deepEqual([s.pool.stats().running, s.pool.stats().queued], [0, 0]);
  } finally {
    ownGate.open();
    await s.close();
    own.cleanup();
  }
});
