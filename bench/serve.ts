// Editor synthesis latency: POST /api/synthesize round trips (JSON maps in, PNG out) to a server
// started here on the loopback, at 512×256 and 1024×512, one request at a time after two warm-up
// requests. Prints the median and fastest round trip and the worker's own time (the generator).
//   npm run bench:serve [-- --name demo_local --checkpoints_dir demo/checkpoints] [--workers 1] [--threads N] [--repeat 5]
// Without a run (the demo's by default), a generator of the demo's local architecture with its
// initial weights is used: latency does not depend on the weights.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderScene } from '../src/data/index.js';
import { buildGenerator, type NetworkOptions } from '../src/models/from-options.js';
import { loadRunOptions, runConfig, saveCheckpoint, saveRunOptions } from '../src/run/index.js';
import { startEditorServer } from '../src/server/app.js';
import { defaultsFor } from '../src/options/definitions.js';

const { values: args } = parseArgs({
  options: {
    name: { type: 'string', default: 'demo_local' },
    checkpoints_dir: { type: 'string', default: 'demo/checkpoints' },
    workers: { type: 'string', default: '1' },
    threads: { type: 'string' },
    repeat: { type: 'string', default: '5' },
  },
});

/** The demo's local run (src/cli/commands/demo.ts). */
const DEMO_ARCH = { netG: 'local', ngf: 16, n_downsample_global: 3, n_blocks_global: 4, n_blocks_local: 2, label_nc: 35 };

let runDir = join(args.checkpoints_dir!, args.name!);
let what: string;
let cleanup = (): void => undefined;
let network: NetworkOptions;
if (existsSync(join(runDir, 'latest_net_G.pth'))) {
  network = runConfig({ ...defaultsFor(['base', 'train']), ...loadRunOptions(runDir) }).network;
  what = `run ${args.name} (${runDir})`;
} else {
  const root = mkdtempSync(join(tmpdir(), 'pix2pixhd-bench-serve-'));
  runDir = join(root, 'bench');
  network = runConfig({ ...defaultsFor(['base', 'train']), ...DEMO_ARCH }).network;
  mkdirSync(runDir, { recursive: true });
  const G = buildGenerator(network, 0);
  saveCheckpoint(runDir, 'latest', { G });
  G.dispose();
  saveRunOptions(runDir, DEMO_ARCH);
  what = `the demo's architecture, untrained (no run at ${join(args.checkpoints_dir!, args.name!)})`;
  cleanup = () => rmSync(root, { recursive: true, force: true });
}

const workers = Number(args.workers);
const threads = args.threads ? Number(args.threads) : Math.min(2, Math.max(1, Math.floor(availableParallelism() / workers)));
const repeat = Number(args.repeat);
const server = await startEditorServer({
  runDir, name: 'bench', which: 'latest', network, styles: null, threads, pool: { workers, queue: 4 }, port: 0,
});

const b64 = (a: ArrayLike<number>): string => Buffer.from(Uint16Array.from(a).buffer).toString('base64');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

process.stdout.write(
  `editor synthesis latency: ${what}\n` +
  `netG ${network.netG}, ngf ${network.ngf}, n_downsample_global ${network.n_downsample_global}, n_blocks_global ${network.n_blocks_global}` +
  `${network.netG === 'local' ? `, n_blocks_local ${network.n_blocks_local}` : ''}; ${workers} worker(s) × ${threads} libtorch thread(s) on ${availableParallelism()} cores (CPU)\n\n` +
  `size         requests   round trip median   fastest   generator (worker) median\n`,
);
try {
  for (const [w, h] of [[512, 256], [1024, 512]] as const) {
    const scene = renderScene(w, h, 11);
    const body = JSON.stringify({ width: w, height: h, label: b64(scene.label), inst: b64(scene.inst) });
    const post = async (): Promise<{ total: number; worker: number }> => {
      const t0 = performance.now();
      const res = await fetch(new URL('/api/synthesize', server.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      if (res.status !== 200) throw new Error(`${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
      return { total: performance.now() - t0, worker: Number(res.headers.get('x-synthesis-ms')) };
    };
    for (let i = 0; i < 2; i++) await post();
    const runs: Array<{ total: number; worker: number }> = [];
    for (let i = 0; i < repeat; i++) runs.push(await post());
    const totals = runs.map((r) => r.total);
    process.stdout.write(
      `${`${w}×${h}`.padEnd(12)} ${String(repeat).padStart(8)}   ${median(totals).toFixed(0).padStart(14)} ms   ${Math.min(...totals).toFixed(0).padStart(4)} ms   ` +
      `${median(runs.map((r) => r.worker)).toFixed(0).padStart(18)} ms\n`,
    );
  }
} finally {
  await server.close();
  cleanup();
}
