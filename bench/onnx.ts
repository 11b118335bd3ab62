// Latency per synthesis of the demo's architecture (local G, ngf 16, n_downsample_global 3,
// n_blocks_global 4, n_blocks_local 2, label_nc 35 with instance maps; initial weights: latency
// does not depend on them) at 512×256 and 1024×512, four ways:
//   libtorch CPU             G.forward through infer/synthesize.ts (the server's path)
//   onnxruntime-node CPU     the exported model (src/onnx), same thread count
//   browser WebAssembly      onnxruntime-web in headless Chromium, one thread (the page is not cross-origin isolated)
//   browser WebGPU           the same on Chromium's WebGPU — here SwiftShader, a software Vulkan on the CPU
// Each: one warm-up run, then the median of --repeat runs (maps in, image out, host-side).
//   npx tsx bench/onnx.ts [--threads 2] [--repeat 3] [--browser_repeat 2] [--skip libtorch,node,wasm,webgpu]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { renderScene, sizeMultiple } from '../src/data/index.js';
import { buildGenerator } from '../src/models/from-options.js';
import { encodeInput } from '../src/models/index.js';
import { synthesize } from '../src/infer/synthesize.js';
import { exportGenerator } from '../src/onnx/index.js';
import { defaultsFor } from '../src/options/definitions.js';
import { applyThreads, runConfig, saveCheckpoint, saveRunOptions } from '../src/run/index.js';
import { startEditorServer } from '../src/server/app.js';
import { tensor, tidy } from '../src/torch/index.js';
import { browserUnavailable, launchBrowser } from '../test/server/browser.js';

const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    repeat: { type: 'string', default: '3' },
    browser_repeat: { type: 'string', default: '2' },
    skip: { type: 'string', default: '' },
  },
});
const threads = Number(args.threads);
const repeat = Number(args.repeat);
const browserRepeat = Number(args.browser_repeat);
const skip = new Set(args.skip!.split(',').filter(Boolean));
const SIZES = [[512, 256], [1024, 512]] as const;
const DEMO_ARCH = { netG: 'local', ngf: 16, n_downsample_global: 3, n_blocks_global: 4, n_blocks_local: 2, label_nc: 35 };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

async function timed(n: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

const network = runConfig({ ...defaultsFor(['base', 'train']), ...DEMO_ARCH }).network;
applyThreads(threads);
const G = buildGenerator(network, 0).eval();
const model = exportGenerator(G, network);
const scenes = SIZES.map(([w, h]) => ({ w, h, ...renderScene(w, h, 11) }));
const rows: { way: string; ms: (number | null)[] }[] = [];
const report = (way: string, ms: (number | null)[]) => {
  rows.push({ way, ms });
  process.stdout.write(`  ${way}: ${ms.map((m) => (m === null ? '—' : `${m.toFixed(0)} ms`)).join(', ')}   (load average ${load()})\n`);
};
process.stdout.write(
  `demo architecture (${G.parameterCount().toLocaleString('en')} parameters; ONNX model ${(model.length / 2 ** 20).toFixed(1)} MiB), ` +
  `${availableParallelism()} cores, load average at start ${load()}\n`,
);

// libtorch, as the server synthesises.
const torchTimes: number[] = [];
for (const s of skip.has('libtorch') ? [] : scenes) {
  torchTimes.push(await timed(repeat, () => tidy(() => {
    const maps = { label: tensor(Int32Array.from(s.label), [1, 1, s.h, s.w], { dtype: 'int64' }), inst: tensor(Int32Array.from(s.inst), [1, 1, s.h, s.w], { dtype: 'int64' }) };
    synthesize(G, encodeInput(maps, { label_nc: 35 }), sizeMultiple(network)).toFloat32Array();
  })));
}
if (!skip.has('libtorch')) report(`libtorch CPU (${threads} threads)`, torchTimes);
G.dispose();

const session = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const nodeTimes: number[] = [];
for (const s of skip.has('node') ? [] : scenes) {
  const feeds = () => ({
    label: new ort.Tensor('int64', BigInt64Array.from(s.label, (v) => BigInt(v)), [1, 1, s.h, s.w]),
    inst: new ort.Tensor('int64', BigInt64Array.from(s.inst, (v) => BigInt(v)), [1, 1, s.h, s.w]),
  });
  nodeTimes.push(await timed(repeat, () => session.run(feeds())));
}
await session.release();
if (!skip.has('node')) report(`onnxruntime-node CPU (${threads} threads)`, nodeTimes);

const why = await browserUnavailable();
if (why) {
  process.stdout.write(`browser rows skipped: ${why}\n`);
} else {
  // The editor's server gives the page the model and onnxruntime-web's files, as in real use.
  const root = mkdtempSync(join(tmpdir(), 'pix2pixhd-bench-onnx-'));
  const runDir = join(root, 'bench');
  mkdirSync(runDir, { recursive: true });
  const G2 = buildGenerator(network, 0);
  saveCheckpoint(runDir, 'latest', { G: G2 });
  G2.dispose();
  saveRunOptions(runDir, DEMO_ARCH);
  const server = await startEditorServer({ runDir, name: 'bench', which: 'latest', network, styles: null, threads: 1, pool: { workers: 1, queue: 1 }, port: 0 });
  const browser = await launchBrowser({ webgpu: true });
  try {
    for (const backend of ['wasm', 'webgpu'] as const) {
      if (skip.has(backend)) continue;
      const page = await browser.context.newPage();
      page.setDefaultTimeout(0);
      // tsx compiles the evaluated function with esbuild's name-keeping helper; the page needs it too.
      await page.addInitScript('window.__name = (f) => f');
      await page.goto(new URL('/ort/ort.webgpu.min.mjs', server.url).href);
      const b64 = (a: ArrayLike<number>) => Buffer.from(Uint16Array.from(a).buffer).toString('base64');
      // The session is made once per backend and kept on the page; each size is its own call, so
      // a slow backend (WebGPU on SwiftShader) prints what it has measured as it goes.
      const opened = await page.evaluate(async (backend) => {
        const ortWeb = await import('/ort/ort.webgpu.min.mjs' as string);
        ortWeb.env.wasm.wasmPaths = '/ort/';
        ortWeb.env.wasm.numThreads = 1;
        const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null> } }).gpu;
        const adapter = backend === 'webgpu' && gpu ? await gpu.requestAdapter() : null;
        if (backend === 'webgpu' && !adapter) return { error: 'no WebGPU adapter' };
        const bytes = new Uint8Array(await (await fetch('/api/model.onnx')).arrayBuffer());
        const w = window as unknown as Record<string, unknown>;
        w.benchOrt = ortWeb;
        w.benchSession = await ortWeb.InferenceSession.create(bytes, { executionProviders: [backend], graphOptimizationLevel: 'all' });
        const info = adapter?.info;
        return { adapter: info ? `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.description ?? ''}`.trim() : '' };
      }, backend);
      if ('error' in opened) {
        process.stdout.write(`  browser ${backend}: ${opened.error}\n`);
        await page.close();
        continue;
      }
      const times: number[] = [];
      for (const sc of scenes) {
        const ms = await page.evaluate(async ({ m, n }) => {
          const w = window as unknown as Record<string, any>;
          const ortWeb = w.benchOrt;
          const ids = (b: string) => { const t = atob(b); const u = new Uint8Array(t.length); for (let i = 0; i < t.length; i++) u[i] = t.charCodeAt(i); return BigInt64Array.from(new Uint16Array(u.buffer), (v) => BigInt(v)); };
          const feeds = { label: new ortWeb.Tensor('int64', ids(m.label), [1, 1, m.h, m.w]), inst: new ortWeb.Tensor('int64', ids(m.inst), [1, 1, m.h, m.w]) };
          const once = async () => { const r = await w.benchSession.run(feeds); await r.image.getData(); r.image.dispose(); };
          await once();
          const ts: number[] = [];
          for (let i = 0; i < n; i++) { const t0 = performance.now(); await once(); ts.push(performance.now() - t0); }
          return ts.sort((a, b) => a - b)[Math.floor(ts.length / 2)]!;
        }, { m: { w: sc.w, h: sc.h, label: b64(sc.label), inst: b64(sc.inst) }, n: browserRepeat });
        process.stdout.write(`    (${backend} ${sc.w}×${sc.h}: ${ms.toFixed(0)} ms)\n`);
        times.push(ms);
      }
      await page.close();
      report(backend === 'wasm' ? 'browser WebAssembly (1 thread)' : `browser WebGPU (adapter: ${opened.adapter || 'unnamed'}; SwiftShader here, a CPU)`, times);
    }
  } finally {
    await browser.close();
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
}

process.stdout.write(`\n| way | ${SIZES.map(([w, h]) => `${w}×${h}`).join(' | ')} |\n| --- | ${SIZES.map(() => '---:').join(' | ')} |\n`);
for (const r of rows) process.stdout.write(`| ${r.way} | ${r.ms.map((m) => (m === null ? '—' : `${Math.round(m)} ms`)).join(' | ')} |\n`);
process.stdout.write(`load average at the end ${load()}\n`);
