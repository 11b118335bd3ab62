// Pixel accuracy and mean IoU on confusion cases worked out by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfusionMatrix } from '../../src/eval/segmentation/confusion.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} vs ${b}`);

test('a perfect prediction scores 1 and 1; nothing counted scores NaN', () => {
  const m = new ConfusionMatrix(3);
  assert.ok(Number.isNaN(m.pixelAccuracy) && Number.isNaN(m.meanIou));
  m.add([0, 1, 2, 2], [0, 1, 2, 2]);
  assert.equal(m.pixelAccuracy, 1);
  assert.equal(m.meanIou, 1);
});

test('IoU per class is TP / (TP + FP + FN), over all images together', () => {
  const m = new ConfusionMatrix(3);
  // labels   0 0 0 1 1 2
  // predicted 0 0 1 1 2 2
  m.add([0, 0, 1, 1, 2, 2], [0, 0, 0, 1, 1, 2]);
  // class 0: TP 2, FN 1, FP 0 → 2/3; class 1: TP 1, FN 1 (a 1 called 2), FP 1 (a 0 called 1) → 1/3; class 2: TP 1, FP 1 → 1/2
  const iou = m.classIou();
  close(iou[0]!, 2 / 3, 'class 0');
  close(iou[1]!, 1 / 3, 'class 1');
  close(iou[2]!, 1 / 2, 'class 2');
  close(m.meanIou, (2 / 3 + 1 / 3 + 1 / 2) / 3, 'mean IoU');
  close(m.pixelAccuracy, 4 / 6, 'pixel accuracy');
  // A second image adds to the same counts (not an average of per-image scores).
  m.add([2, 2], [2, 2]);
  close(m.classIou()[2]!, 3 / 4, 'class 2 after two images');
  close(m.pixelAccuracy, 6 / 8, 'pixel accuracy after two images');
});

test('pixels with the ignore label (and labels outside the classes) are not counted, whatever was predicted', () => {
  const m = new ConfusionMatrix(2, 255);
  m.add([0, 1, 1, 0, 1], [0, 255, 255, 7, 1]);
  assert.equal(m.pixels, 2);
  assert.equal(m.pixelAccuracy, 1);
  assert.equal(m.meanIou, 1);
  assert.throws(() => m.add([5], [0]), /prediction 5 outside 0…1/);
});

test('a class absent from labels and predictions is left out of the mean; one only predicted counts as 0', () => {
  const m = new ConfusionMatrix(4);
  // class 3 never appears; class 2 is predicted once but never labelled
  m.add([0, 0, 1, 2], [0, 0, 1, 1]);
  const iou = m.classIou();
  assert.ok(Number.isNaN(iou[3]!), 'class 3 has no IoU');
  close(iou[0]!, 1, 'class 0');
  close(iou[1]!, 1 / 2, 'class 1 (one of two found)');
  close(iou[2]!, 0, 'class 2 (a false positive only)');
  close(m.meanIou, (1 + 1 / 2 + 0) / 3, 'mean over the three classes that have an IoU');
  close(m.pixelAccuracy, 3 / 4, 'pixel accuracy');
});
