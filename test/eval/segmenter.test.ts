// The compact segmenter behind the synthetic scenes' segmentation score: it learns from the
// training photos, is kept in the run folder and comes back identical; the score's table.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { makeSyntheticDataset } from '../../src/data/index.js';
import { readRgb } from '../../src/data/image-io.js';
import { readIdMap } from '../../src/data/image-io.js';
import { openSegmenter } from '../../src/eval/segmentation/run-segmenter.js';
import { SegmentationScore, segmentationTable } from '../../src/eval/segmentation/score.js';
import { compactSegmenter, type Segmenter } from '../../src/eval/segmentation/segmenter.js';
import { loadSegmenter, saveSegmenter, SEGMENTER_DEFAULTS, trainSegmenter } from '../../src/eval/segmentation/train-segmenter.js';

test('the compact segmenter learns the synthetic scenes, and the run folder gives it back unchanged', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'p2phd-seg-'));
  try {
    const data = path.join(root, 'data');
    await makeSyntheticDataset({ out: data, n: 6, nTest: 1, width: 64, height: 32, seed: 5 });
    const losses: number[] = [];
    const { net, record } = await trainSegmenter(
      { ...SEGMENTER_DEFAULTS, dataroot: data, classes: 35, width: 16, epochs: 8, batchSize: 2, seed: 1 }, 'cpu', (_e, loss) => losses.push(loss),
    );
    const run = path.join(root, 'run');
    try {
      assert.equal(record.images, 6);
      assert.equal(losses.length, 8);
      assert.ok(losses[7]! < 0.7 * losses[0]!, `cross-entropy fell: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
      saveSegmenter(run, net, record);
      assert.equal(loadSegmenter(run, 20), null, 'a segmenter for another number of classes is not reused');
      const loaded = loadSegmenter(run, 35)!;
      const photo = await readRgb(path.join(data, 'test_img', 'scene_00000.png'));
      const picture = { rgb: photo.data, width: photo.width, height: photo.height };
      const a = compactSegmenter(net, 'trained');
      const b = compactSegmenter(loaded.net, 'loaded');
      assert.deepEqual(b.predict(picture), a.predict(picture));
      b.dispose();
      // On a held-out photo it does better than chance over the scene's classes.
      const label = await readIdMap(path.join(data, 'test_label', 'scene_00000.png'), 'label map');
      const score = new SegmentationScore(a);
      score.add('oracle', picture, label.data);
      const [oracle] = score.figures();
      assert.ok(oracle!.pixelAccuracy > 0.5, `held-out pixel accuracy ${oracle!.pixelAccuracy}`);
    } finally {
      net.dispose();
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('the score keeps one confusion matrix per column; the table prints accuracy in % and mean IoU', () => {
  // A stand-in segmenter: it "sees" the red channel as the class.
  const seg: Segmenter = {
    description: 'red channel', classes: 3, ignoreLabel: 255,
    predict: (p) => Int32Array.from({ length: p.width * p.height }, (_, i) => p.rgb[3 * i]!),
    target: (label) => Int32Array.from(label),
    dispose: () => {},
  };
  const picture = (reds: number[]) => ({ rgb: Uint8Array.from(reds.flatMap((r) => [r, 0, 0])), width: reds.length, height: 1 });
  const score = new SegmentationScore(seg);
  score.add('synthesised', picture([0, 1, 1, 2]), [0, 1, 2, 2]);
  score.add('oracle', picture([0, 1, 2, 2]), [0, 1, 2, 2]);
  assert.throws(() => score.add('oracle', picture([0]), [0, 1]), /label map has 2 pixels/);
  const figures = score.figures();
  assert.deepEqual(figures.map((f) => f.column), ['synthesised', 'oracle']);
  // synthesised: 3 of 4 right; IoU 1, 1/2, 1/2
  assert.equal(figures[0]!.pixelAccuracy, 0.75);
  assert.ok(Math.abs(figures[0]!.meanIou - 2 / 3) < 1e-12);
  const table = segmentationTable(figures).split('\n');
  assert.match(table[0]!, /synthesised\s+oracle/);
  assert.match(table[1]!, /^Pixel acc \(%\)\s+75\.00\s+100\.00$/);
  assert.match(table[2]!, /^Mean IoU\s+0\.6667\s+1\.0000$/);
});

test('eval does not train a segmenter on a large training set by itself: it says what to run instead', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'p2phd-seg-skip-'));
  try {
    const data = path.join(root, 'data');
    await makeSyntheticDataset({ out: data, n: 3, nTest: 1, width: 32, height: 16, seed: 1 });
    const lines: string[] = [];
    const seg = await openSegmenter({ runDir: path.join(root, 'run'), dataroot: data, labelNc: 35, trainUpTo: 2, log: (l) => lines.push(l) });
    assert.equal(seg, null);
    assert.match(lines.join(''), /skipped: .* 3 photos .*pix2pixhd train-segmenter.*--segmenter_weights/);
    assert.ok(!fs.existsSync(path.join(root, 'run', 'segmenter')));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
