import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveSeed, Rng } from '../../src/util/rng.js';

test('Rng is xoshiro128** seeded through splitmix32 (values from an independent Python implementation)', () => {
  const expected: Record<number, number[]> = {
    0: [1789933344, 44971166, 2521387044, 3848737593, 1138324114],
    1: [393288148, 2174103013, 3814759091, 2092745082, 1865176206],
    12345: [1093274547, 203003357, 3741353573, 3803725158, 4178738660],
  };
  for (const [seed, values] of Object.entries(expected)) {
    const r = new Rng(Number(seed));
    assert.deepEqual(values.map(() => r.uint32()), values, `seed ${seed}`);
  }
});

test('Rng.int covers both ends and nothing outside; permutation is a permutation', () => {
  const r = new Rng(3);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const v = r.int(2, 6);
    assert.ok(v >= 2 && v <= 6 && Number.isInteger(v));
    seen.add(v);
  }
  assert.deepEqual([...seen].sort(), [2, 3, 4, 5, 6]);
  const p = new Rng(9).permutation(50);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual(p, Array.from({ length: 50 }, (_, i) => i));
});

test('deriveSeed separates its parts', () => {
  assert.equal(deriveSeed(1, 'item', 0, 5), deriveSeed(1, 'item', 0, 5));
  const seeds = new Set([deriveSeed(1, 'item', 0, 5), deriveSeed(1, 'item', 5, 0), deriveSeed(2, 'item', 0, 5), deriveSeed(1, 'shuffle', 0, 5), deriveSeed(1, 'item', 0, 6)]);
  assert.equal(seeds.size, 5);
});
