// "Synthesise in this browser" in headless Chromium: the page downloads the run's exported model
// (after asking, as it is above the warning size here) and runs it with onnxruntime-web in a
// worker, on WebAssembly and on WebGPU (Chromium's SwiftShader); each image must equal the
// server's (libtorch) within 2 grey levels, mean absolute difference at most 0.5. A declined
// download falls back to the server. A feature run's objects get the server's styles.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { EditorServer } from '../../src/server/app.js';
import { browserUnavailable, launchBrowser } from '../server/browser.js';
import { makeTinyRun, pngPixels, startTinyServer, type TinyRun } from '../server/helpers.js';

const skip = await browserUnavailable();
let run: TinyRun;
let server: EditorServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
let cacheDir: string;
const dialogs: string[] = [];
let acceptDialogs = false;

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
  await page.waitForFunction((n) => Number(document.body.dataset.synthesized ?? '0') > n && !document.getElementById('synthesize')!.hasAttribute('disabled'), before);
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
    const d = compare(inBrowser.rgb, onServer.rgb);
    t.diagnostic(`${backend}: max ${d.max}, mean ${d.mean.toFixed(4)} grey levels; ${inBrowser.status}`);
    assert.ok(d.max <= 2 && d.mean <= 0.5, `${backend}: max ${d.max}, mean ${d.mean.toFixed(3)} grey levels from the server's image`);
  }
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
