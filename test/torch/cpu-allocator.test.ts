// The caching CPU allocator (native/src/cpu_allocator.cpp): blocks come back from the cache
// instead of fresh mappings, live tensors never share memory however blocks are split, grown and
// merged, and mapped memory never exceeds what is in use at its peak (plus the size classes'
// rounding): the cache trades page faults for nothing in peak memory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { cpuAllocatorStats, full, releaseCachedCpuMemory, zeros, type Tensor } from '../../src/torch/index.js';
import { addonPath, native } from '../../src/torch/native.js';

const MiB = 1 << 20;
const floats = (bytes: number) => Math.floor(bytes / 4);

test('a freed large block is handed out again, and zeros() on it still reads zeros', () => {
  assert.equal(native.cpuAllocatorStats().enabled, true);
  const ones = full([floats(24 * MiB)], 1);
  ones.dispose();
  const before = native.cpuAllocatorStats();
  const again = zeros([floats(24 * MiB)]);
  const after = native.cpuAllocatorStats();
  assert.equal(after.misses, before.misses, 'no fresh mapping');
  assert.equal(after.hits + after.splits - before.hits - before.splits, 1, 'one block from the cache');
  assert.equal(after.peakMappedBytes, before.peakMappedBytes);
  assert.equal(again.max().item(), 0);
  assert.equal(again.min().item(), 0);
  again.dispose();
});

test('live tensors keep their values through random allocation, and mapped memory stays at the in-use peak', () => {
  native.cpuAllocatorRelease();
  const start = native.cpuAllocatorStats();
  assert.equal(start.cachedBytes, 0);
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const live = new Map<number, { t: Tensor; bytes: number }>();
  let liveBytes = 0;
  let peakLiveBytes = 0;
  let blocks = 0;
  for (let step = 0; step < 400; step++) {
    if (live.size > 0 && random() < 0.45) {
      const ids = [...live.keys()];
      const id = ids[Math.floor(random() * ids.length)]!;
      const { t, bytes } = live.get(id)!;
      liveBytes -= bytes;
      t.dispose();
      live.delete(id);
    } else {
      // 1–24 MiB, not page multiples: every path (exact reuse, split, growth, merge) is taken.
      const bytes = MiB + Math.floor(random() * 23 * MiB) + 4 * Math.floor(random() * 1000);
      live.set(step, { t: full([floats(bytes)], step), bytes: floats(bytes) * 4 });
      liveBytes += floats(bytes) * 4;
      peakLiveBytes = Math.max(peakLiveBytes, liveBytes);
      blocks = Math.max(blocks, live.size);
    }
  }
  const end = native.cpuAllocatorStats();
  assert.ok(end.hits > 0 && end.splits > 0 && end.grows > 0, `every reuse path taken: ${JSON.stringify(end)}`);
  for (const [id, { t }] of live) {
    assert.equal(t.min().item(), id, `tensor ${id} overwritten`);
    assert.equal(t.max().item(), id, `tensor ${id} overwritten`);
  }
  // What this test mapped beyond what was mapped before it, against the in-use peak: size classes
  // round each block up by at most 1/8 (at least 64 KiB).
  const mappedByTest = end.peakMappedBytes - start.mappedBytes;
  const bound = peakLiveBytes * 1.125 + blocks * 64 * 1024;
  assert.ok(mappedByTest <= bound, `mapped ${(mappedByTest / MiB).toFixed(1)} MiB, in use at most ${(peakLiveBytes / MiB).toFixed(1)} MiB`);
  for (const { t } of live.values()) t.dispose();
  releaseCachedCpuMemory();
  const released = cpuAllocatorStats();
  assert.equal(released.cachedBytes, 0);
  assert.equal(released.mappedBytes, start.mappedBytes, 'every block of the test unmapped');
});

test('PIX2PIXHD_CPU_CACHE=0 leaves libtorch\'s own allocator in place', () => {
  const script = "import('./src/torch/native.ts').then(({ native }) => console.log(JSON.stringify(native.cpuAllocatorStats())))";
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { env: { ...process.env, PIX2PIXHD_CPU_CACHE: '0' }, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout.trim().split('\n').pop()!).enabled, false);
});

test('a worker thread loading the addon again keeps the one allocator: blocks allocated before it are freed by it', async () => {
  const before = full([floats(8 * MiB)], 7);
  // The server's synthesis workers load the addon in threads of their own, where Init runs again.
  const worker = new Worker(`require('node:worker_threads').parentPort.postMessage(require(${JSON.stringify(addonPath)}).cpuAllocatorStats().enabled)`, { eval: true });
  const enabled = await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  await worker.terminate();
  assert.equal(enabled, true);
  const cachedBefore = native.cpuAllocatorStats().cachedBytes;
  before.dispose(); // freed by an instance that does not know the block: an abort (free() of a mapped block)
  assert.ok(native.cpuAllocatorStats().cachedBytes > cachedBefore, 'the block went back to the cache');
});
