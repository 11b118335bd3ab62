// Bad data gives a message that names the file(s) and says what is wrong.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { AlignedDataset } from '../../src/data/dataset.js';
import { DataError } from '../../src/data/errors.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir, writeGrey16, writeGrey8, writeRgb } from './helpers.js';

const grey = (v: number) => () => v;
const black = (): [number, number, number] => [0, 0, 0];

/** Rejects with a DataError whose message matches every pattern. */
async function rejectsWith(p: Promise<unknown> | (() => unknown), ...patterns: Array<RegExp | string>): Promise<string> {
  let error: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof DataError, `expected a DataError, got ${String(error)}`);
  const msg = (error as Error).message;
  for (const pat of patterns) {
    if (typeof pat === 'string') assert.ok(msg.includes(pat), `message lacks ${JSON.stringify(pat)}:\n${msg}`);
    else assert.match(msg, pat);
  }
  return msg;
}

const opts = (dataroot: string) => ({ dataroot, no_instance: true, resize_or_crop: 'none' as const, n_downsample_global: 0, label_nc: 35 });

test('a JPEG label map is refused: lossy compression changes class ids', async (t) => {
  const dir = tempDir(t);
  await writeRgb(path.join(dir, 'train_label/a.jpg'), 8, 8, () => [7, 7, 7]);
  await writeRgb(path.join(dir, 'train_img/a.png'), 8, 8, black);
  const ds = AlignedDataset.open(opts(dir));
  await rejectsWith(ds.load(0, new Rng(0)), path.join(dir, 'train_label/a.jpg'), 'lossless PNG', 'JPEG changes class ids');
});

test('ids ≥ label_nc are listed with the file, and 255 gets the Cityscapes hint', async (t) => {
  const dir = tempDir(t);
  await writeGrey8(path.join(dir, 'train_label/a.png'), 8, 8, (x) => [3, 40, 41, 3][x % 4] as number);
  await writeGrey8(path.join(dir, 'train_label/b.png'), 8, 8, (x) => (x < 2 ? 255 : 7));
  await writeRgb(path.join(dir, 'train_img/a.png'), 8, 8, black);
  await writeRgb(path.join(dir, 'train_img/b.png'), 8, 8, black);
  const ds = AlignedDataset.open(opts(dir));
  const msg = await rejectsWith(ds.load(0, new Rng(0)), path.join(dir, 'train_label/a.png'), 'label_nc 35', /40 \(16 px\), 41 \(16 px\)/, 'at least 42');
  assert.ok(!msg.includes('unlabeled'));
  await rejectsWith(ds.load(1, new Rng(0)), path.join(dir, 'train_label/b.png'), '255', 'unlabeled', 'labelIds');
});

test('a label map without its photo is named', async (t) => {
  const dir = tempDir(t);
  for (const n of ['a', 'b', 'c']) await writeGrey8(path.join(dir, `train_label/${n}.png`), 4, 4, grey(1));
  for (const n of ['a', 'c']) await writeRgb(path.join(dir, `train_img/${n}.png`), 4, 4, black);
  await rejectsWith(() => AlignedDataset.open(opts(dir)), path.join(dir, 'train_label/b.png'), 'no matching photo', path.join(dir, 'train_img', 'b'));
});

test('a label without its photo in the Cityscapes layout names both paths', async (t) => {
  const dir = tempDir(t);
  await writeGrey8(path.join(dir, 'gtFine/train/ulm/ulm_000000_000019_gtFine_labelIds.png'), 4, 4, grey(7));
  await writeGrey8(path.join(dir, 'gtFine/train/ulm/ulm_000000_000019_gtFine_instanceIds.png'), 4, 4, grey(7));
  mkdirSync(path.join(dir, 'leftImg8bit/train/ulm'), { recursive: true });
  await rejectsWith(
    () => AlignedDataset.open({ dataroot: dir }),
    path.join(dir, 'gtFine/train/ulm/ulm_000000_000019_gtFine_labelIds.png'),
    path.join(dir, 'leftImg8bit/train/ulm/ulm_000000_000019_leftImg8bit.png'),
  );
});

test('label and photo (or instance map) of different sizes: both files and sizes', async (t) => {
  const dir = tempDir(t);
  await writeGrey8(path.join(dir, 'train_label/a.png'), 8, 6, grey(1));
  await writeRgb(path.join(dir, 'train_img/a.png'), 8, 5, black);
  await writeGrey16(path.join(dir, 'train_inst/a.png'), 7, 6, grey(300));
  const photo = AlignedDataset.open(opts(dir));
  await rejectsWith(photo.load(0, new Rng(0)), path.join(dir, 'train_label/a.png'), '8×6', path.join(dir, 'train_img/a.png'), '8×5');
  const inst = AlignedDataset.open({ ...opts(dir), no_instance: false });
  await rejectsWith(inst.load(0, new Rng(0)), 'instance map', path.join(dir, 'train_inst/a.png'), '7×6');
});

test('truncated images are named: PNG label, PNG photo, JPEG photo', async (t) => {
  const dir = tempDir(t);
  const noisy = (x: number, y: number): [number, number, number] => [(x * 37 + y * 91) % 256, (x * y) % 256, (x + 3 * y) % 256];
  await writeGrey8(path.join(dir, 'train_label/a.png'), 64, 64, (x, y) => (x * y) % 30);
  await writeGrey8(path.join(dir, 'train_label/b.png'), 64, 64, grey(1));
  await writeGrey8(path.join(dir, 'train_label/c.png'), 64, 64, grey(1));
  await writeRgb(path.join(dir, 'train_img/a.png'), 64, 64, noisy);
  await writeRgb(path.join(dir, 'train_img/b.png'), 64, 64, noisy);
  await writeRgb(path.join(dir, 'train_img/c.jpg'), 64, 64, noisy);
  const cut = (f: string) => {
    const bytes = readFileSync(f);
    writeFileSync(f, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  };
  cut(path.join(dir, 'train_label/a.png'));
  cut(path.join(dir, 'train_img/b.png'));
  cut(path.join(dir, 'train_img/c.jpg'));
  const ds = AlignedDataset.open(opts(dir));
  await rejectsWith(ds.load(0, new Rng(0)), `Could not read image ${path.join(dir, 'train_label/a.png')}`);
  await rejectsWith(ds.load(1, new Rng(0)), `Could not read image ${path.join(dir, 'train_img/b.png')}`);
  await rejectsWith(ds.load(2, new Rng(0)), `Could not read image ${path.join(dir, 'train_img/c.jpg')}`);
});

test('a file that is not an image is named', async (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, 'train_label'), { recursive: true });
  writeFileSync(path.join(dir, 'train_label/a.png'), 'not a png');
  await writeRgb(path.join(dir, 'train_img/a.png'), 4, 4, black);
  await rejectsWith(AlignedDataset.open(opts(dir)).load(0, new Rng(0)), path.join(dir, 'train_label/a.png'));
});

test('an RGB label map with differing channels is refused (label_nc 0 is the way to feed RGB maps)', async (t) => {
  const dir = tempDir(t);
  await writeRgb(path.join(dir, 'train_label/a.png'), 4, 4, () => [128, 64, 128]);
  await writeRgb(path.join(dir, 'train_img/a.png'), 4, 4, black);
  await rejectsWith(AlignedDataset.open(opts(dir)).load(0, new Rng(0)), path.join(dir, 'train_label/a.png'), 'label_nc 0');
});

test('an empty folder, a missing folder, and no data set at all list what was looked for', async (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, 'train_label'));
  await rejectsWith(() => AlignedDataset.open(opts(dir)), path.join(dir, 'train_label'), 'holds no images', '.png', path.join(dir, 'gtFine', 'train'));

  await writeGrey8(path.join(dir, 'train_label/a.png'), 4, 4, grey(1));
  await writeRgb(path.join(dir, 'train_img/a.png'), 4, 4, black);
  await rejectsWith(() => AlignedDataset.open({ ...opts(dir), no_instance: false }), path.join(dir, 'train_inst'), 'no_instance');

  const empty = tempDir(t);
  mkdirSync(path.join(empty, 'something_else'));
  await rejectsWith(
    () => AlignedDataset.open({ dataroot: empty, phase: 'val' }),
    path.join(empty, 'val_label'),
    path.join(empty, 'gtFine', 'val', '*', '*_gtFine_labelIds.png'),
    'label_dir',
    'something_else',
  );
  await rejectsWith(() => AlignedDataset.open({ dataroot: path.join(empty, 'nope') }), 'is not a folder');
});

test('training needs photos: a missing photo folder says so', async (t) => {
  const dir = tempDir(t);
  await writeGrey8(path.join(dir, 'train_label/a.png'), 4, 4, grey(1));
  await rejectsWith(() => AlignedDataset.open(opts(dir)), path.join(dir, 'train_img'), 'training needs the real photos');
  // At test time photos are optional.
  const ds = AlignedDataset.open({ ...opts(dir), isTrain: false });
  assert.equal(ds.entries[0]?.image, null);
  const item = await ds.load(0, new Rng(0));
  assert.equal(item.image, null);
});

test('a photo without its label map is an error naming it (it was left out without a word)', async (t) => {
  const dir = tempDir(t);
  for (const n of ['a', 'b']) await writeGrey8(path.join(dir, `train_label/${n}.png`), 8, 8, grey(7));
  for (const n of ['a', 'b', 'c']) await writeRgb(path.join(dir, `train_img/${n}.png`), 8, 8, black);
  await rejectsWith(() => AlignedDataset.open(opts(dir)), '1 photo in', `${path.join(dir, 'train_img', 'c.png')}`, 'has no label map', path.join(dir, 'train_label', 'c') + '.*');
  // An instance map without its label map likewise.
  await writeRgb(path.join(dir, 'train_img/c.png'), 8, 8, black);
  await writeGrey8(path.join(dir, 'train_label/c.png'), 8, 8, grey(7));
  for (const n of ['a', 'b', 'c', 'd']) await writeGrey8(path.join(dir, `train_inst/${n}.png`), 8, 8, grey(7));
  await rejectsWith(() => AlignedDataset.open({ ...opts(dir), no_instance: false }), `${path.join(dir, 'train_inst', 'd.png')}`, 'no label map');
  // Photos of label maps beyond max_dataset_size are not orphans; at test time photos are optional and unused ones pass.
  assert.equal(AlignedDataset.open({ ...opts(dir), max_dataset_size: 1 }).size, 1);
  await writeRgb(path.join(dir, 'test_img/z.png'), 8, 8, black);
  await writeGrey8(path.join(dir, 'test_label/a.png'), 8, 8, grey(7));
  assert.equal(AlignedDataset.open({ ...opts(dir), phase: 'test', isTrain: false }).size, 1);
});
