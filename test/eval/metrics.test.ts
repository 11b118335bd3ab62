// The evaluation figures on tiny images worked out by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImageMetrics } from '../../src/eval/metrics.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('mean absolute error and per-class mean-colour distances, over one image and then two', () => {
  const m = new ImageMetrics();
  assert.ok(Number.isNaN(m.meanAbsoluteError), 'nothing added yet');
  assert.ok(Number.isNaN(m.meanClassColourError));
  // Three pixels, classes [7, 7, 2].
  m.add(
    Uint8Array.of(10, 20, 30, 30, 20, 10, 0, 0, 0),
    Uint8Array.of(12, 20, 26, 30, 26, 10, 3, 4, 0),
    Int32Array.of(7, 7, 2),
  );
  // |differences|: 2 0 4, 0 6 0, 3 4 0 → 19 over 9 values.
  close(m.meanAbsoluteError, 19 / 9, 'MAE');
  // Class 2: mean fake (0, 0, 0), real (3, 4, 0): distance 5.
  // Class 7: mean fake (20, 20, 20), real (21, 23, 18): distance √(1 + 9 + 4) = √14.
  const errs = m.classColourErrors();
  assert.deepEqual(errs.map((e) => [e.classId, e.pixels]), [[2, 1], [7, 2]]);
  close(errs[0]!.error, 5, 'class 2');
  close(errs[1]!.error, Math.sqrt(14), 'class 7');
  close(m.meanClassColourError, (5 + Math.sqrt(14)) / 2, 'mean class error');

  // A second image: one pixel of class 2, fake (6, 8, 0), real (0, 0, 0).
  m.add(Uint8Array.of(6, 8, 0), Uint8Array.of(0, 0, 0), [2]);
  close(m.meanAbsoluteError, (19 + 14) / 12, 'MAE over both');
  // Class 2 now: mean fake (3, 4, 0), mean real (1.5, 2, 0): distance √(2.25 + 4) = 2.5.
  const after = m.classColourErrors();
  assert.deepEqual(after.map((e) => [e.classId, e.pixels]), [[2, 2], [7, 2]]);
  close(after[0]!.error, 2.5, 'class 2 over both');
  close(m.meanClassColourError, (2.5 + Math.sqrt(14)) / 2, 'mean class error over both');
});

test('identical images give zero everywhere; mismatched sizes are refused', () => {
  const m = new ImageMetrics();
  const img = Uint8Array.of(1, 2, 3, 200, 100, 50);
  m.add(img, img.slice(), [0, 1]);
  assert.equal(m.meanAbsoluteError, 0);
  assert.equal(m.meanClassColourError, 0);
  assert.throws(() => m.add(img, img.subarray(0, 3), [0, 1]), /sizes differ/);
  assert.throws(() => m.add(img, img, [0]), /sizes differ/);
});
