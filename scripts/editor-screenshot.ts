// The README's picture of the editor: serves a trained run, opens its first test scene, draws a
// car and picks its style (where the run has styles), synthesises, and saves a screenshot.
//   npx tsx scripts/editor-screenshot.ts --name demo_local --checkpoints_dir demo/checkpoints [--out docs/editor.png]
// Uses Debian's /usr/bin/chromium through playwright-core; nothing is downloaded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serveCommand } from '../src/cli/commands/serve.js';

const argv = process.argv.slice(2);
const outIndex = argv.indexOf('--out');
const out = outIndex >= 0 ? argv.splice(outIndex, 2)[1]! : 'docs/editor.png';
const server = await serveCommand([...argv, '--port', '0']);
const profile = mkdtempSync(join(tmpdir(), 'pix2pixhd-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.PIX2PIXHD_CHROMIUM ?? '/usr/bin/chromium', headless: true, viewport: { width: 1280, height: 640 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await context.newPage();
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready="true"]');
  const { w, h } = await page.evaluate(() => {
    const c = document.getElementById('label-canvas') as HTMLCanvasElement;
    return { w: c.width, h: c.height };
  });
  const box = (await page.locator('#label-canvas').boundingBox())!;
  const at = (x: number, y: number) => [box.x + (x * box.width) / w, box.y + (y * box.height) / h] as const;
  // A new car on the road, lower left.
  await page.click('#palette [data-class="26"]');
  await page.click('#tool-object');
  await page.$eval('#brush-size', (el, size) => { (el as HTMLInputElement).value = String(size); el.dispatchEvent(new Event('input')); }, Math.round(h / 9));
  await page.mouse.move(...at(0.3 * w, 0.85 * h));
  await page.mouse.down();
  await page.mouse.move(...at(0.42 * w, 0.85 * h), { steps: 8 });
  await page.mouse.move(...at(0.42 * w, 0.78 * h), { steps: 4 });
  await page.mouse.move(...at(0.3 * w, 0.78 * h), { steps: 8 });
  await page.mouse.up();
  if (await page.locator('#style-swatches [data-style="1"]').count()) await page.click('#style-swatches [data-style="1"]');
  await page.click('#synthesize');
  await page.waitForFunction(() => document.body.dataset.synthesized === '1');
  await page.screenshot({ path: out });
  process.stdout.write(`saved ${out}\n`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  await server.close();
}
process.exit(0);
