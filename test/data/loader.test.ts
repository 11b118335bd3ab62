import assert from 'node:assert/strict';
import * as path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { test } from 'node:test';
import { openData } from '../../src/data/index.js';
import { collateItems, DataLoader, type ItemSource } from '../../src/data/loader.js';
import type { DataItem } from '../../src/data/dataset.js';
import { DataError } from '../../src/data/errors.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir, writeGrey16, writeGrey8, writeRgb } from './helpers.js';

/** Items are their own indices; loading takes a few event-loop turns and is logged. */
function fakeSource(n: number, log: string[] = [], fail?: number): ItemSource<{ index: number; r: number }> {
  return {
    size: n,
    async load(index: number, seed: number) {
      log.push(`load ${index}`);
      await tick();
      await tick();
      if (index === fail) throw new DataError(`item ${index} is broken`, []);
      return { index, r: new Rng(seed).uint32() };
    },
  };
}
const byIndex = (items: Array<{ index: number }>) => items.map((i) => i.index);

async function collect<B>(it: AsyncIterable<B>): Promise<B[]> {
  const out: B[] = [];
  for await (const b of it) out.push(b);
  return out;
}

test('shuffled: every item once per epoch, a different order each epoch, the same for the same seed', async () => {
  const make = (seed: number) => new DataLoader(fakeSource(10), { batchSize: 2, seed }, byIndex);
  const loader = make(5);
  assert.equal(loader.batchesPerEpoch, 5);
  const e0 = (await collect(loader.epoch(0))).flat();
  const e1 = (await collect(loader.epoch(1))).flat();
  assert.deepEqual([...e0].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...e1].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual(e0, e1);
  assert.notDeepEqual(e0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual((await collect(make(5).epoch(0))).flat(), e0);
  assert.notDeepEqual((await collect(make(6).epoch(0))).flat(), e0);
});

test('serial_batches: in order; the last partial batch is kept (the official drop_last=False) unless drop_last asks', async () => {
  const dropping = new DataLoader(fakeSource(7), { batchSize: 3, serial_batches: true, drop_last: true }, byIndex);
  assert.deepEqual(await collect(dropping.epoch(3)), [[0, 1, 2], [3, 4, 5]]);
  const keeping = new DataLoader(fakeSource(7), { batchSize: 3, serial_batches: true }, byIndex);
  assert.deepEqual(await collect(keeping.epoch(0)), [[0, 1, 2], [3, 4, 5], [6]]);
});

test('each item gets its random stream from (seed, epoch, index), not from decode timing', async () => {
  const r = async (nThreads: number, serial: boolean) => {
    const loader = new DataLoader(fakeSource(6), { batchSize: 2, seed: 1, nThreads, serial_batches: serial }, (items) => items);
    const all = (await collect(loader.epoch(2))).flat();
    return new Map(all.map((i) => [i.index, i.r]));
  };
  assert.deepEqual(await r(1, true), await r(4, false));
});

test('prefetching: batches k+1 … k+nThreads start decoding before the consumer is done with batch k', async () => {
  const log: string[] = [];
  const loader = new DataLoader(fakeSource(8, log), { batchSize: 2, serial_batches: true, nThreads: 2 }, byIndex, (e) => log.push(`${e.type} ${e.batch}`));
  for await (const batch of loader.epoch(0)) {
    log.push(`consume ${batch[0]! / 2}`);
    await tick(); // the consumer's own work
    await tick();
    log.push(`done ${batch[0]! / 2}`);
  }
  const at = (s: string) => {
    const i = log.indexOf(s);
    assert.ok(i >= 0, `${s} missing from ${log.join(', ')}`);
    return i;
  };
  for (let k = 0; k < 4; k++) {
    if (k + 1 < 4) assert.ok(at(`start ${k + 1}`) < at(`done ${k}`), `batch ${k + 1} starts before batch ${k} is consumed`);
    if (k + 2 < 4) assert.ok(at(`start ${k + 2}`) < at(`done ${k}`), `batch ${k + 2} too (nThreads 2)`);
    if (k + 3 < 4) assert.ok(at(`start ${k + 3}`) > at(`consume ${k}`), `but not batch ${k + 3}: at most nThreads ahead`);
  }
  // Both items of batch 1 were being loaded while batch 0 was consumed.
  assert.ok(at('load 3') < at('done 0'));
});

test('a failing item surfaces at its batch, as the error it threw, after the batches before it', async () => {
  const loader = new DataLoader(fakeSource(6, [], 4), { batchSize: 2, serial_batches: true, nThreads: 3 }, byIndex);
  const seen: number[][] = [];
  await assert.rejects(async () => {
    for await (const b of loader.epoch(0)) seen.push(b);
  }, /item 4 is broken/);
  assert.deepEqual(seen, [[0, 1], [2, 3]]);
});

test('openData batches a real data set: shapes, types and paths', async (t) => {
  const dir = tempDir(t);
  for (const n of ['a', 'b', 'c', 'd']) {
    await writeGrey8(path.join(dir, `train_label/${n}.png`), 12, 8, (x) => x % 5);
    await writeGrey16(path.join(dir, `train_inst/${n}.png`), 12, 8, (x) => (x < 6 ? 26000 : 26001));
    await writeRgb(path.join(dir, `train_img/${n}.png`), 12, 8, () => [255, 0, 0]);
  }
  const { dataset, loader } = openData({ dataroot: dir, batchSize: 2, resize_or_crop: 'crop', fineSize: 6, seed: 3 });
  assert.equal(dataset.size, 4);
  const batches = await collect(loader.epoch(0));
  assert.equal(batches.length, 2);
  const b = batches[0]!;
  assert.equal(b.size, 2);
  assert.deepEqual([b.width, b.height], [6, 6]);
  assert.ok(b.label instanceof Int32Array && b.label.length === 2 * 6 * 6);
  assert.ok(b.inst instanceof Int32Array && b.inst.length === 2 * 6 * 6);
  assert.ok(b.image instanceof Float32Array && b.image.length === 2 * 3 * 6 * 6);
  assert.equal(b.feat, null);
  assert.deepEqual(b.image.subarray(0, 36), new Float32Array(36).fill(1)); // red channel of item 0
  assert.deepEqual(b.image.subarray(36, 72), new Float32Array(36).fill(-1));
  assert.ok([...b.inst].every((v) => v === 26000 || v === 26001));
  assert.deepEqual(b.sourceSizes, [{ width: 12, height: 8 }, { width: 12, height: 8 }]);
  const all = batches.flatMap((x) => x.paths.map((p) => path.basename(p))).sort();
  assert.deepEqual(all, ['a.png', 'b.png', 'c.png', 'd.png']);
});

test('items of different sizes cannot share a batch: both files named', () => {
  const item = (p: string, w: number): DataItem => ({
    index: 0, label: new Int32Array(w * 4), inst: null, image: null, feat: null, path: p, imagePath: null,
    width: w, height: 4, sourceWidth: w, sourceHeight: 4,
    plan: { source: { width: w, height: 4 }, resize: null, crop: null, flip: false, output: { width: w, height: 4 } },
  });
  assert.throws(() => collateItems([item('/d/a.png', 4), item('/d/b.png', 8)]), (e: Error) => e instanceof DataError && /\/d\/a\.png.*\/d\/b\.png.*batchSize 1/s.test(e.message));
});
