// The trainer's batch source: every item of an epoch is trained on, its last smaller batch
// included (the official loader is torch's DataLoader with drop_last=False), and resuming
// mid-epoch skips exactly the items already done.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { trainingBatches } from '../../src/train/data-source.js';
import { tempDir, writeGrey8, writeRgb } from '../data/helpers.js';

async function indices(batches: AsyncIterable<{ indices: number[] }>): Promise<number[][]> {
  const out: number[][] = [];
  for await (const b of batches) out.push(b.indices);
  return out;
}

test('--batchSize 3 over 7 images: batches of 3, 3 and 1 each epoch; resuming after any of them skips exactly those', async (t) => {
  const dir = tempDir(t);
  for (let i = 0; i < 7; i++) {
    await writeGrey8(path.join(dir, `train_label/${i}.png`), 8, 8, () => 7);
    await writeRgb(path.join(dir, `train_img/${i}.png`), 8, 8, () => [i, i, i]);
  }
  const data = trainingBatches({ dataroot: dir, no_instance: true, resize_or_crop: 'none', n_downsample_global: 0, label_nc: 35, batchSize: 3, serial_batches: true, nThreads: 1 });
  assert.equal(data.size, 7, 'an epoch is every item');
  assert.deepEqual(await indices(data.epoch(1, 0)), [[0, 1, 2], [3, 4, 5], [6]]);
  assert.deepEqual(await indices(data.epoch(1, 3)), [[3, 4, 5], [6]]);
  assert.deepEqual(await indices(data.epoch(1, 6)), [[6]], 'the last, smaller batch is not skipped before it is trained');
  assert.deepEqual(await indices(data.epoch(1, 7)), [], 'nor replayed after it');
});

test('training maps smaller than G takes are refused naming the file and the minimum side, before the first step', async (t) => {
  const dir = tempDir(t);
  await writeGrey8(path.join(dir, 'train_label/small.png'), 8, 4, () => 7);
  await writeRgb(path.join(dir, 'train_img/small.png'), 8, 4, () => [0, 0, 0]);
  const data = trainingBatches({ dataroot: dir, no_instance: true, resize_or_crop: 'none', n_downsample_global: 2, label_nc: 35, nThreads: 1 });
  const file = path.join(dir, 'train_label', 'small.png');
  const expected = (e: Error) => e.message.startsWith(`${file} is too small for the generator (8×4): with n_downsample_global 2 every side must be at least 5 pixels`);
  await assert.rejects(data.sampleSize(), expected);
  await assert.rejects(indices(data.epoch(1, 0)), expected);
  // Rounded to nothing by resize_or_crop none (n_downsample_global 4: multiples of 16): the file is named too.
  await assert.rejects(trainingBatches({ dataroot: dir, no_instance: true, resize_or_crop: 'none', n_downsample_global: 4, label_nc: 35 }).sampleSize(),
    (e: Error) => e.message.startsWith(`${file}: an image of 8×4 rounds to 0×0`));
});
