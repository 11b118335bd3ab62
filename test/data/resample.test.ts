import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resizeBicubic } from '../../src/data/resample.js';
import { applyPlan } from '../../src/data/transforms.js';

// Expected values from Pillow 12.3 (Image.resize with BICUBIC / NEAREST) on this 7×5 grey image.
const SRC = [0, 37, 74, 111, 148, 185, 222, 53, 110, 167, 224, 25, 82, 139, 106, 183, 4, 81, 18, 95, 172, 159, 0, 97, 54, 151, 108, 205, 212, 73, 50, 167, 144, 5, 238];
const PIL: Array<{ w: number; h: number; bicubic: number[]; nearest: number[] }> = [
  { w: 4, h: 3, bicubic: [40, 124, 122, 163, 115, 88, 66, 133, 122, 71, 119, 147], nearest: [0, 74, 148, 222, 106, 4, 18, 172, 212, 50, 144, 238] },
  {
    w: 11,
    h: 8,
    bicubic: [
      0, 9, 35, 58, 79, 103, 138, 168, 190, 216, 231, 17, 33, 67, 104, 140, 163, 120, 104, 140, 172, 191, 52, 78, 120, 149, 194, 222, 86, 18, 73, 116, 142, 83, 134, 174, 71,
      67, 126, 43, 14, 79, 133, 162, 122, 134, 130, 43, 24, 59, 53, 63, 97, 152, 188, 166, 88, 5, 73, 83, 52, 116, 143, 109, 162, 210, 205, 126, 31, 57, 91, 121, 153, 126,
      46, 146, 239, 226, 161, 71, 41, 88, 175, 170, 101, 0, 132, 255,
    ],
    nearest: [
      0, 0, 37, 74, 74, 111, 148, 148, 185, 222, 222, 0, 0, 37, 74, 74, 111, 148, 148, 185, 222, 222, 53, 53, 110, 167, 167, 224, 25, 25, 82, 139, 139, 106, 106, 183, 4, 4,
      81, 18, 18, 95, 172, 172, 106, 106, 183, 4, 4, 81, 18, 18, 95, 172, 172, 159, 159, 0, 97, 97, 54, 151, 151, 108, 205, 205, 212, 212, 73, 50, 50, 167, 144, 144, 5, 238,
      238, 212, 212, 73, 50, 50, 167, 144, 144, 5, 238, 238,
    ],
  },
  {
    w: 7,
    h: 3,
    bicubic: [19, 71, 115, 163, 93, 141, 185, 106, 129, 63, 105, 43, 95, 168, 193, 39, 67, 115, 151, 49, 226],
    nearest: [0, 37, 74, 111, 148, 185, 222, 106, 183, 4, 81, 18, 95, 172, 212, 73, 50, 167, 144, 5, 238],
  },
];

test('bicubic resizing matches Pillow BICUBIC (shrinking with antialiasing, enlarging, one axis)', () => {
  for (const ref of PIL) {
    const out = resizeBicubic(Uint8Array.from(SRC), 7, 5, 1, ref.w, ref.h);
    const diffs = [...out].map((v, i) => Math.abs(v - (ref.bicubic[i] as number)));
    assert.ok(Math.max(...diffs) <= 1, `${ref.w}×${ref.h}: ${[...out]} vs ${ref.bicubic}`);
  }
});

test('nearest resizing of maps matches Pillow NEAREST', () => {
  for (const ref of PIL) {
    const plan = { source: { width: 7, height: 5 }, resize: { width: ref.w, height: ref.h }, crop: null, flip: false, output: { width: ref.w, height: ref.h } };
    const out = applyPlan(Int32Array.from(SRC), 1, plan, false);
    assert.deepEqual([...out], ref.nearest, `${ref.w}×${ref.h}`);
  }
});

test('bicubic works per channel on interleaved RGB', () => {
  const rgb = new Uint8Array(7 * 5 * 3);
  SRC.forEach((v, i) => rgb.set([v, 255 - v, 9], 3 * i));
  const out = resizeBicubic(rgb, 7, 5, 3, 4, 3);
  const ref = PIL[0] as (typeof PIL)[number];
  for (let i = 0; i < 12; i++) {
    assert.ok(Math.abs((out[3 * i] as number) - (ref.bicubic[i] as number)) <= 1);
    assert.equal(out[3 * i + 2], 9);
  }
});
