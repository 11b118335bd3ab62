import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { AlignedDataset } from '../../src/data/dataset.js';
import { DataError } from '../../src/data/errors.js';
import { openData } from '../../src/data/index.js';
import { WorkerPool } from '../../src/data/worker-pool.js';
import { tempDir, writeGrey16, writeGrey8, writeRgb } from './helpers.js';

async function smallSet(dir: string): Promise<void> {
  for (const n of ['a', 'b', 'c']) {
    await writeGrey8(path.join(dir, `train_label/${n}.png`), 20, 10, (x, y) => (x + y) % 9);
    await writeGrey16(path.join(dir, `train_inst/${n}.png`), 20, 10, (x) => 26000 + (x >> 2));
    await writeRgb(path.join(dir, `train_img/${n}.png`), 20, 10, (x, y) => [x * 12, y * 20, n.charCodeAt(0)]);
  }
  await writeGrey8(path.join(dir, 'train_label/d.png'), 20, 10, () => 200); // id 200 ≥ label_nc
  await writeGrey16(path.join(dir, 'train_inst/d.png'), 20, 10, () => 1);
  await writeRgb(path.join(dir, 'train_img/d.png'), 20, 10, () => [0, 0, 0]);
}

test('worker threads load exactly what the main thread loads, and report bad data as DataError', async (t) => {
  const dir = tempDir(t);
  await smallSet(dir);
  const options = { dataroot: dir, label_nc: 35, resize_or_crop: 'scale_width_and_crop' as const, loadSize: 16, fineSize: 8 };
  const dataset = AlignedDataset.open(options);
  const pool = new WorkerPool(dataset, 2);
  t.after(() => pool.close());
  for (const [index, seed] of [[0, 1], [1, 2], [2, 3], [0, 99]] as const) {
    const [mine, theirs] = await Promise.all([dataset.load(index, seed), pool.load(index, seed)]);
    assert.deepEqual(theirs, mine);
  }
  await assert.rejects(pool.load(3, 0), (e: Error) => e instanceof DataError && e.message.includes(path.join(dir, 'train_label/d.png')) && e.message.includes('200'));
});

test('openData with workers: same batches as without, and close() ends the threads', async (t) => {
  const dir = tempDir(t);
  await smallSet(dir);
  const options = { dataroot: dir, label_nc: 35, max_dataset_size: 3, batchSize: 3, resize_or_crop: 'crop' as const, fineSize: 8, seed: 4 };
  const plain = openData(options);
  const threaded = openData({ ...options, workers: 2 });
  t.after(() => threaded.close());
  const a = [];
  for await (const b of plain.loader.epoch(1)) a.push(b);
  const b = [];
  for await (const x of threaded.loader.epoch(1)) b.push(x);
  assert.equal(a.length, 1);
  assert.deepEqual(b, a);
  await threaded.close();
  await assert.rejects(threaded.loader.epoch(2).next(), /after close/);
});
