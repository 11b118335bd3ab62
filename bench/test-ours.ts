// One side of bench/test.ts: this project's synthesis (the `synthesize` that `test` and the editor
// call) with G built from the options, random weights, on a scene-like one-hot label map with its
// instance-edge channel (PIX2PIXHD_DENSE_INPUT_CONV=1: G's opening conv as a dense convolution), in its own process so that its peak memory is its own. Prints one JSON line.
//   tsx bench/test-ours.ts --net local --ngf 32 --w 1024 --h 512 --n 3 --threads 2
import { parseArgs } from 'node:util';
import { buildGenerator, type NetworkOptions } from '../src/models/from-options.js';
import { sizeMultiple } from '../src/data/transforms.js';
import { synthesize } from '../src/infer/synthesize.js';
import { encodeInput } from '../src/models/input-encoding.js';
import * as T from '../src/torch/index.js';
import { native } from '../src/torch/native.js';

const { values: a } = parseArgs({
  options: {
    net: { type: 'string', default: 'local' }, label_nc: { type: 'string', default: '35' }, w: { type: 'string', default: '1024' },
    h: { type: 'string', default: '512' }, ngf: { type: 'string', default: '32' }, n_downsample_global: { type: 'string', default: '4' },
    n_blocks_global: { type: 'string', default: '9' }, n_blocks_local: { type: 'string', default: '3' },
    n: { type: 'string', default: '3' }, threads: { type: 'string', default: '0' }, seed: { type: 'string', default: '0' },
  },
});
if (Number(a.threads) > 0) T.setNumThreads(Number(a.threads));
T.manualSeed(Number(a.seed));
const labelNc = Number(a.label_nc);
const [w, h] = [Number(a.w), Number(a.h)];
const o: NetworkOptions = {
  label_nc: labelNc, input_nc: 3, output_nc: 3, netG: String(a.net), ngf: Number(a.ngf), n_downsample_global: Number(a.n_downsample_global),
  n_blocks_global: Number(a.n_blocks_global), n_blocks_local: Number(a.n_blocks_local), n_local_enhancers: 1, norm: 'instance', no_instance: false,
  instance_feat: false, label_feat: false, feat_num: 3, nef: 16, n_downsample_E: 4, ndf: 64, n_layers_D: 3, num_D: 2,
};
const G = buildGenerator(o, 1).eval();
// Scene-like maps: random classes over 16×16-pixel cells, the instance boundaries between them.
// (The dense convolutions cost the same on any map; the opening conv's lookups are faster where
// neighbouring pixels share a class, as in real label maps.)
const labels = T.keep(T.tidy(() => T.F.interpolate(T.randint(0, labelNc, [1, 1, Math.ceil(h / 16), Math.ceil(w / 16)]).to('float32'), { size: [Math.ceil(h / 16) * 16, Math.ceil(w / 16) * 16] })
  .narrow(2, 0, h).narrow(3, 0, w).long()));
const input = T.keep(T.tidy(() => encodeInput({ label: labels, inst: labels }, { label_nc: labelNc })));
const layout = { labels: labels.squeeze(1), edges: input.select(1, labelNc).contiguous(), labelNc };
const seconds: number[] = [];
const cpuSeconds: number[] = [];
// PIX2PIXHD_PROFILE=trace.json: the last synthesis's ATen ops, as a Chrome trace (bench/profile-summary.ts sums them).
const profilePath = process.env.PIX2PIXHD_PROFILE;
for (let i = 0; i < Number(a.n); i++) {
  const profiled = profilePath !== undefined && i === Number(a.n) - 1;
  if (profiled) native.profileStart(profilePath);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const out = synthesize(G, input, sizeMultiple(o), { layout });
  out.toFloat32Array(); // the result read back, as test does
  const c = process.cpuUsage(c0);
  seconds.push((performance.now() - t0) / 1000);
  cpuSeconds.push((c.user + c.system) / 1e6);
  if (profiled) native.profileStop();
  out.dispose();
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
console.log(JSON.stringify({ sec_per_image: median(seconds), cpu_sec_per_image: median(cpuSeconds), all: seconds, peak_rss_mb: process.resourceUsage().maxRSS / 1024 }));
// PIX2PIXHD_ALLOC_STATS=1: the caching CPU allocator's counters on stderr (how often blocks were reused).
if (process.env.PIX2PIXHD_ALLOC_STATS) console.error(JSON.stringify(native.cpuAllocatorStats()));
