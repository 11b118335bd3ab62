// Training benchmark: one pix2pixHD iteration in this project and in the official implementation
// on the same configuration, same thread count, each in its own process (alternating rounds),
// printing seconds per iteration, peak memory and the ratios. The official side needs python3
// with torch (Debian's python3-torch) and a checkout of NVIDIA/pix2pixHD in $REF_PIX2PIXHD.
//   REF_PIX2PIXHD=/path/to/pix2pixHD npm run bench:train -- [--net local --ngf 32 --w 512 --h 256 --rounds 2 --iters 3 --device cuda:0]
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median, pythonWithTorch } from './pytorch.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: a } = parseArgs({
  options: {
    net: { type: 'string', default: 'local' }, ngf: { type: 'string', default: '32' }, w: { type: 'string', default: '512' },
    h: { type: 'string', default: '256' }, label_nc: { type: 'string', default: '35' }, iters: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '2' }, no_vgg: { type: 'boolean', default: false }, device: { type: 'string', default: 'cpu' }, threads: { type: 'string', default: String(availableParallelism()) },
  },
});
const common = ['--net', a.net!, '--ngf', a.ngf!, '--w', a.w!, '--h', a.h!, '--label_nc', a.label_nc!, '--iters', a.iters!, '--threads', a.threads!, ...(a.no_vgg ? ['--no_vgg'] : [])];
const deviceArg = (python: boolean) => (a.device === 'cpu' ? [] : ['--device', python ? a.device!.replace(/:\d+$/, '') : a.device!]);
type Side = { sec_per_iter: number; peak_rss_mb: number; cpu_user_per_iter: number; cpu_sys_per_iter: number };
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop()!) as Side;
// CPU time (user + system) per iteration moves less than wall time when other processes compete;
// the system part is mostly page faults on freshly mapped activations.
const cpuOf = (x: Side) => x.cpu_user_per_iter + x.cpu_sys_per_iter;

const python = pythonWithTorch();
const ref = process.env.REF_PIX2PIXHD;
const ours: Side[] = [];
const theirs: Side[] = [];
console.log(`training benchmark: netG ${a.net} ngf ${a.ngf} at ${a.w}×${a.h}, label_nc ${a.label_nc}, ${a.no_vgg ? 'no VGG' : 'with VGG'}, ${a.threads} threads, ${a.device}`);
const show = (who: string, x: Side) =>
  console.log(`  ${who.padEnd(16)} ${x.sec_per_iter.toFixed(3)} s/iter (CPU time ${cpuOf(x).toFixed(2)} s, of it system ${x.cpu_sys_per_iter.toFixed(2)} s)   peak ${x.peak_rss_mb.toFixed(0)} MB`);
for (let r = 0; r < Number(a.rounds); r++) {
  console.log(`round ${r + 1}`);
  ours.push(lastJson(execFileSync(process.execPath, ['--import', 'tsx', join(here, 'train-step-ours.ts'), ...common, ...deviceArg(false)], { encoding: 'utf8' })));
  show('pix2pixhd-ts', ours.at(-1)!);
  if (python && ref) {
    theirs.push(lastJson(execFileSync(python, [join(here, 'ref_step.py'), ...common, ...deviceArg(true)], { encoding: 'utf8', env: { ...process.env, REF_PIX2PIXHD: ref } })));
    show('official', theirs.at(-1)!);
    console.log(`  ratio this round: time ${(ours.at(-1)!.sec_per_iter / theirs.at(-1)!.sec_per_iter).toFixed(3)}, CPU time ${(cpuOf(ours.at(-1)!) / cpuOf(theirs.at(-1)!)).toFixed(3)}`);
  }
}
console.log(`median time, largest peak over ${a.rounds} rounds:`);
const sec = (xs: { sec_per_iter: number }[]) => median(xs.map((x) => x.sec_per_iter));
const mem = (xs: { peak_rss_mb: number }[]) => Math.max(...xs.map((x) => x.peak_rss_mb));
console.log(`pix2pixhd-ts      ${sec(ours).toFixed(3)} s/iter   peak ${mem(ours).toFixed(0)} MB`);
if (theirs.length) {
  console.log(`official pytorch  ${sec(theirs).toFixed(3)} s/iter   peak ${mem(theirs).toFixed(0)} MB`);
  // Each round runs the two back to back, so a round's ratio is the one least moved by a machine
  // whose speed drifts; both summaries are printed.
  const paired = median(ours.map((x, i) => x.sec_per_iter / theirs[i]!.sec_per_iter));
  const pairedCpu = median(ours.map((x, i) => cpuOf(x) / cpuOf(theirs[i]!)));
  console.log(`ratio (ours / official): time ${(sec(ours) / sec(theirs)).toFixed(3)} (medians), ${paired.toFixed(3)} (median of the rounds' ratios); CPU time ${pairedCpu.toFixed(3)} (median of the rounds' ratios); peak memory ${(mem(ours) / mem(theirs)).toFixed(3)}`);
} else {
  console.log(python ? 'set REF_PIX2PIXHD to a checkout of NVIDIA/pix2pixHD to compare with the official code' : 'no python3 with torch: install python3-torch to compare with the official code');
}
