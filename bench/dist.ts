// Data-parallel scaling on one machine: the same training (a global G, ngf 16, at 128×64, whole
// batch 4, no VGG loss, by default) as 1 rank × 2 libtorch threads and as 2 ranks × 1 thread (Gloo on the loopback,
// the built-in launcher), in alternating rounds so that background load hits both alike. Each
// side's time per iteration is the median of rank 0's logged step times after the first epoch
// (warm-up); prints iterations per second, the ratio (the scaling efficiency at equal cores:
// 2 ranks' speed over 1 rank's), and the load average before and after.
//   npx tsx bench/dist.ts [--rounds 2] [--n 16] [--size 128x64] [--ngf 16] [--batch 4] [--tmp DIR]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeSyntheticDataset } from '../src/data/index.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    n: { type: 'string', default: '16' },
    size: { type: 'string', default: '128x64' },
    ngf: { type: 'string', default: '16' },
    batch: { type: 'string', default: '4' },
    tmp: { type: 'string', default: tmpdir() },
  },
});
const [width, height] = args.size!.split('x').map(Number) as [number, number];
const batch = Number(args.batch);
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const cliMain = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.ts');

const root = mkdtempSync(join(args.tmp!, 'pix2pixhd-bench-dist-'));
try {
  const data = join(root, 'data');
  await makeSyntheticDataset({ out: data, n: Number(args.n), nTest: 1, width, height, seed: 0 });
  const common = ['--dataroot', data, '--checkpoints_dir', join(root, 'ck'), '--label_nc', '35', '--resize_or_crop', 'none',
    '--netG', 'global', '--ngf', args.ngf!, '--n_downsample_global', '3', '--n_blocks_global', '4', '--ndf', args.ngf!, '--no_vgg_loss',
    '--batchSize', String(batch), '--niter', '2', '--niter_decay', '0', '--print_freq', String(batch), '--display_freq', '0',
    '--no_html', '--save_latest_freq', '0', '--save_epoch_freq', '1000', '--nThreads', '2'];
  const sides = {
    '1 rank × 2 threads': ['--threads', '2'],
    '2 ranks × 1 thread': ['--threads', '1', '--nproc_per_node', '2'],
  };
  const times: Record<string, number[]> = {};
  console.log(`load average before: ${load()}`);
  console.log(`global G ngf ${args.ngf}, ${width}×${height}, whole batch ${batch}, ${args.n} scenes, 2 epochs (the first is warm-up), no VGG`);
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const [side, extra] of Object.entries(sides)) {
      const name = `r${round}_${side.replace(/\W+/g, '_')}`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', cliMain, 'train', '--name', name, ...common, ...extra], { encoding: 'utf8', env: { ...process.env, PIX2PIXHD_THREADS: '' } });
      if (r.status !== 0) throw new Error(`${side}: exit ${r.status}\n${r.stderr}`);
      const lines = readFileSync(join(root, 'ck', name, 'loss_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; time: number });
      const t = median(lines.filter((l) => l.epoch > 1).map((l) => l.time));
      (times[side] ??= []).push(t);
      console.log(`round ${round} ${side}: ${t.toFixed(3)} s/iteration (${(1 / t).toFixed(2)} it/s)   load ${load()}`);
    }
  }
  const [one, two] = Object.keys(sides).map((s) => median(times[s]!)) as [number, number];
  console.log(`median: 1 rank × 2 threads ${(1 / one).toFixed(2)} it/s, 2 ranks × 1 thread ${(1 / two).toFixed(2)} it/s; scaling efficiency (2 ranks / 1 rank at equal cores) ${(one / two).toFixed(2)}`);
  console.log(`load average after: ${load()}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
