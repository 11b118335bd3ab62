// One side of bench/train.ts: this project's training iteration on the configuration the
// official ref_step.py times (same networks, losses, optimizer and input construction), in its
// own process so that its peak memory is its own. Prints one JSON line.
//   tsx bench/train-step-ours.ts --net local --ngf 32 --w 512 --h 256 --iters 3 [--no_vgg] [--recompute_blocks] [--D_real_first]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildDiscriminator, buildGenerator, type NetworkOptions } from '../src/models/from-options.js';
import { encodeInput } from '../src/models/input-encoding.js';
import { Vgg19Features } from '../src/models/vgg19.js';
import { VGGLoss } from '../src/losses/vgg-loss.js';
import { TrainStep } from '../src/train/step.js';
import * as T from '../src/torch/index.js';
import { native } from '../src/torch/native.js';

const { values: a } = parseArgs({
  options: {
    net: { type: 'string', default: 'local' }, label_nc: { type: 'string', default: '35' }, w: { type: 'string', default: '512' },
    h: { type: 'string', default: '256' }, ngf: { type: 'string', default: '32' }, ndf: { type: 'string', default: '64' },
    num_D: { type: 'string', default: '2' }, n_layers_D: { type: 'string', default: '3' }, iters: { type: 'string', default: '3' },
    no_vgg: { type: 'boolean', default: false }, threads: { type: 'string', default: '0' }, seed: { type: 'string', default: '0' },
    device: { type: 'string', default: 'cpu' },
    recompute_blocks: { type: 'boolean', default: false }, D_real_first: { type: 'boolean', default: false },
  },
});
if (Number(a.threads) > 0) T.setNumThreads(Number(a.threads));
T.manualSeed(Number(a.seed));
const labelNc = Number(a.label_nc);
const [w, h] = [Number(a.w), Number(a.h)];
const o: NetworkOptions = {
  label_nc: labelNc, input_nc: 3, output_nc: 3, netG: String(a.net), ngf: Number(a.ngf), n_downsample_global: 4, n_blocks_global: 9,
  n_blocks_local: 3, n_local_enhancers: 1, norm: 'instance', no_instance: false, instance_feat: false, label_feat: false, feat_num: 3,
  nef: 16, n_downsample_E: 4, ndf: Number(a.ndf), n_layers_D: Number(a.n_layers_D), num_D: Number(a.num_D),
};
const G = buildGenerator(o, 1);
const D = buildDiscriminator(o, 2);
// Random VGG19 weights cost the same time as trained ones (no weights can be downloaded here).
const vgg = a.no_vgg ? null : new Vgg19Features().eval().requiresGrad_(false);
const device = String(a.device);
if (device !== 'cpu') for (const m of [G, D, vgg]) m?.to(device);
const optimizerG = new T.Adam(G.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
const optimizerD = new T.Adam(D.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
const step = new TrainStep(
  { G, D, vggLoss: vgg ? new VGGLoss(vgg) : null, optimizerG, optimizerD },
  { num_D: o.num_D!, n_layers_D: o.n_layers_D!, lambda_feat: 10, no_vgg_loss: a.no_vgg, recompute_blocks: a.recompute_blocks, D_real_first: a.D_real_first },
);
// As ref_step.py: random classes over 16×16-pixel cells, the instance map equal to the label map.
const label = T.keep(T.tidy(() => T.F.interpolate(T.randint(0, labelNc, [1, 1, Math.ceil(h / 16), Math.ceil(w / 16)]).to('float32'), { size: [Math.ceil(h / 16) * 16, Math.ceil(w / 16) * 16] })
  .narrow(2, 0, h).narrow(3, 0, w).long().to(device)));
const inputLabel = T.keep(encodeInput({ label, inst: label }, { label_nc: labelNc }));
// What generatorInput gives training: G's opening conv reads the ids (PIX2PIXHD_DENSE_INPUT_CONV=1: densely).
const layout = { labels: label.squeeze(1), edges: inputLabel.select(1, labelNc).contiguous(), labelNc };
const realImage = T.keep(T.rand([1, 3, h, w], { device }).mul(2).sub(1));

// On CUDA the updates run asynchronously: reading a parameter back waits for them, so the time
// is the whole iteration's (the official script's float(loss) after its steps does the same).
const firstParam = G.parameters()[0]!;
const run = () => {
  const losses = step.step({ condition: inputLabel, input: inputLabel, realImage, layout }).losses;
  if (device !== 'cpu') T.tidy(() => firstParam.sum().item());
  return losses;
};
run(); // warm-up
const times: number[] = [];
let losses = run();
const cpu0 = process.cpuUsage();
// PIX2PIXHD_PROFILE=trace.json: the first timed iteration's ATen ops, as a Chrome trace (bench/profile-summary.ts sums them).
const profilePath = process.env.PIX2PIXHD_PROFILE;
for (let i = 0; i < Number(a.iters); i++) {
  if (profilePath && i === 0) native.profileStart(profilePath);
  const t0 = performance.now();
  losses = run();
  if (profilePath && i === 0) native.profileStop();
  times.push((performance.now() - t0) / 1000);
  await new Promise((r) => setImmediate(r));
}
const cpu = process.cpuUsage(cpu0);
// PIX2PIXHD_ALLOC_STATS=1: the caching CPU allocator's counters on stderr (how often blocks were reused).
if (process.env.PIX2PIXHD_ALLOC_STATS) console.error(JSON.stringify(T.cpuAllocatorStats()));
const sorted = [...times].sort((x, y) => x - y);
const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
console.log(JSON.stringify({
  impl: 'pix2pixhd-ts', recompute_blocks: a.recompute_blocks, D_real_first: a.D_real_first, device, threads: T.getNumThreads(), net: a.net, w, h, label_nc: labelNc, ngf: o.ngf, vgg: !a.no_vgg,
  sec_per_iter: sorted[sorted.length >> 1], all: times,
  cpu_user_per_iter: cpu.user / 1e6 / times.length, cpu_sys_per_iter: cpu.system / 1e6 / times.length, losses, peak_rss_mb: hwm ? Number(hwm[1]) / 1024 : null,
}));
