// "Synthesise in this browser" in headless Chromium: the page downloads the run's exported model
// (after asking, as it is above the warning size here) and runs it with onnxruntime-web in a
// worker, on WebAssembly and on WebGPU (Chromium's SwiftShader); each image must equal the
// server's (libtorch) within 2 grey levels, mean absolute difference at most 0.5. A declined
// download falls back to the server. A feature run's objects get the server's styles. A brush
// stroke changes the in-browser image near it and nowhere else, on both backends.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { EditorServer } from '../../src/server/app.js';
import { browserUnavailable, dragOnLabels, launchBrowser } from '../server/browser.js';
import { makeTinyRun, pngPixels, startTinyServer, type TinyRun } from '../server/helpers.js';

const skip = await browserUnavailable();
let run: TinyRun;
let server: EditorServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
let cacheDir: string;
const dialogs: string[] = [];
let acceptDialogs = false;
/** Each backend's image of the unedited scene (the first test's), for the edit-locality test. */
const unedited = new Map<string, Uint8Array>();
const VEGETATION = 21;
/**
 * The tiny run's G (global, ngf 8, 2 downsamplings, 1 residual block, batch norm: no statistic over
 * the whole image) sees at most this far (Chebyshev, map pixels). Its receptive radius is the sum
 * over its convolutions of kernel radius × the input's pixel spacing: 7×7 at 1 (3 px), the two
 * stride-2 3×3 at 1 and 2 (1 + 2), the block's two 3×3 at 4 (8), the two stride-2 transposed 3×3
 * from spacing 4 and 2 (4 + 2), the last 7×7 at 1 (3): 23 px; each of the four stride-2 stages can
 * shift the footprint by at most one pixel of its finer grid (1 + 2 + 2 + 1 = 6): 29 px < 32.
 * Reflection padding at the borders only folds the footprint back inside it.
 */
const MARGIN = 32;

before(async () => {
  if (skip) return;
  run = await makeTinyRun({ instanceFeat: false });
  cacheDir = mkdtempSync(join(tmpdir(), 'p2phd-model-cache-'));
  server = await startTinyServer(run, { browserModel: { cacheDir, warnAboveBytes: 1000 } });
  browser = await launchBrowser({ webgpu: true });
  page = await browser.context.newPage();
  page.setDefaultTimeout(120_000);
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void (acceptDialogs ? d.accept() : d.dismiss());
  });
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready="true"]');
});

after(async () => {
  await browser?.close();
  await server?.close();
  run?.cleanup();
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
});

/** Clicks Synthesise and returns the shown image's RGB bytes and which backend made it. */
async function synthesise(): Promise<{ rgb: Uint8Array; backend: string; status: string }> {
  const before = Number(await page.evaluate(() => document.body.dataset.synthesized ?? '0'));
  await page.click('#synthesize');
  // WebGPU here is SwiftShader on a shared CPU: about a minute per image, more when the machine is busy.
  await page.waitForFunction((n) => Number(document.body.dataset.synthesized ?? '0') > n && !document.getElementById('synthesize')!.hasAttribute('disabled'), before, { timeout: 400_000 });
  const b64 = await page.evaluate(async () => {
    const bytes = new Uint8Array(await (await fetch((document.getElementById('result') as HTMLImageElement).src)).arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
    return btoa(s);
  });
  const image = await pngPixels(Buffer.from(b64, 'base64'));
  return {
    rgb: image.data,
    backend: await page.evaluate(() => document.body.dataset.backend ?? ''),
    status: (await page.textContent('#status')) ?? '',
  };
}

function compare(a: Uint8Array, b: Uint8Array): { max: number; mean: number } {
  assert.equal(a.length, b.length, 'same size');
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

test('in-browser synthesis on WebAssembly and WebGPU equals the server\'s image; a declined download falls back to the server', { skip: skip ?? false }, async (t) => {
  const onServer = await synthesise();
  assert.equal(onServer.backend, 'server');

  // Above the warning size: the page asks; declined, the server synthesises and the switch turns off.
  await page.check('#in-browser');
  await page.selectOption('#browser-backend', 'wasm');
  const declined = await synthesise();
  assert.equal(dialogs.length, 1, 'the page asked before downloading');
  assert.match(dialogs[0]!, /MiB/);
  assert.equal(declined.backend, 'server');
  assert.match(declined.status, /was not downloaded.*synthesised on the server instead/);
  assert.equal(await page.isChecked('#in-browser'), false);
  assert.ok(existsSync(join(cacheDir, 'latest_net_G.onnx')), 'the server exported the model into its cache');

  acceptDialogs = true;
  await page.check('#in-browser');
  for (const backend of ['wasm', 'webgpu'] as const) {
    await page.selectOption('#browser-backend', backend);
    const inBrowser = await synthesise();
    assert.equal(inBrowser.backend, backend, `ran on ${backend}: ${inBrowser.status}`);
    assert.match(inBrowser.status, backend === 'wasm' ? /in this browser with WebAssembly/ : /in this browser with WebGPU/);
    unedited.set(backend, inBrowser.rgb);
    const d = compare(inBrowser.rgb, onServer.rgb);
    t.diagnostic(`${backend}: max ${d.max}, mean ${d.mean.toFixed(4)} grey levels; ${inBrowser.status}`);
    assert.ok(d.max <= 2 && d.mean <= 0.5, `${backend}: max ${d.max}, mean ${d.mean.toFixed(3)} grey levels from the server's image`);
  }
});

/** The label map the page holds, through its download button (the PNG's grey value is the class id). */
async function pageLabels(): Promise<{ ids: Uint8Array; width: number; height: number }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-label')]);
  const png = await pngPixels(readFileSync((await download.path())!));
  return { ids: Uint8Array.from({ length: png.width * png.height }, (_, i) => png.data[3 * i]!), width: png.width, height: png.height };
}

/** Largest and mean per-channel difference over the pixels of `where` (RGB), and how many pixels differ at all. */
function compareWhere(a: Uint8Array, b: Uint8Array, where: Uint8Array): { max: number; mean: number; differing: number; pixels: number } {
  let max = 0;
  let sum = 0;
  let differing = 0;
  let pixels = 0;
  for (let i = 0; i < where.length; i++) {
    if (!where[i]) continue;
    pixels++;
    let any = false;
    for (let k = 0; k < 3; k++) {
      const d = Math.abs(a[3 * i + k]! - b[3 * i + k]!);
      max = Math.max(max, d);
      sum += d / 3;
      any ||= d > 0;
    }
    if (any) differing++;
  }
  return { max, mean: pixels ? sum / pixels : 0, differing, pixels };
}

test('a brush stroke changes the in-browser image near it and nowhere else, on WebAssembly and WebGPU', { skip: skip ?? false }, async (t) => {
  assert.deepEqual([...unedited.keys()].sort(), ['wasm', 'webgpu'], 'the first test\'s images of the unedited scene');
  const before = await pageLabels();
  const { width: w, height: h } = before;
  // A short vegetation stroke with an 8 px brush across the middle of the scene.
  await page.click(`#palette [data-class="${VEGETATION}"]`);
  await page.click('#tool-brush');
  await page.$eval('#brush-size', (el) => { (el as HTMLInputElement).value = '8'; el.dispatchEvent(new Event('input')); });
  await dragOnLabels(page, [[110, 64], [140, 64]], w, h);
  const after = await pageLabels();
  const changed = Uint8Array.from(after.ids, (id, i) => Number(id !== before.ids[i]));
  const stroke = changed.reduce((n, c) => n + c, 0);
  assert.ok(stroke > 100 && stroke < 1000, `a small stroke changed the labels (${stroke} px)`);
  // Chebyshev distance > MARGIN from every changed pixel.
  const far = new Uint8Array(w * h).fill(1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!changed[y * w + x]) continue;
      for (let yy = Math.max(0, y - MARGIN); yy <= Math.min(h - 1, y + MARGIN); yy++) far.fill(0, yy * w + Math.max(0, x - MARGIN), yy * w + Math.min(w - 1, x + MARGIN) + 1);
    }
  }
  for (const backend of ['wasm', 'webgpu'] as const) {
    await page.selectOption('#browser-backend', backend);
    const edited = await synthesise();
    assert.equal(edited.backend, backend, edited.status);
    const base = unedited.get(backend)!;
    const away = compareWhere(base, edited.rgb, far);
    const near = compareWhere(base, edited.rgb, changed);
    t.diagnostic(`${backend}: ${away.differing} of ${away.pixels} far pixels differ (max ${away.max}); on the stroke mean change ${near.mean.toFixed(1)}`);
    assert.ok(away.pixels > w * h * 0.4, `enough far pixels to check (${away.pixels})`);
    // Far pixels see the same inputs through the same kernels: unchanged within a grey level.
    assert.ok(away.max <= 1, `${backend}: pixels farther than ${MARGIN} px from the stroke changed by up to ${away.max} grey levels`);
    assert.ok(near.mean > 8, `${backend}: the stroke's pixels look different (mean change ${near.mean.toFixed(1)})`);
  }
  await page.click('#undo');
});

test('a feature run in the browser: the server sends the feature map, and the objects look as on the server', { skip: skip ?? false }, async (t) => {
  const featureRun = await makeTinyRun({ instanceFeat: true });
  const featureServer = await startTinyServer(featureRun, { browserModel: { cacheDir: join(cacheDir, 'features') } });
  const featurePage = await browser.context.newPage();
  featurePage.setDefaultTimeout(120_000);
  try {
    await featurePage.goto(featureServer.url);
    await featurePage.waitForSelector('body[data-ready="true"]');
    const previous = page;
    page = featurePage;
    try {
      await page.fill('#seed', '5');
      const onServer = await synthesise();
      await page.check('#in-browser');
      await page.selectOption('#browser-backend', 'wasm');
      const [features] = await Promise.all([page.waitForResponse('**/api/features'), synthesise().then((r) => { inBrowser = r; })]);
      assert.equal(features.status(), 200);
      assert.equal(inBrowser!.backend, 'wasm', inBrowser!.status);
      const d = compare(inBrowser!.rgb, onServer.rgb);
      t.diagnostic(`feature run, wasm: max ${d.max}, mean ${d.mean.toFixed(4)} grey levels`);
      assert.ok(d.max <= 2 && d.mean <= 0.5, `max ${d.max}, mean ${d.mean.toFixed(3)}`);
    } finally {
      page = previous;
    }
  } finally {
    await featurePage.close();
    await featureServer.close();
    featureRun.cleanup();
  }
});
let inBrowser: Awaited<ReturnType<typeof synthesise>> | undefined;
