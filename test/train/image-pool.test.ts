// The image pool (pool_size) against the official util/image_pool.py behaviour: pass-through
// with size 0, filling up first, then each new image either returned as is or swapped for one
// the pool held (which the new one replaces).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { full, liveTensorCount, tidy, type Tensor, cat } from '../../src/torch/index.js';
import { ImagePool } from '../../src/train/image-pool.js';
import { rng } from '../models/helpers.js';

/** A batch [n, 2, 2, 2] whose item i is filled with values[i]. */
function batchOf(values: number[]): Tensor {
  return cat(values.map((v) => full([1, 2, 2, 2], v)), 0);
}

/** The fill value of each item of a batch, checking every item is constant. */
function itemValues(t: Tensor): number[] {
  const n = t.size(0);
  const data = t.contiguous().toFloat32Array();
  const per = data.length / n;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const item = data.subarray(i * per, (i + 1) * per);
    assert.ok(item.every((x) => x === item[0]), `item ${i} is not constant`);
    out.push(item[0]!);
  }
  return out;
}

test('pool_size 0 passes the batch through untouched (the same tensor)', () => {
  tidy(() => {
    const pool = new ImagePool(0, () => { throw new Error('random() must not be called with pool_size 0'); });
    const b = batchOf([1, 2, 3]);
    assert.equal(pool.query(b), b);
    assert.equal(pool.length, 0);
  });
});

test('the pool fills up first, returning every new image as is', () => {
  tidy(() => {
    let calls = 0;
    const pool = new ImagePool(3, () => { calls++; return 0.99; });
    assert.deepEqual(itemValues(pool.query(batchOf([1, 2]))), [1, 2]);
    assert.equal(pool.length, 2);
    // One more fills it, still without a draw.
    assert.equal(calls, 0, 'no random numbers while filling');
    const out = itemValues(pool.query(batchOf([3])));
    assert.deepEqual(out, [3]);
    assert.equal(pool.length, 3);
    assert.equal(calls, 0);
    pool.dispose();
  });
});

test('once full: p > 0.5 returns the stored image at randint(size) and keeps the new one; p ≤ 0.5 returns the new one', () => {
  tidy(() => {
    // Scripted draws: 0.7 (swap) then 0.6 → slot floor(0.6·3) = 1; then 0.2 (keep new); then 0.9 (swap), 0.0 → slot 0; then 0.95, 0.99 → slot 2.
    const draws = [0.7, 0.6, 0.2, 0.9, 0.0, 0.95, 0.99];
    const pool = new ImagePool(3, () => { const d = draws.shift(); assert.ok(d !== undefined, 'more draws than scripted'); return d; });
    pool.query(batchOf([10, 11, 12]));            // stored [10, 11, 12]
    assert.deepEqual(itemValues(pool.query(batchOf([20]))), [11]);        // stored [10, 20, 12]
    assert.deepEqual(itemValues(pool.query(batchOf([21]))), [21]);        // unchanged
    assert.deepEqual(itemValues(pool.query(batchOf([22, 23]))), [10, 12]); // 22 → slot 0, 23 → slot 2: stored [22, 20, 23]
    assert.equal(draws.length, 0);
    // Read the content back: three swaps with scripted slots 0, 1, 2 return what is stored.
    draws.push(0.9, 0.0, 0.9, 0.4, 0.9, 0.8);
    assert.deepEqual(itemValues(pool.query(batchOf([1, 2, 3]))), [22, 20, 23]);
    pool.dispose();
  });
});

test('with a seeded random: every returned image is the new one or one the pool held, and nothing is lost', () => {
  tidy(() => {
    const size = 4;
    const pool = new ImagePool(size, rng(1234));
    const held: number[] = [];
    let next = 1;
    let swapped = 0;
    let passed = 0;
    for (let round = 0; round < 25; round++) {
      const values = [next++, next++];
      const out = itemValues(pool.query(batchOf(values)));
      assert.equal(out.length, 2);
      for (let i = 0; i < 2; i++) {
        const v = values[i]!;
        if (held.length < size) {
          assert.equal(out[i], v, 'while filling, the new image comes back');
          held.push(v);
        } else if (out[i] === v) {
          passed++;
        } else {
          // A swap: the returned value was held, and the new one takes its place.
          const at = held.indexOf(out[i]!);
          assert.ok(at >= 0, `returned ${out[i]} is neither the new image ${v} nor one the pool held (${held})`);
          held[at] = v;
          swapped++;
        }
      }
      assert.equal(pool.length, held.length);
    }
    // 46 images met a full pool: both branches happen (each has probability 1/2).
    assert.ok(swapped > 5 && passed > 5, `swapped ${swapped}, passed ${passed}`);
    pool.dispose();
  });
});

test('query keeps only the stored copies alive, and dispose frees them', () => {
  const before = liveTensorCount();
  const pool = new ImagePool(3, rng(7));
  tidy(() => { pool.query(batchOf([1, 2])); });
  assert.equal(liveTensorCount() - before, 2, 'two stored images');
  tidy(() => { for (let i = 0; i < 10; i++) pool.query(batchOf([i + 3, i + 100])); });
  assert.equal(liveTensorCount() - before, 3, 'a full pool holds exactly pool_size images');
  pool.dispose();
  assert.equal(pool.length, 0);
  assert.equal(liveTensorCount(), before);
});
