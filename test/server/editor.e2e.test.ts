// The editor in a real browser (headless Chromium): open a test scene, paint a region, draw a car,
// pick its style, synthesise — and check the returned images pixel by pixel: they change where
// the maps changed (within G's receptive field) and stay bit-for-bit the same everywhere else.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Page, Request } from 'playwright-core';
import type { EditorServer } from '../../src/server/app.js';
import { browserUnavailable, dragOnLabels, launchBrowser } from './browser.js';
import { CAR, decodeIds, makeTinyRun, pngPixels, startTinyServer, type TinyRun } from './helpers.js';

const VEGETATION = 21;
/** Beyond this distance from an edit, the tiny G (receptive radius about 20 px) cannot see it. */
const MARGIN = 32;

const skip = await browserUnavailable();
let run: TinyRun;
let server: EditorServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;

before(async () => {
  if (skip) return;
  run = await makeTinyRun({ instanceFeat: true });
  server = await startTinyServer(run);
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.setDefaultTimeout(30_000);
});

after(async () => {
  await browser?.close();
  await server?.close();
  run?.cleanup();
});

interface Synthesis {
  body: { width: number; height: number; label: Uint16Array; inst: Uint16Array; styles: Record<string, number> };
  image: Uint8Array;
}

/** Clicks Synthesise; returns what the page sent and the image it got back (RGB). */
async function synthesise(): Promise<Synthesis> {
  const [request, response] = await Promise.all([
    page.waitForRequest('**/api/synthesize'),
    page.waitForResponse('**/api/synthesize'),
    page.click('#synthesize'),
  ]);
  assert.equal(response.status(), 200, await response.text().catch(() => ''));
  const sent = (request as Request).postDataJSON() as { width: number; height: number; label: string; inst: string; styles: Record<string, number> };
  await page.waitForFunction(() => !document.getElementById('result')!.classList.contains('stale'));
  // The PNG the page shows (its object URL), read back from the page.
  const b64 = await page.evaluate(async () => {
    const bytes = new Uint8Array(await (await fetch((document.getElementById('result') as HTMLImageElement).src)).arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
    return btoa(s);
  });
  const image = await pngPixels(Buffer.from(b64, 'base64'));
  assert.equal(image.width, sent.width);
  assert.equal(image.height, sent.height);
  return { body: { ...sent, label: decodeIds(sent.label), inst: decodeIds(sent.inst) }, image: image.data };
}

/** Pixels farther than `margin` (Chebyshev) from every marked pixel. */
function farFrom(mask: Uint8Array, w: number, h: number, margin: number): Uint8Array {
  const far = new Uint8Array(w * h).fill(1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!mask[y * w + x]) continue;
      for (let yy = Math.max(0, y - margin); yy <= Math.min(h - 1, y + margin); yy++) far.fill(0, yy * w + Math.max(0, x - margin), yy * w + Math.min(w - 1, x + margin) + 1);
    }
  }
  return far;
}

/** Mean absolute RGB difference over the pixels of `where`, and how many differ at all. */
function compare(a: Uint8Array, b: Uint8Array, where: Uint8Array): { mean: number; differing: number; pixels: number } {
  let sum = 0;
  let differing = 0;
  let pixels = 0;
  for (let i = 0; i < where.length; i++) {
    if (!where[i]) continue;
    pixels++;
    let d = 0;
    for (let k = 0; k < 3; k++) d += Math.abs((a[3 * i + k] as number) - (b[3 * i + k] as number));
    sum += d / 3;
    if (d > 0) differing++;
  }
  return { mean: pixels ? sum / pixels : 0, differing, pixels };
}

test('paint a region, draw a car, pick its style: the image changes there and nowhere else', { skip: skip ?? false, timeout: 180_000 }, async () => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready="true"]');
  assert.match(await page.textContent('#status') ?? '', /opened scene_00000/);
  // The style picker lists the run's styles (cars), and the palette names its classes.
  assert.match(await page.textContent('#styles-note') ?? '', /car/);
  assert.equal(await page.textContent(`#palette [data-class="${CAR}"]`), `${CAR} car`);

  const base = await synthesise();
  const { width: w, height: h } = base.body;

  // 1. Paint a block of vegetation with a 16 px brush.
  await page.click(`#palette [data-class="${VEGETATION}"]`);
  await page.click('#tool-brush');
  await page.$eval('#brush-size', (el) => { (el as HTMLInputElement).value = '16'; el.dispatchEvent(new Event('input')); });
  await dragOnLabels(page, [[24, 30], [64, 30], [64, 44], [24, 44]], w, h);
  // 2. Draw a new car (a new instance) on the lower part of the scene.
  await page.click(`#palette [data-class="${CAR}"]`);
  await page.click('#tool-object');
  await dragOnLabels(page, [[44, 100], [84, 100]], w, h);
  // 3. The new car is selected: its styles are shown; pick style 1.
  await page.waitForSelector('#style-picker:not([hidden])');
  assert.equal(await page.locator('#style-swatches button').count(), 1 + 3, 'random + the three car styles');
  await page.click('#style-swatches [data-style="1"]');
  const edited = await synthesise();

  // What the page sent: the painted block is vegetation (stuff), the car a new instance with style 1.
  const L = edited.body.label;
  const I = edited.body.inst;
  assert.equal(L[37 * w + 44], VEGETATION);
  assert.equal(I[37 * w + 44], VEGETATION);
  const carId = I[100 * w + 64]!;
  assert.equal(L[100 * w + 64], CAR);
  assert.ok(carId >= CAR * 1000 && carId < (CAR + 1) * 1000 && !base.body.inst.includes(carId), `a new car id, got ${carId}`);
  assert.deepEqual(edited.body.styles, { [carId]: 1 });

  // Where the maps changed, and where G cannot see any change.
  const changed = new Uint8Array(w * h);
  const painted = new Uint8Array(w * h);
  const car = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) {
    changed[i] = Number(L[i] !== base.body.label[i] || I[i] !== base.body.inst[i]);
    painted[i] = Number(changed[i] === 1 && L[i] === VEGETATION && base.body.label[i] !== VEGETATION);
    car[i] = Number(I[i] === carId);
  }
  const far = farFrom(changed, w, h, MARGIN);
  const farCmp = compare(base.image, edited.image, far);
  assert.ok(farCmp.pixels > w * h * 0.3, `enough far pixels to check (${farCmp.pixels})`);
  assert.equal(farCmp.differing, 0, `pixels far from the edits stay exactly the same (${farCmp.differing} of ${farCmp.pixels} differ)`);
  const paintCmp = compare(base.image, edited.image, painted);
  assert.ok(paintCmp.pixels > 300, `a real region was painted (${paintCmp.pixels} px)`);
  assert.ok(paintCmp.mean > 8, `the painted region looks different (mean change ${paintCmp.mean.toFixed(1)})`);
  const carCmp = compare(base.image, edited.image, car);
  assert.ok(carCmp.pixels > 200 && carCmp.mean > 8, `the car looks different from what was there (${carCmp.pixels} px, mean change ${carCmp.mean.toFixed(1)})`);

  if (process.env.EDITOR_SCREENSHOT) await page.screenshot({ path: process.env.EDITOR_SCREENSHOT });

  // 4. Another style for the same car: only the car and its surroundings change.
  await page.click('#style-swatches [data-style="2"]');
  const restyled = await synthesise();
  assert.deepEqual(restyled.body.styles, { [carId]: 2 });
  assert.deepEqual(restyled.body.label, L);
  const farFromCar = compare(edited.image, restyled.image, farFrom(car, w, h, MARGIN));
  assert.equal(farFromCar.differing, 0, 'a style change leaves pixels far from the car unchanged');
  const onCar = compare(edited.image, restyled.image, car);
  assert.ok(onCar.mean > 4, `the car's pixels follow its style (mean change ${onCar.mean.toFixed(1)})`);

  // 5. Undo brings style 1 back, and with it the same image, bit for bit.
  await page.click('#undo');
  const undone = await synthesise();
  assert.deepEqual(undone.body.styles, { [carId]: 1 });
  assert.deepEqual(undone.image, edited.image);

  // 6. The edited label map downloads as a PNG of the ids the page holds.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-label')]);
  const png = await pngPixels(readFileSync((await download.path())!));
  assert.equal(png.width, w);
  for (const i of [37 * w + 44, 100 * w + 64, 5]) assert.equal(png.data[3 * i], L[i], `label pixel ${i}`);

  // 7. Erase the car: its pixels go back to the class around it, and its style choice goes too.
  await page.click('#tool-erase');
  await dragOnLabels(page, [[64, 100]], w, h);
  const erased = await synthesise();
  assert.ok(!erased.body.inst.includes(carId));
  assert.deepEqual(erased.body.styles, {});
  assert.notEqual(erased.body.label[100 * w + 64], CAR);

  assert.deepEqual(errors, [], 'no script errors on the page');
});

test('a refused request shows the server\'s message on the page', { skip: skip ?? false, timeout: 60_000 }, async () => {
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready="true"]');
  // A label map that is not a PNG: the server's 415 message appears in the status line.
  await page.setInputFiles('#upload-label', { name: 'labels.jpg', mimeType: 'image/jpeg', buffer: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46]) });
  await page.waitForSelector('#status.error');
  assert.match(await page.textContent('#status') ?? '', /labels\.jpg refused: .*JPEG.*lossless PNG/);
  // The page still works afterwards.
  await synthesise();
});
