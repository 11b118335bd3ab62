import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { LossRecord } from '../../../src/train/report/loss-log.js';
import { writeTrainingPage, type Sample } from '../../../src/train/report/training-page.js';
import { resultsPage } from '../../../src/report/results-page.js';
import { escapeHtml, relativeUrl } from '../../../src/report/html.js';
import { elements, points } from './markup.js';

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'p2phd-page-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A w×h RGB image whose pixel (x, y) is (x·10 + seed, y·10, seed) mod 256. */
function rgb(w: number, h: number, seed: number): Uint8Array {
  const a = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      a[o] = (x * 10 + seed) % 256;
      a[o + 1] = (y * 10) % 256;
      a[o + 2] = seed % 256;
    }
  }
  return a;
}

const sample = (epoch: number, step: number, seed: number): Sample => ({
  epoch,
  step,
  images: [
    { label: 'input_label', rgb: rgb(6, 4, seed), width: 6, height: 4 },
    { label: 'synthesized_image', rgb: rgb(6, 4, seed + 1), width: 6, height: 4 },
    { label: 'real_image', rgb: rgb(6, 4, seed + 2), width: 6, height: 4 },
  ],
});

const losses: LossRecord[] = [100, 200, 300].map((s, i) => ({
  epoch: 1,
  iter: s,
  total_steps: s,
  time: 0.1,
  lr: 2e-4,
  losses: { G_GAN: 1 + i, G_GAN_Feat: 5 - i, G_VGG: 3, D_real: 0.5, D_fake: 0.25 * (i + 1) },
}));

test('writeTrainingPage: PNGs under web/images, referenced newest first, one polyline per loss', async (t) => {
  const run = tmp(t);
  const res = await writeTrainingPage(run, { title: 'Experiment name = label2city', samples: [sample(1, 100, 0), sample(2, 300, 50)], losses });
  assert.equal(res.indexPath, join(run, 'web', 'index.html'));
  assert.equal(res.written.length, 6);
  const html = readFileSync(res.indexPath, 'utf8');
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /<meta http-equiv="refresh" content="30">/);
  assert.ok(!/<script|<link|https?:\/\//.test(html.replace('http://www.w3.org/2000/svg', '')), 'self-contained');
  const srcs = elements(html, 'img').map((i) => i.attrs.src);
  assert.deepEqual(srcs, [
    'images/epoch002_step0000300_0_input_label.png',
    'images/epoch002_step0000300_1_synthesized_image.png',
    'images/epoch002_step0000300_2_real_image.png',
    'images/epoch001_step0000100_0_input_label.png',
    'images/epoch001_step0000100_1_synthesized_image.png',
    'images/epoch001_step0000100_2_real_image.png',
  ]);
  assert.deepEqual(elements(html, 'a').map((a) => a.attrs.href), srcs); // each links to the full image
  assert.deepEqual(elements(html, 'figcaption').map((f) => f.text).slice(0, 3), ['input_label', 'synthesized_image', 'real_image']);
  assert.deepEqual(elements(html, 'h3').map((h) => h.text), ['epoch [2], step 300', 'epoch [1], step 100']);
  // Every referenced file exists and decodes to the pixels given.
  for (const src of srcs) assert.ok(existsSync(join(run, 'web', src!)), src);
  const { data, info } = await sharp(join(run, 'web', srcs[1]!)).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [6, 4, 3]);
  assert.deepEqual(new Uint8Array(data), rgb(6, 4, 51));
  // The chart: one polyline per loss, in log order.
  const lines = elements(html, 'polyline');
  assert.deepEqual(lines.map((l) => l.attrs['data-loss']), ['G_GAN', 'G_GAN_Feat', 'G_VGG', 'D_real', 'D_fake']);
  for (const l of lines) assert.equal(points(l.attrs.points!).length, 3);
  // x 100…300 → ticks 100…300 (step 50 → domain 100…300); y 0.25…5 → 0…5 (step 1).
  // G_GAN at step 200 is 2: x = 64 + 0.5·566 = 347, y = 316 − 2/5·300 = 196.
  assert.deepEqual(points(lines[0]!.attrs.points!)[1], [347, 196]);
  // No temporary files anywhere.
  const all = [...readdirSync(join(run, 'web')), ...readdirSync(join(run, 'web', 'images'))];
  assert.ok(all.every((n) => !n.endsWith('.tmp')), all.join(' '));
});

test('writeTrainingPage: later calls add to the page; the same epoch and step is replaced', async (t) => {
  const run = tmp(t);
  await writeTrainingPage(run, { title: 't', samples: [sample(1, 100, 0)], losses: [] });
  await writeTrainingPage(run, { title: 't', samples: [sample(1, 200, 10)], losses });
  const res = await writeTrainingPage(run, { title: 't', samples: [sample(1, 100, 20)], losses });
  assert.deepEqual(res.samples.map((s) => s.step), [200, 100]);
  const html = readFileSync(res.indexPath, 'utf8');
  assert.deepEqual(elements(html, 'h3').map((h) => h.text), ['epoch [1], step 200', 'epoch [1], step 100']);
  const { data } = await sharp(join(run, 'web', 'images', 'epoch001_step0000100_0_input_label.png')).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual(new Uint8Array(data), rgb(6, 4, 20)); // the newer pixels
  const fresh = await writeTrainingPage(run, { title: 't', samples: [sample(3, 900, 0)], losses, fresh: true, refreshSeconds: 0 });
  assert.deepEqual(fresh.samples.map((s) => s.step), [900]);
  assert.ok(!readFileSync(fresh.indexPath, 'utf8').includes('http-equiv'));
});

test('hostile labels and titles are escaped in the page and kept out of file names', async (t) => {
  const run = tmp(t);
  const evil = `<script>alert("x")</script>&'`;
  const s: Sample = { epoch: 1, step: 1, images: [{ label: evil, rgb: rgb(2, 2, 0), width: 2, height: 2 }] };
  const res = await writeTrainingPage(run, { title: `${evil} title`, samples: [s], losses: [{ ...losses[0]!, losses: { [evil]: 1 } }] });
  const html = readFileSync(res.indexPath, 'utf8');
  assert.ok(!html.includes('<script'), 'no live script tag');
  assert.ok(!html.includes('alert("x")'), 'quotes escaped');
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;'));
  assert.equal(elements(html, 'title')[0]!.text, `${evil} title`);
  assert.equal(elements(html, 'figcaption')[0]!.text, evil);
  assert.equal(elements(html, 'img')[0]!.attrs.alt, evil);
  assert.equal(elements(html, 'img')[0]!.attrs.src, 'images/epoch001_step0000001_0_script_alert_x_script.png');
  assert.equal(elements(html, 'polyline')[0]!.attrs['data-loss'], evil);
  assert.deepEqual(readdirSync(join(run, 'web', 'images')), ['epoch001_step0000001_0_script_alert_x_script.png']);
  assert.equal(escapeHtml(`a&b<c>"d"'e'`), 'a&amp;b&lt;c&gt;&quot;d&quot;&#39;e&#39;');
});

test('writeTrainingPage: a bad image fails before anything is written', async (t) => {
  const run = tmp(t);
  const bad: Sample = { epoch: 1, step: 2, images: [{ label: 'x', rgb: new Uint8Array(10), width: 2, height: 2 }] };
  await assert.rejects(writeTrainingPage(run, { title: 't', samples: [sample(1, 1, 0), bad], losses }), /10 bytes for 2×2 RGB \(expected 12\)/);
  assert.deepEqual(readdirSync(run), []); // not even web/
  // With a page already there, a failing update leaves it as it was.
  await writeTrainingPage(run, { title: 't', samples: [sample(1, 1, 0)], losses });
  const before = readFileSync(join(run, 'web', 'index.html'), 'utf8');
  const imagesBefore = readdirSync(join(run, 'web', 'images')).sort();
  await assert.rejects(writeTrainingPage(run, { title: 'changed', samples: [bad], losses }));
  assert.equal(readFileSync(join(run, 'web', 'index.html'), 'utf8'), before);
  assert.deepEqual(readdirSync(join(run, 'web', 'images')).sort(), imagesBefore);
  assert.deepEqual(readdirSync(join(run, 'web')).sort(), ['images', 'index.html', 'samples.json']);
});

test('resultsPage: one heading per input with its images, same styling, escaped', async (t) => {
  const root = tmp(t);
  const dir = join(root, 'label2city', 'test_latest');
  const path = await resultsPage(dir, 'Experiment = label2city, Phase = test, Epoch = latest', [
    {
      name: 'frankfurt_000000_000294',
      images: [
        { label: 'input_label', file: 'images/frankfurt_000000_000294_input_label.png' },
        { label: 'synthesized_image', file: 'images/frankfurt_000000_000294_synthesized_image.png', width: 2048, height: 1024 },
      ],
    },
    { name: 'a<b', images: [{ label: 'x"y', file: 'images/odd name #1.png' }] },
  ]);
  assert.equal(path, join(dir, 'index.html'));
  const html = readFileSync(path, 'utf8');
  assert.ok(!html.includes('http-equiv'), 'results do not auto-refresh');
  assert.deepEqual(elements(html, 'h3').map((h) => h.text), ['frankfurt_000000_000294', 'a<b']);
  const imgs = elements(html, 'img');
  assert.deepEqual(imgs.map((i) => i.attrs.src), [
    'images/frankfurt_000000_000294_input_label.png',
    'images/frankfurt_000000_000294_synthesized_image.png',
    'images/odd%20name%20%231.png',
  ]);
  assert.deepEqual([imgs[1]!.attrs.width, imgs[1]!.attrs.height], ['512', '256']);
  assert.equal(imgs[2]!.attrs.alt, 'x"y');
  // Same stylesheet as the training page.
  const style = (h: string) => /<style>([\s\S]*?)<\/style>/.exec(h)![1];
  const run = tmp(t);
  const tp = await writeTrainingPage(run, { title: 't', samples: [], losses: [] });
  assert.equal(style(html), style(readFileSync(tp.indexPath, 'utf8')));
  // Paths leaving the folder are refused before anything is written.
  assert.throws(() => relativeUrl('../secret.png'));
  assert.throws(() => relativeUrl('/etc/passwd'));
  await assert.rejects(resultsPage(join(root, 'other'), 't', [{ name: 'n', images: [{ label: 'l', file: '../x.png' }] }]));
  assert.ok(!existsSync(join(root, 'other')));
});
