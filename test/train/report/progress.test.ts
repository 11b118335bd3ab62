import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateMeter } from '../../../src/train/report/rate.js';
import { crossesPrintPoint, etaSeconds, formatProgressLine } from '../../../src/train/report/progress-format.js';
import { ProgressBar, type ProgressStream } from '../../../src/train/report/progress.js';

function fakeStream(isTTY: boolean, columns?: number): ProgressStream & { chunks: string[] } {
  const chunks: string[] = [];
  return { chunks, isTTY, columns, write: (s: string) => chunks.push(s) };
}

test('RateMeter: exponential smoothing of the instantaneous rate', () => {
  const m = new RateMeter(0.1);
  assert.equal(m.rate, undefined);
  m.observe(0, 0);
  assert.equal(m.rate, undefined); // one observation: no interval yet
  m.observe(10, 1); // 10 it/s: the first sample sets the estimate
  assert.equal(m.rate, 10);
  m.observe(30, 2); // 20 it/s → 0.1·20 + 0.9·10
  assert.ok(Math.abs(m.rate! - 11) < 1e-12);
  m.observe(40, 2); // same instant: folded into the next interval, not lost
  assert.ok(Math.abs(m.rate! - 11) < 1e-12);
  m.observe(50, 3); // (50 − 30) / (3 − 2) = 20 → 0.1·20 + 0.9·11 = 11.9
  assert.ok(Math.abs(m.rate! - 11.9) < 1e-12);
  // A constant rate is a fixed point.
  const c = new RateMeter(0.3);
  for (let i = 0; i <= 50; i++) c.observe(i * 4, i * 0.5);
  assert.ok(Math.abs(c.rate! - 8) < 1e-9);
  assert.throws(() => new RateMeter(0));
});

test('etaSeconds: iterations left in the whole run over the rate', () => {
  // epoch 2 of 3, 50 of 100 done: 300 − (100 + 50) = 150 left at 5 it/s.
  assert.equal(etaSeconds(2, 50, 100, 3, 5), 30);
  assert.equal(etaSeconds(1, 0, 100, 3, 10), 30);
  assert.equal(etaSeconds(3, 100, 100, 3, 10), 0);
  assert.equal(etaSeconds(1, 0, 100, 3, undefined), undefined);
  assert.equal(etaSeconds(1, 0, 100, 3, 0), undefined);
});

test('formatProgressLine: TTY and plain forms, fitted to the terminal width', () => {
  const s = {
    epoch: 3,
    totalEpochs: 200,
    iter: 1000,
    epochSize: 2975,
    rate: 4.2134,
    etaSeconds: 5025.4,
    losses: { G_GAN: 0.81234, D_real: 0.4 },
  };
  assert.equal(
    formatProgressLine(s, { bar: true, barWidth: 10 }),
    'epoch 3/200 1000/2975 [###.......] 4.21 it/s ETA 1:23:45 G_GAN=0.812 D_real=0.400',
  );
  assert.equal(
    formatProgressLine(s, { bar: false }),
    'epoch 3/200 1000/2975 (33%) 4.21 it/s ETA 1:23:45 G_GAN=0.812 D_real=0.400',
  );
  assert.equal(
    formatProgressLine({ ...s, rate: undefined, etaSeconds: undefined, losses: undefined }, { bar: false }),
    'epoch 3/200 1000/2975 (33%) ? it/s ETA --:--:--',
  );
  // Narrow terminal: the bar shrinks (here to 8 cells), then disappears, then the line is cut.
  const full = formatProgressLine(s, { bar: true, barWidth: 30 });
  const withoutBar = 'epoch 3/200 1000/2975 4.21 it/s ETA 1:23:45 G_GAN=0.812 D_real=0.400';
  const eight = formatProgressLine(s, { bar: true, barWidth: 30, columns: withoutBar.length + 1 + 11 });
  assert.equal(eight, 'epoch 3/200 1000/2975 [##......] 4.21 it/s ETA 1:23:45 G_GAN=0.812 D_real=0.400');
  assert.equal(formatProgressLine(s, { bar: true, columns: withoutBar.length + 3 }), withoutBar);
  const cut = formatProgressLine(s, { bar: true, columns: 40 });
  assert.equal(cut.length, 39);
  assert.ok(full.startsWith(cut.slice(0, 20)));
});

test('crossesPrintPoint: once per printFreq iterations whatever the batch size', () => {
  assert.equal(crossesPrintPoint(99, 100, 100), true);
  assert.equal(crossesPrintPoint(100, 101, 100), false);
  // batch 3, printFreq 4: 0→3 no, 3→6 yes (crossed 4), 6→9 yes (8), 9→12 yes (12).
  assert.deepEqual([[0, 3], [3, 6], [6, 9], [9, 12]].map(([a, b]) => crossesPrintPoint(a!, b!, 4)), [false, true, true, true]);
});

test('ProgressBar (not a TTY): a plain line every printFreq iterations, with rate and ETA', () => {
  const out = fakeStream(false);
  let t = 0;
  const bar = new ProgressBar({ totalEpochs: 2, epochSize: 10, printFreq: 4, stream: out, now: () => t });
  assert.equal(bar.tty, false);
  for (let epoch = 1; epoch <= 2; epoch++) {
    for (let iter = 1; iter <= 10; iter++) {
      t += 500; // 2 it/s, steady
      bar.update({ epoch, iter, losses: { G_GAN: 1 / 3 } });
    }
    bar.endEpoch(epoch, 5);
  }
  const lines = out.chunks.join('').split('\n').filter(Boolean);
  assert.deepEqual(lines, [
    'epoch 1/2 4/10 (40%) 2.00 it/s ETA 0:00:08 G_GAN=0.333', // 16 left at 2 it/s
    'epoch 1/2 8/10 (80%) 2.00 it/s ETA 0:00:06 G_GAN=0.333',
    'End of epoch 1 / 2 \t Time Taken: 5 sec',
    'epoch 2/2 2/10 (20%) 2.00 it/s ETA 0:00:04 G_GAN=0.333', // run iteration 12
    'epoch 2/2 6/10 (60%) 2.00 it/s ETA 0:00:02 G_GAN=0.333',
    'epoch 2/2 10/10 (100%) 2.00 it/s ETA 0:00:00 G_GAN=0.333',
    'End of epoch 2 / 2 \t Time Taken: 5 sec',
  ]);
  assert.ok(!out.chunks.join('').includes('\r'));
});

test('ProgressBar (not a TTY), batch of 3: a line each time a multiple of printFreq is crossed', () => {
  const out = fakeStream(false);
  let t = 0;
  const bar = new ProgressBar({ totalEpochs: 1, epochSize: 24, printFreq: 8, stream: out, now: () => t });
  for (let iter = 3; iter <= 24; iter += 3) {
    t += 1000;
    bar.update({ epoch: 1, iter });
  }
  const iters = out.chunks.map((l) => Number(/ (\d+)\/24 /.exec(l)![1]));
  assert.deepEqual(iters, [9, 18, 24]); // crossed 8, 16, 24
});

test('ProgressBar (TTY): redraws in place, throttled, always draws the end of the epoch', () => {
  const out = fakeStream(true, 120);
  let t = 0;
  const bar = new ProgressBar({ totalEpochs: 1, epochSize: 20, stream: out, now: () => t, minRedrawMs: 100, barWidth: 10 });
  for (let iter = 1; iter <= 20; iter++) {
    t += 30;
    bar.update({ epoch: 1, iter, losses: { D_fake: 0.25 } });
  }
  // Draws at t = 30 (first), then ≥ 100 ms later: 150, 270, 390, 510, and iter 20 (t = 600).
  assert.equal(out.chunks.length, 6);
  for (const c of out.chunks) {
    assert.ok(c.startsWith('\r') && c.endsWith('\x1b[K') && !c.includes('\n'), JSON.stringify(c));
  }
  assert.match(out.chunks[5]!, /^\repoch 1\/1 20\/20 \[##########\] [\d.]+ it\/s ETA 0:00:00 D_fake=0.250\x1b\[K$/);
  bar.log('saving the latest model');
  assert.equal(out.chunks[6], '\r\x1b[Ksaving the latest model\n');
  assert.ok(out.chunks[7]!.startsWith('\repoch 1/1 20/20')); // the bar comes back below the message
  bar.endEpoch(1, 0.6);
  assert.deepEqual(out.chunks.slice(-2), ['\n', 'End of epoch 1 / 1 \t Time Taken: 0 sec\n']);
  bar.close(); // nothing drawn since: no extra newline
  assert.equal(out.chunks[out.chunks.length - 1], 'End of epoch 1 / 1 \t Time Taken: 0 sec\n');
});

test('ProgressBar (TTY): every drawn line fits the terminal', () => {
  const out = fakeStream(true, 50);
  let t = 0;
  const bar = new ProgressBar({ totalEpochs: 200, epochSize: 2975, stream: out, now: () => t, minRedrawMs: 0 });
  for (let iter = 1; iter <= 30; iter++) {
    t += 250;
    bar.update({ epoch: 7, iter, losses: { G_GAN: 0.8, G_GAN_Feat: 5.1, G_VGG: 3.2, D_real: 0.4, D_fake: 0.3 } });
  }
  assert.equal(out.chunks.length, 30);
  for (const c of out.chunks) assert.ok(c.replace('\r', '').replace('\x1b[K', '').length <= 49);
  assert.ok(Math.abs(bar.state!.rate! - 4) < 1e-9);
  // ETA: (200·2975 − (6·2975 + 30)) iterations at 4 it/s.
  assert.ok(Math.abs(bar.state!.etaSeconds! - (200 * 2975 - 6 * 2975 - 30) / 4) < 1e-6);
});
