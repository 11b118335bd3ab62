// The editor's limits on in-browser synthesis, in headless Chromium (WebAssembly):
// - the visitor's own "ask above … MiB" decides whether the page asks before downloading the model
//   (the server's --browser_model_warn_mb is only its starting value), and the page remembers it;
// - a model too large for the browser's memory is refused before it is downloaded, with a message
//   that says so, and the server synthesises instead. SIMULATED: no model here is really too large
//   for this machine; the page's address sets the memory it may use (?browser_memory_mb=1), which
//   is what the page's check (web/browser-memory.js) compares its estimate with.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
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
let cacheDir: string;

before(async () => {
  if (skip) return;
  run = await makeTinyRun({ instanceFeat: false });
  cacheDir = mkdtempSync(join(tmpdir(), 'p2phd-model-cache-'));
  // The server's starting value: ask for anything above 1000 bytes (every model).
  server = await startTinyServer(run, { browserModel: { cacheDir, warnAboveBytes: 1000 } });
  browser = await launchBrowser({ webgpu: false });
});

after(async () => {
  await browser?.close();
  await server?.close();
  run?.cleanup();
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
});

/** A page of the editor at `query`, with the dialogs it opens recorded (accepted or dismissed). */
async function openEditor(query = '', accept = true): Promise<{ page: Page; dialogs: string[]; modelDownloads: () => number }> {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(120_000);
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void (accept ? d.accept() : d.dismiss());
  });
  // The model's download (GET; the page's HEAD only asks its size), from the page or its worker.
  let downloads = 0;
  const count = (r: { url(): string; method(): string }) => { if (r.url().endsWith('/api/model.onnx') && r.method() === 'GET') downloads++; };
  browser.context.on('request', count);
  page.on('close', () => browser.context.off('request', count));
  await page.goto(server.url + query);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, dialogs, modelDownloads: () => downloads };
}

async function synthesise(page: Page): Promise<{ rgb: Uint8Array; backend: string; status: string }> {
  const before = Number(await page.evaluate(() => document.body.dataset.synthesized ?? '0'));
  await page.click('#synthesize');
  await page.waitForFunction((n) => Number(document.body.dataset.synthesized ?? '0') > n && !document.getElementById('synthesize')!.hasAttribute('disabled'), before);
  const b64 = await page.evaluate(async () => {
    const bytes = new Uint8Array(await (await fetch((document.getElementById('result') as HTMLImageElement).src)).arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
    return btoa(s);
  });
  return {
    rgb: (await pngPixels(Buffer.from(b64, 'base64'))).data,
    backend: await page.evaluate(() => document.body.dataset.backend ?? ''),
    status: (await page.textContent('#status')) ?? '',
  };
}

test('the visitor\'s "ask above" size decides whether the page asks before downloading, and is remembered', { skip: skip ?? false }, async () => {
  const first = await openEditor();
  try {
    assert.equal(Number(await first.page.inputValue('#warn-mb')), 1000 / 1048576, 'starts at the server\'s value');
    await first.page.fill('#warn-mb', '500');
    await first.page.dispatchEvent('#warn-mb', 'change');
    await first.page.check('#in-browser');
    await first.page.selectOption('#browser-backend', 'wasm');
    const r = await synthesise(first.page);
    assert.equal(r.backend, 'wasm', r.status);
    assert.deepEqual(first.dialogs, [], 'a model under the visitor\'s 500 MiB downloads without asking, although above the server\'s 1000 bytes');
    assert.equal(first.modelDownloads(), 1, 'the download is seen');
  } finally {
    await first.page.close();
  }

  // The next page of the same browser starts with the visitor's value; lowered below the model, the page asks.
  const second = await openEditor('', false);
  try {
    assert.equal(await second.page.inputValue('#warn-mb'), '500');
    await second.page.fill('#warn-mb', '0.0001');
    await second.page.dispatchEvent('#warn-mb', 'change');
    await second.page.check('#in-browser');
    await second.page.selectOption('#browser-backend', 'wasm');
    const r = await synthesise(second.page);
    assert.equal(second.dialogs.length, 1, 'asked before downloading');
    assert.match(second.dialogs[0]!, /The generator is [\d.]+ MiB \(more than 0\.0 MiB\)/);
    assert.equal(r.backend, 'server', 'declined: the server synthesised');
  } finally {
    await second.page.close();
  }
});

test('a model too large for the browser\'s memory (simulated: ?browser_memory_mb=1) fails with a clear message; the server synthesises', { skip: skip ?? false }, async () => {
  const { page, dialogs, modelDownloads } = await openEditor('?browser_memory_mb=1');
  try {
    const onServer = await synthesise(page);
    assert.equal(onServer.backend, 'server');
    await page.check('#in-browser');
    await page.selectOption('#browser-backend', 'wasm');
    const refused = await synthesise(page);
    assert.equal(refused.backend, 'server');
    assert.match(refused.status,
      /in-browser synthesis failed \(the model needs about [\d.]+ MiB of this browser's memory at 256×128 \(the [\d.]+ MiB model and its working memory\), more than the 1\.0 MiB it can give \(the page's limit browser_memory_mb=1\)\); synthesised on the server instead/);
    assert.deepEqual(refused.rgb, onServer.rgb, 'the server\'s image');
    assert.deepEqual(dialogs, [], 'refused before asking to download');
    assert.equal(modelDownloads(), 0, 'the model was not downloaded');
    assert.equal(await page.isChecked('#in-browser'), false, 'the switch is off: the server path goes on');
    const again = await synthesise(page);
    assert.equal(again.backend, 'server');
    assert.match(again.status, /^synthesised in \d+ ms/);
  } finally {
    await page.close();
  }
});
