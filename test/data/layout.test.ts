import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { AlignedDataset } from '../../src/data/dataset.js';
import { findDataset, pairingKey } from '../../src/data/layout.js';
import { resolveDataOptions } from '../../src/data/options.js';
import { Rng } from '../../src/util/rng.js';
import { paletteIndexPng, tempDir, writeGrey16, writeGrey8, writeRgb } from './helpers.js';

const grey = (v: number) => () => v;
const rgb = (c: [number, number, number]) => () => c;

test('official layout: label, inst and photo paired by name (any extension, subfolders too)', async (t) => {
  const dir = tempDir(t);
  for (const name of ['b', 'a', 'sub/c']) {
    await writeGrey8(path.join(dir, `train_label/${name}.png`), 8, 6, grey(name.length));
    await writeGrey16(path.join(dir, `train_inst/${name}.png`), 8, 6, grey(26001));
    await writeRgb(path.join(dir, `train_img/${name}.jpg`), 8, 6, rgb([10, 20, 30]));
  }
  const found = findDataset(resolveDataOptions({ dataroot: dir }));
  assert.equal(found.layout, 'official');
  assert.deepEqual(
    found.entries.map((e) => [path.relative(dir, e.label), path.relative(dir, e.inst as string), path.relative(dir, e.image as string)]),
    [
      ['train_label/a.png', 'train_inst/a.png', 'train_img/a.jpg'],
      ['train_label/b.png', 'train_inst/b.png', 'train_img/b.jpg'],
      ['train_label/sub/c.png', 'train_inst/sub/c.png', 'train_img/sub/c.jpg'],
    ],
  );
  const ds = AlignedDataset.open({ dataroot: dir, resize_or_crop: 'none', n_downsample_global: 1 });
  const item = await ds.load(2, new Rng(0));
  assert.equal(item.label[0], 5); // 'sub/c'.length
  assert.equal(item.inst?.[0], 26001); // 16-bit instance ids read exactly
  assert.ok(Math.abs((item.image?.[0] as number) - (10 / 127.5 - 1)) < 0.03); // JPEG photo
});

test('official Cityscapes preparation pairs across the _gtFine_labelIds / _leftImg8bit suffixes', async (t) => {
  const dir = tempDir(t);
  const stems = ['aachen_000000_000019', 'aachen_000001_000019'];
  for (const s of stems) {
    await writeGrey8(path.join(dir, `test_label/${s}_gtFine_labelIds.png`), 8, 4, grey(7));
    await writeGrey16(path.join(dir, `test_inst/${s}_gtFine_instanceIds.png`), 8, 4, grey(7));
    await writeRgb(path.join(dir, `test_img/${s}_leftImg8bit.png`), 8, 4, rgb([1, 2, 3]));
  }
  const found = findDataset(resolveDataOptions({ dataroot: dir, phase: 'test', isTrain: false }));
  assert.deepEqual(found.entries.map((e) => e.key), stems);
  assert.ok(found.entries.every((e) => path.basename(e.image as string).startsWith(e.key)));
  assert.equal(pairingKey('x/aachen_000000_000019_gtFine_instanceIds.png'), 'x/aachen_000000_000019');
});

test('names that share nothing pair in sorted order (the official rule) when the counts agree', async (t) => {
  const dir = tempDir(t);
  for (const [l, p] of [['l1', 'p1'], ['l2', 'p2']]) {
    await writeGrey8(path.join(dir, `train_label/${l}.png`), 4, 4, grey(1));
    await writeRgb(path.join(dir, `train_img/${p}.png`), 4, 4, rgb([0, 0, 0]));
  }
  const found = findDataset(resolveDataOptions({ dataroot: dir, no_instance: true }));
  assert.deepEqual(found.entries.map((e) => path.basename(e.image as string)), ['p1.png', 'p2.png']);
  assert.equal(found.entries[0]?.inst, null);
});

test("Cityscapes' own layout is read in place and auto-detected", async (t) => {
  const dir = tempDir(t);
  const items = [
    ['aachen', 'aachen_000000_000019'],
    ['bremen', 'bremen_000002_000019'],
  ];
  for (const [city, stem] of items) {
    await writeGrey8(path.join(dir, `gtFine/train/${city}/${stem}_gtFine_labelIds.png`), 8, 4, grey(26));
    await writeGrey16(path.join(dir, `gtFine/train/${city}/${stem}_gtFine_instanceIds.png`), 8, 4, grey(26003));
    await writeRgb(path.join(dir, `gtFine/train/${city}/${stem}_gtFine_color.png`), 8, 4, rgb([0, 0, 142])); // not a label map
    await writeRgb(path.join(dir, `leftImg8bit/train/${city}/${stem}_leftImg8bit.png`), 8, 4, rgb([5, 5, 5]));
  }
  const ds = AlignedDataset.open({ dataroot: dir });
  assert.equal(ds.layout, 'cityscapes');
  assert.deepEqual(ds.entries.map((e) => e.key), ['aachen_000000_000019', 'bremen_000002_000019']);
  assert.ok(ds.entries[1]?.image?.endsWith(path.join('leftImg8bit', 'train', 'bremen', 'bremen_000002_000019_leftImg8bit.png')));
  const item = await ds.load(0, new Rng(0));
  assert.equal(item.label[0], 26);
  assert.equal(item.inst?.[0], 26003);
  // An explicit layout wins over detection.
  assert.throws(() => AlignedDataset.open({ dataroot: dir, layout: 'official' }), /train_label/);
});

test('label_nc 0 reads RGB input maps from {phase}_A / {phase}_B (official names) or _label / _img', async (t) => {
  const dir = tempDir(t);
  await writeRgb(path.join(dir, 'train_A/x.png'), 4, 4, rgb([255, 0, 0]));
  await writeRgb(path.join(dir, 'train_B/x.png'), 4, 4, rgb([0, 255, 0]));
  const ds = AlignedDataset.open({ dataroot: dir, label_nc: 0, no_instance: true, resize_or_crop: 'none', n_downsample_global: 2 });
  const item = await ds.load(0, new Rng(0));
  assert.ok(item.label instanceof Float32Array);
  assert.equal(item.label.length, 3 * 16);
  assert.equal(item.label[0], 1); // red channel
  assert.equal(item.label[16], -1);
  assert.equal(item.image?.[16], 1); // green
});

test('folder names can be given; max_dataset_size keeps the first N', async (t) => {
  const dir = tempDir(t);
  for (const n of ['1', '2', '3']) {
    await writeGrey8(path.join(dir, `maps/${n}.png`), 4, 4, grey(2));
    await writeGrey8(path.join(dir, `ids/${n}.png`), 4, 4, grey(2));
    await writeRgb(path.join(dir, `photos/${n}.png`), 4, 4, rgb([0, 0, 0]));
  }
  const ds = AlignedDataset.open({ dataroot: dir, label_dir: 'maps', inst_dir: 'ids', img_dir: path.join(dir, 'photos'), max_dataset_size: 2 });
  assert.equal(ds.size, 2);
  assert.deepEqual(ds.entries.map((e) => path.basename(e.label)), ['1.png', '2.png']);
});

test('a palette PNG label map gives its palette indices, even where two indices share a colour', async (t) => {
  const dir = tempDir(t);
  const palette: Array<[number, number, number]> = Array.from({ length: 16 }, (_, i) => [i * 10, 0, 0]);
  palette[9] = [30, 0, 0]; // same colour as index 3
  const idx = (x: number, y: number) => [3, 9, 14, 0][(x + y) % 4] as number;
  writeFileSync(path.join(tempDirSub(dir, 'train_label'), 'p.png'), paletteIndexPng(6, 5, palette, idx));
  await writeRgb(path.join(dir, 'train_img/p.png'), 6, 5, rgb([0, 0, 0]));
  const ds = AlignedDataset.open({ dataroot: dir, no_instance: true, no_flip: true, resize_or_crop: 'none', n_downsample_global: 0 });
  const item = await ds.load(0, new Rng(0));
  const expected = Array.from({ length: 30 }, (_, i) => idx(i % 6, Math.floor(i / 6)));
  assert.deepEqual([...item.label], expected);
});

function tempDirSub(dir: string, sub: string): string {
  const p = path.join(dir, sub);
  mkdirSync(p, { recursive: true });
  return p;
}
