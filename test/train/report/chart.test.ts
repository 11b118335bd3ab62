import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lossSeries, movingAverage, niceTicks, preparedSeries, renderLossChart } from '../../../src/train/report/chart.js';
import type { LossRecord } from '../../../src/train/report/loss-log.js';
import { elements, points } from './markup.js';

const r = (total_steps: number, losses: Record<string, number>): LossRecord => ({
  epoch: 1,
  iter: total_steps,
  total_steps,
  time: 0.1,
  lr: 2e-4,
  losses,
});

test('niceTicks: 1/2/5 steps covering the data', () => {
  assert.deepEqual(niceTicks(100, 1000, 6), [0, 200, 400, 600, 800, 1000]);
  assert.deepEqual(niceTicks(0.5, 4.5, 6), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(niceTicks(0.31, 0.49, 6), [0.3, 0.35, 0.4, 0.45, 0.5]);
  assert.deepEqual(niceTicks(2, 2, 3), [1.8, 2, 2.2]); // a flat series gets a ±10 % range
  assert.deepEqual(niceTicks(0, 0, 3), [-1, 0, 1]);
});

test('movingAverage: centred window, shrinking at the ends', () => {
  assert.deepEqual(movingAverage([1, 2, 3, 4, 5], 3), [1.5, 2, 3, 4, 4.5]);
  assert.deepEqual(movingAverage([0, 0, 9, 0, 0], 5), [3, 9 / 4, 9 / 5, 9 / 4, 3]);
  assert.deepEqual(movingAverage([4, 8], 1), [4, 8]);
  assert.deepEqual(movingAverage([], 7), []);
});

test('lossSeries: one series per loss in order of appearance, non-finite values left out', () => {
  const s = lossSeries([r(10, { G_GAN: 1, D_real: 2 }), r(20, { G_GAN: NaN, D_real: 3, G_VGG: 4 })]);
  assert.deepEqual(s, [
    { name: 'G_GAN', xs: [10], ys: [1] },
    { name: 'D_real', xs: [10, 20], ys: [2, 3] },
    { name: 'G_VGG', xs: [20], ys: [4] },
  ]);
});

test('renderLossChart: one polyline per loss, points at the hand-computed coordinates', () => {
  // total_steps 100…1000; G_GAN from 0.5 to 4.5 (2 at step 500), D_real flat at 1.
  const recs: LossRecord[] = [];
  for (let k = 1; k <= 10; k++) {
    const step = k * 100;
    const g = step === 500 ? 2 : 0.5 + ((step - 100) / 900) * 4;
    recs.push(r(step, { G_GAN: g, D_real: 1 }));
  }
  const svg = renderLossChart(recs);
  const lines = elements(svg, 'polyline');
  assert.deepEqual(lines.map((l) => l.attrs['data-loss']), ['G_GAN', 'D_real']);
  // Default layout: 800×360, margins left 64, right 170, top 16, bottom 44, so the plot spans
  // x 64…630 (566 wide) and y 316 (bottom) … 16 (top), 300 high. Domains from niceTicks:
  // x 0…1000, y 0…5.
  const g = points(lines[0]!.attrs.points!);
  assert.equal(g.length, 10);
  // step 100, G_GAN 0.5: x = 64 + 100/1000·566 = 120.6; y = 316 − 0.5/5·300 = 286.
  assert.deepEqual(g[0], [120.6, 286]);
  // step 500, G_GAN 2: x = 64 + 0.5·566 = 347; y = 316 − 2/5·300 = 196.
  assert.deepEqual(g[4], [347, 196]);
  // step 1000, G_GAN 4.5: x = 630; y = 316 − 4.5/5·300 = 46.
  assert.deepEqual(g[9], [630, 46]);
  const d = points(lines[1]!.attrs.points!);
  // D_real = 1 everywhere: y = 316 − 1/5·300 = 256.
  assert.ok(d.every(([, y]) => y === 256));
  // Tick labels on both axes, axis titles, and a legend entry per loss with its last value.
  const texts = elements(svg, 'text').map((t) => t.text);
  for (const t of ['0', '200', '400', '600', '800', '1000', '1', '2', '3', '4', '5', 'total steps', 'loss', 'G_GAN 4.50', 'D_real 1.00']) {
    assert.ok(texts.includes(t), `missing text ${t}`);
  }
  // The y tick "2" sits at the same height as the point G_GAN = 2 (text baseline 4 px lower).
  const two = elements(svg, 'text').find((t) => t.text === '2' && t.attrs['text-anchor'] === undefined && Number(t.attrs.x) === 58);
  assert.equal(Number(two!.attrs.y), 200);
});

test('renderLossChart: many points are drawn as a moving average, thinned to maxPoints', () => {
  // A square wave of period 2 (0, 2, 0, 2, …) over 1000 reports: smoothed, it hovers around 1.
  const recs: LossRecord[] = [];
  for (let i = 0; i < 1000; i++) recs.push(r((i + 1) * 10, { G_GAN: i % 2 === 0 ? 0 : 2, D_fake: 0.5 }));
  const { series, window } = preparedSeries(recs, { maxPoints: 250 });
  assert.equal(window, 10);
  assert.equal(series[0]!.xs.length, 250);
  assert.equal(series[0]!.xs[249], 10000); // the last report is kept
  // Away from the ends, a centred window of 11 values (h = 5) over the alternating wave averages
  // 10/11 or 12/11.
  for (const y of series[0]!.ys.slice(1, -1)) assert.ok(Math.abs(y - 1) <= 1 / 11 + 1e-12, String(y));
  const svg = renderLossChart(recs, { maxPoints: 250 });
  const lines = elements(svg, 'polyline');
  assert.equal(lines.length, 2);
  assert.equal(points(lines[0]!.attrs.points!).length, 250);
  assert.ok(elements(svg, 'text').some((t) => t.text === 'loss (moving average of 10)'));
  // Few points: drawn raw.
  assert.equal(preparedSeries(recs.slice(0, 50)).window, 1);
});

test('renderLossChart: empty log and hostile loss names', () => {
  assert.match(renderLossChart([]), /no losses logged yet/);
  assert.equal(elements(renderLossChart([]), 'polyline').length, 0);
  const svg = renderLossChart([r(1, { '<b onload="x">': 1 }), r(2, { '<b onload="x">': 2 })]);
  assert.ok(!svg.includes('<b'));
  assert.ok(svg.includes('data-loss="&lt;b onload=&quot;x&quot;&gt;"'));
  assert.equal(elements(svg, 'polyline')[0]!.attrs['data-loss'], '<b onload="x">');
});
