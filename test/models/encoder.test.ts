// Instance-wise average pooling, checked against a plain-JS loop over instances.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noGrad, tensor, tidy } from '../../src/torch/index.js';
import { Encoder, instanceMeanPool } from '../../src/models/index.js';
import { rng, uniform } from './helpers.js';

/** For each batch item, channel and id present in that item: the mean of the pixels with that id. */
function jsInstanceMeans(feat: number[], ids: number[], n: number, c: number, hw: number): number[] {
  const out = new Array<number>(feat.length);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const sums = new Map<number, { s: number; k: number }>();
      for (let p = 0; p < hw; p++) {
        const id = ids[b * hw + p]!;
        const e = sums.get(id) ?? { s: 0, k: 0 };
        e.s += feat[(b * c + ch) * hw + p]!;
        e.k += 1;
        sums.set(id, e);
      }
      for (let p = 0; p < hw; p++) {
        const e = sums.get(ids[b * hw + p]!)!;
        out[(b * c + ch) * hw + p] = e.s / e.k;
      }
    }
  }
  return out;
}

test('instanceMeanPool averages per batch item, per channel and per id (ids absent from an item included)', () => {
  const n = 2;
  const c = 3;
  const h = 6;
  const w = 7;
  const r = rng(11);
  // Item 0 uses ids {0, 4, 26001}; item 1 uses {4, 9}: 26001 is absent from item 1, 9 from item 0.
  const ids = Array.from({ length: n * h * w }, (_, i) => (i < h * w ? [0, 4, 26001][Math.floor(r() * 3)]! : [4, 9][Math.floor(r() * 2)]!));
  tidy(() => {
    const feat = uniform([n, c, h, w], 5);
    const inst = tensor(ids, [n, 1, h, w], { dtype: 'int64' });
    const out = instanceMeanPool(feat, inst);
    assert.deepEqual(out.shape, [n, c, h, w]);
    const expected = jsInstanceMeans(feat.toNumbers(), ids, n, c, h * w);
    const got = out.toNumbers();
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - expected[i]!) < 1e-6, `element ${i}: ${got[i]} vs ${expected[i]}`);
    // Float instance maps (as images decode) give the same result.
    assert.deepEqual(instanceMeanPool(feat, inst.float()).toNumbers(), got);
  });
});

test('instanceMeanPool passes gradients: d(sum of weights·output)/d(feature) is the mean weight over the instance', () => {
  tidy(() => {
    const ids = [1, 1, 2, 2, 2, 3];
    const feat = uniform([1, 1, 2, 3], 3).requiresGrad_(true);
    const weights = [1, 2, 3, 4, 5, 6];
    instanceMeanPool(feat, tensor(ids, [1, 1, 2, 3], { dtype: 'int64' })).mul(tensor(weights, [1, 1, 2, 3])).sum().backward();
    const expected = [1.5, 1.5, 4, 4, 4, 6];
    const g = feat.grad!.toNumbers();
    g.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6, `grad ${i}: ${v} vs ${expected[i]}`));
  });
});

test('instanceMeanPool rejects an instance map of another size', () => {
  tidy(() => {
    assert.throws(() => instanceMeanPool(uniform([1, 3, 4, 4], 1), tensor(new Array(12).fill(0), [1, 1, 3, 4], { dtype: 'int64' })), /\[1, 1, 4, 4\]/);
  });
});

test('Encoder output is constant inside each instance and has feat_num channels', () => {
  const E = new Encoder({ input_nc: 3, output_nc: 3, nef: 4, n_downsample_E: 2 });
  try {
    noGrad(() => tidy(() => {
      const ids = Array.from({ length: 16 * 16 }, (_, i) => ((i % 16) < 8 ? 1 : 2) + (i < 128 ? 0 : 10));
      const out = E.forward(uniform([1, 3, 16, 16], 2), tensor(ids, [1, 1, 16, 16], { dtype: 'int64' }));
      assert.deepEqual(out.shape, [1, 3, 16, 16]);
      const v = out.toNumbers();
      for (let ch = 0; ch < 3; ch++) {
        const byId = new Map<number, number>();
        ids.forEach((id, p) => {
          const x = v[ch * 256 + p]!;
          if (!byId.has(id)) byId.set(id, x);
          assert.equal(x, byId.get(id), `channel ${ch}, pixel ${p}`);
        });
        assert.equal(byId.size, 4);
      }
    }));
  } finally {
    E.dispose();
  }
});
