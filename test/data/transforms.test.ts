import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { AlignedDataset } from '../../src/data/dataset.js';
import type { DataOptions } from '../../src/data/options.js';
import { resolveDataOptions } from '../../src/data/options.js';
import { Rng } from '../../src/util/rng.js';
import { planTransform, roundHalfEven } from '../../src/data/transforms.js';
import { tempDir, writeGrey16, writeGrey8, writeRgb } from './helpers.js';

// A 40×30 item whose pixels encode their own coordinates:
//   label = x + 1, instance = 1000 + 40·y + x, photo R = 6x, G = 8y, B = 100.
const W = 40;
const H = 30;
async function coordinateSet(dir: string, w = W, h = H): Promise<void> {
  await writeGrey8(path.join(dir, 'train_label/a.png'), w, h, (x) => x + 1);
  await writeGrey16(path.join(dir, 'train_inst/a.png'), w, h, (x, y) => 1000 + w * y + x);
  await writeRgb(path.join(dir, 'train_img/a.png'), w, h, (x, y) => [6 * x, 8 * y, 100]);
}

function open(dataroot: string, o: Partial<DataOptions>): AlignedDataset {
  return AlignedDataset.open({ dataroot, label_nc: 64, loadSize: 32, fineSize: 16, ...o });
}

const photoValue = (v: number): number => v / 127.5 - 1;
const sz = (width: number, height: number) => ({ width, height });

test('output sizes of every resize_or_crop mode (40×30 source, loadSize 32, fineSize 16)', () => {
  const base = resolveDataOptions({ loadSize: 32, fineSize: 16, isTrain: false });
  const params = { cropX: 0, cropY: 0, flip: false };
  const plan = (mode: DataOptions['resize_or_crop'], src = sz(40, 30), extra: Partial<DataOptions> = {}) =>
    planTransform({ ...base, resize_or_crop: mode, ...extra }, src, params);

  assert.deepEqual(plan('resize_and_crop').resize, sz(32, 32));
  assert.deepEqual(plan('resize_and_crop').output, sz(16, 16));
  assert.equal(plan('crop').resize, null);
  assert.deepEqual(plan('crop').output, sz(16, 16));
  assert.deepEqual(plan('scale_width').output, sz(32, 24)); // 32·30/40 = 24
  assert.deepEqual(plan('scale_width', sz(45, 31)).output, sz(32, 22)); // 32·31/45 = 22.04 → 22 (truncated)
  assert.equal(plan('scale_width', sz(32, 17)).resize, null); // already loadSize wide
  assert.deepEqual(plan('scale_width_and_crop').resize, sz(32, 24));
  assert.deepEqual(plan('scale_width_and_crop').output, sz(16, 16));
  assert.deepEqual(plan('crop', sz(12, 10)).output, sz(12, 10)); // smaller than fineSize: not cropped
  // 'none': multiples of 2^n_downsample_global (× 2^n_local_enhancers for netG local), halves to even.
  assert.deepEqual(plan('none', sz(40, 30), { n_downsample_global: 2 }).output, sz(40, 32)); // 7.5 → 8
  assert.deepEqual(plan('none', sz(36, 20), { n_downsample_global: 2, netG: 'local', n_local_enhancers: 1 }).output, sz(32, 16)); // 4.5 → 4, 2.5 → 2
  assert.deepEqual(plan('none', sz(40, 24), { n_downsample_global: 3 }).output, sz(40, 24));
  assert.equal(plan('none', sz(40, 24), { n_downsample_global: 3 }).resize, null);
  assert.deepEqual(plan('none', sz(620, 460), { n_downsample_global: 4 }).output, sz(624, 464)); // the size users see change
  assert.throws(() => plan('none', sz(3, 3), { n_downsample_global: 4 }), /rounds to 0×0/);
});

test('roundHalfEven matches Python 3 round()', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 3.5, 4.5, 7.5, 2.4, 2.6, 3].map(roundHalfEven), [0, 2, 2, 4, 4, 8, 2, 3, 3]);
});

test('crop: the seeded offset (seed 1 → x 23, y 13) is read back from label, instance and photo pixels', async (t) => {
  const dir = tempDir(t);
  await coordinateSet(dir);
  // xoshiro128** seed 1 draws 393288148 % 25 = 23 and 2174103013 % 15 = 13 (see rng.test.ts).
  const item = await open(dir, { resize_or_crop: 'crop', no_flip: true }).load(0, new Rng(1));
  assert.equal(item.width, 16);
  assert.equal(item.height, 16);
  const x0 = 23;
  const y0 = 13;
  for (let oy = 0; oy < 16; oy++) {
    for (let ox = 0; ox < 16; ox++) {
      const i = oy * 16 + ox;
      assert.equal(item.label[i], x0 + ox + 1);
      assert.equal((item.inst as Int32Array)[i], 1000 + W * (y0 + oy) + x0 + ox);
      const img = item.image as Float32Array;
      assert.ok(Math.abs((img[i] as number) - photoValue(6 * (x0 + ox))) < 1e-6);
      assert.ok(Math.abs((img[256 + i] as number) - photoValue(8 * (y0 + oy))) < 1e-6);
      assert.ok(Math.abs((img[512 + i] as number) - photoValue(100)) < 1e-6);
    }
  }
  assert.equal(item.sourceWidth, 40);
  assert.equal(item.sourceHeight, 30);
});

test('flip mirrors label, instance and photo alike, and only when training without no_flip', async (t) => {
  const dir = tempDir(t);
  await coordinateSet(dir);
  // Seed 1's third draw is 3814759091 / 2^32 = 0.89 > 0.5: flip.
  const flipped = await open(dir, { resize_or_crop: 'crop', isTrain: true }).load(0, new Rng(1));
  const plain = await open(dir, { resize_or_crop: 'crop', isTrain: true, no_flip: true }).load(0, new Rng(1));
  const atTest = await open(dir, { resize_or_crop: 'crop', isTrain: false }).load(0, new Rng(1));
  assert.equal(flipped.plan.flip, true);
  assert.equal(plain.plan.flip, false);
  assert.equal(atTest.plan.flip, false);
  for (let oy = 0; oy < 16; oy++) {
    for (let ox = 0; ox < 16; ox++) {
      const i = oy * 16 + ox;
      const m = oy * 16 + (15 - ox);
      assert.equal(flipped.label[i], 23 + (15 - ox) + 1);
      assert.equal(flipped.label[i], plain.label[m]);
      assert.equal((flipped.inst as Int32Array)[i], (plain.inst as Int32Array)[m]);
      for (let c = 0; c < 3; c++) assert.equal((flipped.image as Float32Array)[c * 256 + i], (plain.image as Float32Array)[c * 256 + m]);
    }
  }
  assert.deepEqual(atTest.label, plain.label);
  // Seed 2's third draw is below 0.5: no flip even when allowed.
  const seed2 = await open(dir, { resize_or_crop: 'crop', isTrain: true }).load(0, new Rng(2));
  assert.equal(seed2.plan.flip, false);
});

test('resize_and_crop: nearest-resized maps and bicubic photo share the crop (seed 2 → x 5, y 11 in 32×32)', async (t) => {
  const dir = tempDir(t);
  await coordinateSet(dir);
  const item = await open(dir, { resize_or_crop: 'resize_and_crop', no_flip: true }).load(0, new Rng(2));
  assert.equal(item.width, 16);
  assert.equal(item.height, 16);
  // Nearest neighbour takes the source pixel under the output pixel's centre: floor((r + 0.5)·src/dst).
  const sx = (ox: number) => Math.floor(((5 + ox + 0.5) * 40) / 32);
  const sy = (oy: number) => Math.floor(((11 + oy + 0.5) * 30) / 32);
  assert.equal(sx(0), 6);
  assert.equal(sy(0), 10);
  for (let oy = 0; oy < 16; oy++) {
    for (let ox = 0; ox < 16; ox++) {
      const i = oy * 16 + ox;
      assert.equal(item.label[i], sx(ox) + 1);
      assert.equal((item.inst as Int32Array)[i], 1000 + 40 * sy(oy) + sx(ox));
      // The photo's ramps stay ramps under cubic resampling: R ≈ 6·(continuous source x).
      const cx = (5 + ox + 0.5) * 1.25 - 0.5;
      const cy = (11 + oy + 0.5) * (30 / 32) - 0.5;
      const img = item.image as Float32Array;
      assert.ok(Math.abs(((img[i] as number) + 1) * 127.5 - 6 * cx) < 3, `R at ${ox},${oy}`);
      if (oy < 15) assert.ok(Math.abs(((img[256 + i] as number) + 1) * 127.5 - 8 * cy) < 3, `G at ${ox},${oy}`);
    }
  }
});

test('scale_width_and_crop: 40×30 → 32×24, seed 3 crop at x 9, y 7', async (t) => {
  const dir = tempDir(t);
  await coordinateSet(dir);
  const item = await open(dir, { resize_or_crop: 'scale_width_and_crop', no_flip: true }).load(0, new Rng(3));
  assert.deepEqual(item.plan.resize, sz(32, 24));
  assert.deepEqual(item.plan.crop, { x: 9, y: 7, size: 16 });
  for (let oy = 0; oy < 16; oy++) {
    for (let ox = 0; ox < 16; ox++) {
      const sx = Math.floor(((9 + ox + 0.5) * 40) / 32);
      const sy = Math.floor(((7 + oy + 0.5) * 30) / 24);
      assert.equal((item.inst as Int32Array)[oy * 16 + ox], 1000 + 40 * sy + sx);
    }
  }
});

test('scale_width_and_crop past the bottom edge fills zeros, as PIL crop does', async (t) => {
  const dir = tempDir(t);
  await coordinateSet(dir, 40, 10); // → 32×8, then a 16×16 crop at y 0
  const item = await open(dir, { resize_or_crop: 'scale_width_and_crop', no_flip: true }).load(0, new Rng(5));
  assert.equal(item.height, 16);
  for (let oy = 8; oy < 16; oy++) {
    for (let ox = 0; ox < 16; ox++) {
      assert.equal(item.label[oy * 16 + ox], 0);
      assert.equal((item.image as Float32Array)[oy * 16 + ox], -1);
    }
  }
  assert.ok(item.label[7 * 16] as number > 0);
});

test('scale_width and none keep the whole image; none rounds to the network multiple', async (t) => {
  const dir = tempDir(t);
  await coordinateSet(dir, 36, 20);
  const sw = await open(dir, { resize_or_crop: 'scale_width', no_flip: true }).load(0, new Rng(1));
  assert.deepEqual([sw.width, sw.height], [32, 17]); // 32·20/36 = 17.8 → 17
  const none = await open(dir, { resize_or_crop: 'none', netG: 'local', n_downsample_global: 2, n_local_enhancers: 1 }).load(0, new Rng(1));
  assert.deepEqual([none.width, none.height], [32, 16]);
  assert.deepEqual([none.sourceWidth, none.sourceHeight], [36, 20]);
  assert.equal(none.label.length, 32 * 16);
  assert.equal((none.image as Float32Array).length, 3 * 32 * 16);
});

test('nearest keeps a label map to its ids; bicubic gives a photo in-between values', async (t) => {
  const dir = tempDir(t);
  const ids = [3, 17, 42];
  await writeGrey8(path.join(dir, 'train_label/s.png'), 40, 30, (x, y) => ids[(Math.floor(x / 7) + Math.floor(y / 5)) % 3] as number);
  await writeGrey16(path.join(dir, 'train_inst/s.png'), 40, 30, (x) => (x < 20 ? 300 : 7));
  await writeRgb(path.join(dir, 'train_img/s.png'), 40, 30, (x) => (Math.floor(x / 3) % 2 ? [255, 255, 255] : [0, 0, 0]));
  const item = await open(dir, { resize_or_crop: 'resize_and_crop', loadSize: 29, fineSize: 29, no_flip: true }).load(0, new Rng(1));
  assert.equal(item.width, 29);
  assert.deepEqual([...new Set(item.label)].sort((a, b) => a - b), ids);
  assert.deepEqual([...new Set(item.inst)].sort((a, b) => a - b), [7, 300]);
  const img = item.image as Float32Array;
  const between = img.filter((v) => v > -0.9 && v < 0.9).length;
  assert.ok(between > 29 * 29 * 0.1, `expected many in-between photo values, got ${between}`);
});
