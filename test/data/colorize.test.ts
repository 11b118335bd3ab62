import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { colorizeLabel, labelPalette, tensorToRgb } from '../../src/data/colorize.js';
import { encodeIdPng, encodePng } from '../../src/data/image-io.js';

test("colorizeLabel uses Cityscapes' colours for label_nc 35", () => {
  // road, sidewalk, building, vegetation, sky, person, car, unlabeled (labels.py)
  const ids = [7, 8, 11, 21, 23, 24, 26, 0];
  const rgb = colorizeLabel(ids, 8, 1);
  assert.deepEqual(
    [...rgb],
    [128, 64, 128, 244, 35, 232, 70, 70, 70, 107, 142, 35, 70, 130, 180, 220, 20, 60, 0, 0, 142, 0, 0, 0],
  );
});

test('other label_nc get the bit-interleaved palette; ids outside it are white', () => {
  const p = labelPalette(10);
  // id 1 → r top bit, 2 → g, 3 → r+g, 4 → b, 8 → r's second bit (64).
  assert.deepEqual([...p.subarray(3, 6)], [128, 0, 0]);
  assert.deepEqual([...p.subarray(6, 9)], [0, 128, 0]);
  assert.deepEqual([...p.subarray(9, 12)], [128, 128, 0]);
  assert.deepEqual([...p.subarray(12, 15)], [0, 0, 128]);
  assert.deepEqual([...p.subarray(24, 27)], [64, 0, 0]);
  assert.deepEqual([...colorizeLabel([12, -1], 2, 1, 10)], [255, 255, 255, 255, 255, 255]);
});

test('tensorToRgb maps CHW [-1, 1] to interleaved 0…255, clipping', () => {
  // channels of a 2×1 image: R = [-1, 1], G = [0, -2], B = [2, 0.5]
  assert.deepEqual([...tensorToRgb([-1, 1, 0, -2, 2, 0.5], 2, 1)], [0, 128, 255, 255, 0, 191]);
});

test('encodePng and encodeIdPng write what a decoder reads back', async () => {
  const rgb = Uint8Array.from({ length: 4 * 3 * 3 }, (_, i) => (i * 23) % 256);
  const png = await encodePng(rgb, 4, 3);
  const back = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([back.info.width, back.info.height, back.info.channels], [4, 3, 3]);
  assert.deepEqual([...back.data], [...rgb]);

  const ids = [0, 7, 26001, 65535, 24000, 11];
  const idPng = await encodeIdPng(ids, 3, 2);
  const meta = await sharp(idPng).metadata();
  assert.equal(meta.depth, 'ushort');
  assert.equal(meta.channels, 1);
  const raw = await sharp(idPng).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer();
  assert.deepEqual([...new Uint16Array(raw.buffer, raw.byteOffset, 6)], ids);
  assert.equal((await sharp(await encodeIdPng([1, 2, 255, 0], 2, 2)).metadata()).depth, 'uchar');
});
