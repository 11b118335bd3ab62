import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatCTime, formatLossLine, LossLog, readLossLog, type LossRecord } from '../../../src/train/report/loss-log.js';

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'p2phd-losslog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const rec = (epoch: number, iter: number, total_steps: number, g: number): LossRecord => ({
  epoch,
  iter,
  total_steps,
  time: 0.123,
  lr: 0.0002,
  losses: { G_GAN: g, G_GAN_Feat: 5.1234, G_VGG: 3.0005, D_real: 0.4, D_fake: 0.3 },
});

test('formatLossLine: the official text format (zero losses left out, trailing space)', () => {
  assert.equal(
    formatLossLine({ epoch: 1, iter: 100, time: 0.1234, losses: { G_GAN: 0.8123, G_GAN_Feat: 5.1234, G_VGG: 0, D_real: 0.0625, D_fake: 0.3 } }),
    '(epoch: 1, iters: 100, time: 0.123) G_GAN: 0.812 G_GAN_Feat: 5.123 D_real: 0.062 D_fake: 0.300 ',
  );
  assert.equal(formatLossLine({ epoch: 2, iter: 7, time: 1, losses: { D_fake: NaN } }), '(epoch: 2, iters: 7, time: 1.000) D_fake: nan ');
});

test("formatCTime: Python's %c in the C locale", () => {
  assert.equal(formatCTime(new Date(2024, 2, 5, 14, 3, 1)), 'Tue Mar  5 14:03:01 2024');
  assert.equal(formatCTime(new Date(2023, 11, 25, 9, 0, 59)), 'Mon Dec 25 09:00:59 2023');
});

test('LossLog: appends JSON lines and official text lines; readLossLog reads them back', (t) => {
  const dir = tmp(t);
  const echoed: string[] = [];
  const log = new LossLog(join(dir, 'run'), { now: () => new Date(2024, 2, 5, 14, 3, 1), echo: (l) => echoed.push(l) });
  log.append(rec(1, 100, 100, 0.8123));
  log.append({ ...rec(1, 200, 200, NaN), lr: 0.0001 });
  const txt = readFileSync(join(dir, 'run', 'loss_log.txt'), 'utf8');
  assert.equal(
    txt,
    '================ Training Loss (Tue Mar  5 14:03:01 2024) ================\n' +
      '(epoch: 1, iters: 100, time: 0.123) G_GAN: 0.812 G_GAN_Feat: 5.123 G_VGG: 3.001 D_real: 0.400 D_fake: 0.300 \n' +
      '(epoch: 1, iters: 200, time: 0.123) G_GAN: nan G_GAN_Feat: 5.123 G_VGG: 3.001 D_real: 0.400 D_fake: 0.300 \n',
  );
  assert.deepEqual(echoed, txt.split('\n').slice(1, 3));
  const jsonl = readFileSync(join(dir, 'run', 'loss_log.jsonl'), 'utf8');
  assert.equal(jsonl.split('\n').length, 3); // two lines and the final newline
  assert.deepEqual(JSON.parse(jsonl.split('\n')[0]!), {
    epoch: 1,
    iter: 100,
    total_steps: 100,
    time: 0.123,
    lr: 0.0002,
    losses: { G_GAN: 0.8123, G_GAN_Feat: 5.1234, G_VGG: 3.0005, D_real: 0.4, D_fake: 0.3 },
  });
  const back = readLossLog(log.jsonPath);
  assert.equal(back.length, 2);
  assert.deepEqual(back[0], rec(1, 100, 100, 0.8123));
  assert.ok(Number.isNaN(back[1]!.losses.G_GAN)); // stored as null, read as NaN
  assert.equal(back[1]!.lr, 0.0001);
  assert.throws(() => log.append({ ...rec(1, 1, 1, 1), lr: '0.1' as unknown as number }), /lr must be a number/);
});

test('readLossLog skips a torn last line; reopening the log isolates the fragment', (t) => {
  const dir = tmp(t);
  const log = new LossLog(dir);
  log.append(rec(1, 100, 100, 1));
  log.append(rec(1, 200, 200, 2));
  // A crash in the middle of the third append.
  const third = JSON.stringify(rec(1, 300, 300, 3));
  appendFileSync(log.jsonPath, third.slice(0, 37));
  const skipped: [number, string][] = [];
  const back = readLossLog(log.jsonPath, { onSkip: (n, _text, why) => skipped.push([n, why]) });
  assert.deepEqual(back.map((r) => r.total_steps), [100, 200]);
  assert.deepEqual(skipped, [[3, 'torn last line']]);

  // The run resumes: the new LossLog starts a fresh line, so the fragment does not swallow a record.
  const resumed = new LossLog(dir);
  resumed.append(rec(2, 100, 400, 4));
  const after = readLossLog(log.jsonPath);
  assert.deepEqual(after.map((r) => r.total_steps), [100, 200, 400]);
  const lines = readFileSync(log.jsonPath, 'utf8').split('\n');
  assert.equal(lines[2], third.slice(0, 37));
  // Two headers in the text log, as the official writes one per start.
  assert.equal(readFileSync(log.txtPath, 'utf8').match(/^=+ Training Loss/gm)!.length, 2);
});

test('readLossLog keeps a complete last record that only lacks its newline, and rejects malformed records', (t) => {
  const dir = tmp(t);
  const path = join(dir, 'loss_log.jsonl');
  appendFileSync(
    path,
    JSON.stringify(rec(1, 1, 1, 1)) + '\n' +
      '{"epoch":1,"iter":2,"total_steps":2,"time":0,"lr":0,"losses":{"G_GAN":"x"}}\n' +
      '[1,2]\n\n' +
      JSON.stringify(rec(1, 3, 3, 3)),
  );
  const reasons: string[] = [];
  const back = readLossLog(path, { onSkip: (_n, _t, why) => reasons.push(why) });
  assert.deepEqual(back.map((r) => r.total_steps), [1, 3]);
  assert.deepEqual(reasons, ['loss G_GAN is not a number', 'not an object']);
});
