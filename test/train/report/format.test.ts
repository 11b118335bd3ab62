import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, formatFixedPy, formatLosses, formatSig, renderBar } from '../../../src/train/report/format.js';

test('formatSig: 3 significant digits, no exponent for everyday magnitudes', () => {
  assert.equal(formatSig(0.81234), '0.812');
  assert.equal(formatSig(5.1), '5.10');
  assert.equal(formatSig(12.345), '12.3');
  assert.equal(formatSig(123.456), '123');
  assert.equal(formatSig(1234.5), '1230');
  assert.equal(formatSig(999.6), '1000'); // rounds up across a decade without going exponential
  assert.equal(formatSig(99.96), '100');
  assert.equal(formatSig(0.0001234), '0.000123');
  assert.equal(formatSig(0.00001234), '1.23e-5');
  assert.equal(formatSig(2.5e7), '2.50e+7');
  assert.equal(formatSig(-0.5), '-0.500');
  assert.equal(formatSig(0), '0');
  assert.equal(formatSig(NaN), 'nan');
  assert.equal(formatSig(Infinity), 'inf');
  assert.equal(formatSig(-Infinity), '-inf');
});

test("formatFixedPy matches Python's '%.3f' (ties to even, nan/inf)", () => {
  // Expected strings produced by python3 -c "print('%.3f' % x)".
  const cases: [number, string][] = [
    [0.0625, '0.062'],
    [-0.0625, '-0.062'],
    [0.1875, '0.188'],
    [2.5625, '2.562'],
    [1.0005, '1.000'], // not an exact tie in binary (1.000499999…)
    [0.8123, '0.812'],
    [5.12345, '5.123'],
    [-0.0001, '-0.000'],
    [0, '0.000'],
    [123456.7891, '123456.789'],
  ];
  for (const [x, want] of cases) assert.equal(formatFixedPy(x), want, `x = ${x}`);
  assert.equal(formatFixedPy(2.5, 0), '2');
  assert.equal(formatFixedPy(3.5, 0), '4');
  assert.equal(formatFixedPy(NaN), 'nan');
  assert.equal(formatFixedPy(-Infinity), '-inf');
});

test('formatDuration: h:mm:ss with unbounded hours, unknown as --:--:--', () => {
  assert.equal(formatDuration(0), '0:00:00');
  assert.equal(formatDuration(59.4), '0:00:59');
  assert.equal(formatDuration(59.6), '0:01:00');
  assert.equal(formatDuration(3723), '1:02:03');
  assert.equal(formatDuration(123 * 3600 + 4 * 60 + 5), '123:04:05');
  assert.equal(formatDuration(NaN), '--:--:--');
  assert.equal(formatDuration(Infinity), '--:--:--');
  assert.equal(formatDuration(-1), '--:--:--');
});

test('formatLosses and renderBar', () => {
  assert.equal(formatLosses({ G_GAN: 0.81234, G_VGG: 3.4, D_fake: 0.0004567 }), 'G_GAN=0.812 G_VGG=3.40 D_fake=0.000457');
  assert.equal(renderBar(0.5, 10), '[#####.....]');
  assert.equal(renderBar(0, 4), '[....]');
  assert.equal(renderBar(1, 4), '[####]');
  assert.equal(renderBar(1.7, 4), '[####]');
  assert.equal(renderBar(0.999, 4), '[###.]');
  assert.equal(renderBar(NaN, 3), '[...]');
});
