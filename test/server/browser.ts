// Headless Chromium for the editor's end-to-end tests: Debian's /usr/bin/chromium driven by
// playwright-core (no browser is downloaded), with a fresh profile each time.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.PIX2PIXHD_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. */
export async function browserUnavailable(): Promise<string | null> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing: install Debian's chromium (scripts/setup.sh --test does)`;
  try {
    await import('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm ci)';
  }
  return null;
}

/** Chromium's software WebGPU (SwiftShader over Vulkan), so WebGPU is testable without a GPU. */
const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--use-angle=swiftshader', '--enable-features=Vulkan'];

export async function launchBrowser(opts: { webgpu?: boolean } = {}): Promise<{ context: import('playwright-core').BrowserContext; close: () => Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'pix2pixhd-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1400, height: 800 },
    args: ['--headless', '--no-sandbox', ...(opts.webgpu ? WEBGPU_ARGS : ['--disable-gpu']), '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Drags on the editor's label canvas along map coordinates (a w×h map). */
export async function dragOnLabels(page: import('playwright-core').Page, points: Array<[number, number]>, w: number, h: number): Promise<void> {
  const box = (await page.locator('#label-canvas').boundingBox())!;
  const at = ([x, y]: [number, number]) => [box.x + ((x + 0.5) * box.width) / w, box.y + ((y + 0.5) * box.height) / h] as const;
  await page.mouse.move(...at(points[0]!));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 4 });
  await page.mouse.up();
}
