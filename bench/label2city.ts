// Time per image of `pix2pixhd test` with NVIDIA's label2city_1024p architecture (local generator,
// --ngf 32 --label_nc 35, n_downsample_global 4, n_blocks_global 9, n_blocks_local 3: 182.9 M
// parameters) at Cityscapes' 2048×1024, as docs/cityscapes-pretrained.md runs it. The published
// weights are not needed (the time does not depend on them): a checkpoint of that architecture
// with random weights is written in the published folder's form (legacy format, no opt.txt,
// ~730 MB), with a few synthetic scenes in Cityscapes' layout, into a temporary folder that is
// deleted afterwards.
//   npx tsx bench/label2city.ts [--size 2048x1024] [--n 3] [--threads 2] [--tmp DIR] [--keep]
// Prints the load average before and after, the time to the first image (process start, reading
// the 730 MB checkpoint, the first image), the time of each further image and, where /proc is
// there (Linux), the command's peak resident memory.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LABEL2CITY_1024P, officialLocalGLayout, parameterCount, writeCityscapesLayout, writeOfficialCheckpoint } from '../test/cli/official-run.js';

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '2048x1024' },
    n: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    tmp: { type: 'string', default: tmpdir() },
    keep: { type: 'boolean', default: false },
  },
});
const m = /^(\d+)x(\d+)$/.exec(args.size!);
if (!m) throw new Error(`--size WxH, e.g. 2048x1024 (got ${args.size})`);
const [width, height] = [Number(m[1]), Number(m[2])];
const n = Number(args.n);
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

const root = mkdtempSync(join(args.tmp!, 'pix2pixhd-label2city-'));
try {
  const checkpoints = join(root, 'checkpoints');
  const dataroot = join(root, 'cityscapes');
  let t0 = performance.now();
  const file = writeOfficialCheckpoint(join(checkpoints, 'label2city_1024p'), LABEL2CITY_1024P, { seed: 0 });
  const params = parameterCount(officialLocalGLayout(LABEL2CITY_1024P));
  console.log(`checkpoint: ${(params / 1e6).toFixed(1)} M parameters, ${(statSync(file).size / 1e6).toFixed(0)} MB (legacy format), written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const cities = ['frankfurt', 'lindau', 'munster'];
  await writeCityscapesLayout(dataroot, 'val', Array.from({ length: n }, (_, i) => {
    const city = cities[i % cities.length]!;
    return { city, stem: `${city}_${String(i).padStart(6, '0')}_000019`, width, height };
  }));

  const argv = ['test', '--name', 'label2city_1024p', '--checkpoints_dir', checkpoints, '--dataroot', dataroot, '--phase', 'val',
    '--netG', 'local', '--ngf', '32', '--label_nc', '35', '--resize_or_crop', 'none', '--results_dir', join(root, 'results'),
    '--how_many', String(n), '--threads', args.threads!];
  console.log(`pix2pixhd ${argv.join(' ')}`);
  console.log(`load average before: ${load()}`);
  t0 = performance.now();
  const stamps: number[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'src', 'cli', 'main.ts'), ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
  // Peak resident memory: VmHWM of the child, read until it exits.
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf-8'));
      if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
    } catch { /* exited, or no /proc */ }
  }, 250);
  let buffered = '';
  child.stdout.setEncoding('utf-8').on('data', (d: string) => {
    buffered += d;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (/_gtFine_labelIds$/.test(line)) stamps.push(performance.now());
    }
  });
  const status = await new Promise<number | null>((res) => child.on('close', res));
  clearInterval(poll);
  const total = (performance.now() - t0) / 1000;
  if (status !== 0) throw new Error(`pix2pixhd test exited with ${status}`);
  const secs = stamps.map((s, i) => (s - (i === 0 ? t0 : stamps[i - 1]!)) / 1000);
  console.log(`load average after:  ${load()}`);
  console.log(`${width}×${height}, --threads ${args.threads}: ${stamps.length} images in ${total.toFixed(1)} s`);
  console.log(`  first image (start, loading G, synthesis, writing): ${secs[0]?.toFixed(1)} s`);
  secs.slice(1).forEach((s, i) => console.log(`  image ${i + 2}: ${s.toFixed(1)} s`));
  if (peakKb) console.log(`  peak resident memory (VmHWM): ${(peakKb / 1048576).toFixed(2)} GiB`);
} finally {
  if (args.keep) console.log(`kept ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
