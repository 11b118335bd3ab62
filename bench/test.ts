// Synthesis benchmark: `test`'s per-image time (G's inference on one label map) in this project
// and in the official implementation on the same configuration and threads, each in its own
// process, alternating, printing seconds per image, peak memory and the ratios (median of the
// per-round ratios). The official side needs python3 with torch (Debian's python3-torch) and a
// checkout of NVIDIA/pix2pixHD in $REF_PIX2PIXHD.
//   REF_PIX2PIXHD=/path/to/pix2pixHD npm run bench:test -- [--net local --ngf 32 --w 1024 --h 512 --rounds 3 --n 3 --threads 2]
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median, pythonWithTorch } from './pytorch.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: a } = parseArgs({
  options: {
    net: { type: 'string', default: 'local' }, ngf: { type: 'string', default: '32' }, w: { type: 'string', default: '1024' },
    h: { type: 'string', default: '512' }, label_nc: { type: 'string', default: '35' }, n: { type: 'string', default: '3' },
    n_downsample_global: { type: 'string', default: '4' }, n_blocks_global: { type: 'string', default: '9' }, n_blocks_local: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' }, threads: { type: 'string', default: String(availableParallelism()) },
  },
});
const common = ['--net', a.net!, '--ngf', a.ngf!, '--w', a.w!, '--h', a.h!, '--label_nc', a.label_nc!, '--n', a.n!, '--threads', a.threads!,
  '--n_downsample_global', a.n_downsample_global!, '--n_blocks_global', a.n_blocks_global!, '--n_blocks_local', a.n_blocks_local!];
interface Figure { sec_per_image: number; cpu_sec_per_image: number; peak_rss_mb: number }
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop()!) as Figure;

const python = pythonWithTorch();
const ref = process.env.REF_PIX2PIXHD;
const ours: Figure[] = [];
const theirs: Figure[] = [];
console.log(`synthesis benchmark: netG ${a.net} ngf ${a.ngf} at ${a.w}×${a.h}, label_nc ${a.label_nc}, ${a.threads} threads, median of ${a.n} images per process; load ${loadavg()[0]!.toFixed(2)}`);
const show = (who: string, x: Figure) => console.log(`  ${who.padEnd(16)} ${x.sec_per_image.toFixed(3)} s/image (CPU time ${x.cpu_sec_per_image.toFixed(3)} s)   peak ${x.peak_rss_mb.toFixed(0)} MB`);
for (let r = 0; r < Number(a.rounds); r++) {
  console.log(`round ${r + 1} (load ${loadavg()[0]!.toFixed(2)})`);
  // Alternate which side goes first, so a drift in the machine's speed favours neither.
  const sides = [
    () => { ours.push(lastJson(execFileSync(process.execPath, ['--import', 'tsx', join(here, 'test-ours.ts'), ...common], { encoding: 'utf8' }))); show('pix2pixhd-ts', ours.at(-1)!); },
    () => {
      if (!python || !ref) return;
      theirs.push(lastJson(execFileSync(python, [join(here, 'ref_test.py'), ...common], { encoding: 'utf8', env: { ...process.env, REF_PIX2PIXHD: ref } })));
      show('official', theirs.at(-1)!);
    },
  ];
  if (r % 2 === 1) sides.reverse();
  for (const side of sides) side();
  if (theirs.length === ours.length) {
    const [o, t] = [ours.at(-1)!, theirs.at(-1)!];
    console.log(`  ratio this round: time ${(o.sec_per_image / t.sec_per_image).toFixed(3)}, CPU time ${(o.cpu_sec_per_image / t.cpu_sec_per_image).toFixed(3)}, peak memory ${(o.peak_rss_mb / t.peak_rss_mb).toFixed(3)}`);
  }
}
const sec = (xs: Figure[]) => median(xs.map((x) => x.sec_per_image));
const mem = (xs: Figure[]) => Math.max(...xs.map((x) => x.peak_rss_mb));
console.log(`median time, largest peak over ${a.rounds} rounds:`);
console.log(`pix2pixhd-ts      ${sec(ours).toFixed(3)} s/image   peak ${mem(ours).toFixed(0)} MB`);
if (theirs.length) {
  console.log(`official pytorch  ${sec(theirs).toFixed(3)} s/image   peak ${mem(theirs).toFixed(0)} MB`);
  const paired = median(ours.map((x, i) => x.sec_per_image / theirs[i]!.sec_per_image));
  const pairedCpu = median(ours.map((x, i) => x.cpu_sec_per_image / theirs[i]!.cpu_sec_per_image));
  // CPU time moves less than wall time when other processes compete for the cores: both are printed.
  console.log(`ratio (ours / official): time ${paired.toFixed(3)}, CPU time ${pairedCpu.toFixed(3)} (medians of per-round ratios), peak memory ${(mem(ours) / mem(theirs)).toFixed(3)}`);
} else {
  console.log('(no official figures: set REF_PIX2PIXHD to a checkout of NVIDIA/pix2pixHD and install python3-torch)');
}
