// The conditioning input: one-hot labels, instance boundaries, their concatenation, and the
// errors for label maps that do not fit label_nc.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tensor, tidy } from '../../src/torch/index.js';
import { encodeInput, instanceEdges, oneHotLabels } from '../../src/models/index.js';
import { get, manifest, withFixture } from './helpers.js';

test('instanceEdges of the fixture instance map equals the official edges exactly', () => {
  withFixture('inputs.pth', (inputs) => tidy(() => {
    const ours = instanceEdges(get(inputs, 'inst'));
    assert.equal(ours.dtype, 'float32');
    assert.deepEqual(ours.shape, [1, 1, 64, 128]);
    const ref = get(inputs, 'edges');
    assert.equal(ours.ne(ref).sum().item(), 0, 'pixels that differ');
    assert.equal(ours.sum().item(), 1405, 'edge pixels, as the manifest says');
  }));
});

test('instanceEdges marks both pixels of every 4-neighbour pair with different ids, and nothing else', () => {
  // Ids laid out by hand; the expectation is computed pixel by pixel in plain JS.
  const h = 5;
  const w = 6;
  const ids = [
    0, 0, 0, 1, 1, 1,
    0, 0, 0, 1, 1, 1,
    2, 2, 0, 0, 1, 1,
    2, 2, 0, 0, 0, 0,
    2, 2, 2, 2, 0, 7,
  ];
  const expected: number[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = ids[y * w + x]!;
      const neighbours = [[y, x - 1], [y, x + 1], [y - 1, x], [y + 1, x]].filter(([yy, xx]) => yy! >= 0 && yy! < h && xx! >= 0 && xx! < w);
      expected.push(neighbours.some(([yy, xx]) => ids[yy! * w + xx!] !== v) ? 1 : 0);
    }
  }
  tidy(() => {
    const batch = tensor([...ids, ...ids.map(() => 3)], [2, 1, h, w], { dtype: 'int64' });
    const edges = instanceEdges(batch).toNumbers();
    assert.deepEqual(edges.slice(0, h * w), expected);
    assert.deepEqual(edges.slice(h * w), new Array(h * w).fill(0), 'a uniform map has no edges');
  });
});

test('encodeInput builds one-hot(label) ++ edges, equal to the official input_concat', () => {
  withFixture('inputs.pth', (inputs) => tidy(() => {
    const x = encodeInput({ label: get(inputs, 'label'), inst: get(inputs, 'inst') }, { label_nc: manifest.label_nc });
    assert.deepEqual(x.shape, [1, 8, 64, 128]);
    assert.equal(x.ne(get(inputs, 'input_concat')).sum().item(), 0);
  }));
});

test('encodeInput: order is label ++ edges ++ features; no_instance drops the edges; label_nc 0 passes the image', () => {
  tidy(() => {
    const label = tensor([0, 2, 1, 2], [1, 1, 2, 2], { dtype: 'int64' });
    const inst = tensor([5, 5, 5, 9], [1, 1, 2, 2], { dtype: 'int64' });
    const feat = tensor([0.5, 0.25, -1, 7], [1, 1, 2, 2]);
    const x = encodeInput({ label, inst, feat }, { label_nc: 3 });
    assert.deepEqual(x.shape, [1, 5, 2, 2]);
    assert.deepEqual(x.toNumbers(), [
      1, 0, 0, 0, // class 0
      0, 0, 1, 0, // class 1
      0, 1, 0, 1, // class 2
      0, 1, 1, 1, // edges: pixel (1,1) differs from its left and upper neighbours
      0.5, 0.25, -1, 7, // features
    ]);
    const noInst = encodeInput({ label }, { label_nc: 3, no_instance: true });
    assert.deepEqual(noInst.shape, [1, 3, 2, 2]);
    const image = tensor([0.1, -0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, -0.9, 1, 0, 0], [1, 3, 2, 2]);
    const passed = encodeInput({ label: image }, { label_nc: 0, no_instance: true });
    assert.deepEqual(passed.toNumbers(), image.toNumbers());
  });
});

test('label ids outside [0, label_nc) are an error naming the offending values', () => {
  tidy(() => {
    const label = tensor([0, 35, 3, 40, 35, 1], [1, 1, 2, 3], { dtype: 'int64' });
    assert.throws(() => oneHotLabels(label, 35), (e: Error) => /35, 40/.test(e.message) && /label_nc 35/.test(e.message));
    assert.throws(() => oneHotLabels(tensor([-1, 0], [1, 1, 1, 2], { dtype: 'int64' }), 4), /-1 outside \[0, 4\)/);
    assert.throws(() => oneHotLabels(tensor([1.5, 0], [1, 1, 1, 2]), 4), /not class ids: 1\.5/);
    assert.throws(() => encodeInput({ label: tensor([0], [1, 1, 1, 1], { dtype: 'int64' }) }, { label_nc: 2 }), /instance map is needed/);
  });
});
