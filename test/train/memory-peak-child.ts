// Child process of memory-peak.test.ts: two training iterations of the configuration given on the
// command line (random data, VGG with random weights), printing the resident memory before the
// networks were built, the peak after the iterations, and what estimateMemory predicted. In its
// own process so that its peak is its own. scripts/gpu-check.ts runs it on CUDA (--device cuda:0,
// [--fp16]), where it also prints the caching allocator's peaks and, from nvidia-smi, what the
// device holds for this process (the allocator's reserve and the CUDA context).
//   node --import tsx test/train/memory-peak-child.ts --ngf 16 --w 256 --h 128 [--recompute_blocks] [--D_real_first] [--recompute_vgg]
//     [--netG global] [--device cuda:0] [--fp16]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildDiscriminator, buildGenerator, type NetworkOptions } from '../../src/models/from-options.js';
import { encodeInput } from '../../src/models/input-encoding.js';
import { Vgg19Features } from '../../src/models/vgg19.js';
import { VGGLoss } from '../../src/losses/vgg-loss.js';
import { estimateMemory } from '../../src/train/memory-estimate.js';
import { TrainStep } from '../../src/train/step.js';
import * as T from '../../src/torch/index.js';
import { native } from '../../src/torch/native.js';

const { values: a } = parseArgs({ options: { ngf: { type: 'string', default: '16' }, w: { type: 'string', default: '256' }, h: { type: 'string', default: '128' }, recompute_blocks: { type: 'boolean', default: false },
  n_blocks_local: { type: 'string', default: '3' }, n_downsample_global: { type: 'string', default: '4' }, no_vgg_loss: { type: 'boolean', default: false },
  D_real_first: { type: 'boolean', default: false }, netG: { type: 'string', default: 'local' }, device: { type: 'string', default: 'cpu' },
  fp16: { type: 'boolean', default: false }, recompute_vgg: { type: 'boolean', default: false } } });
const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
T.setNumThreads(1);
T.manualSeed(0);
const device = a.device!;
const cudaIndex = device.startsWith('cuda') ? Number(device.split(':')[1] ?? 0) : null;
const allocatorBefore = cudaIndex === null ? null : native.cudaMemoryStats(cudaIndex);
const baseline = kib('VmRSS');
const [w, h] = [Number(a.w), Number(a.h)];
const o: NetworkOptions & { batchSize: number; no_vgg_loss: boolean; recompute_blocks: boolean; D_real_first: boolean; recompute_vgg: boolean; device: string; fp16: boolean } = {
  label_nc: 35, input_nc: 3, output_nc: 3, netG: a.netG as NetworkOptions['netG'], ngf: Number(a.ngf), n_downsample_global: Number(a.n_downsample_global), n_blocks_global: 9,
  n_blocks_local: Number(a.n_blocks_local), n_local_enhancers: 1, norm: 'instance', no_instance: false, instance_feat: false, label_feat: false, feat_num: 3,
  nef: 16, n_downsample_E: 4, ndf: 64, n_layers_D: 3, num_D: 2, batchSize: 1, no_vgg_loss: a.no_vgg_loss!,
  recompute_blocks: a.recompute_blocks!, D_real_first: a.D_real_first!, recompute_vgg: a.recompute_vgg!, device, fp16: a.fp16!,
};
const G = buildGenerator(o, 1).to(device);
const D = buildDiscriminator(o, 2).to(device);
const vgg = o.no_vgg_loss ? null : new Vgg19Features().eval().requiresGrad_(false).to(device);
// --fp16 as src/train/trainer.ts sets it up: autocast on the step's device, dynamic loss scaling.
const amp = o.fp16 ? { deviceType: cudaIndex === null ? 'cpu' as const : 'cuda' as const, scaler: new T.GradScaler() } : null;
const step = new TrainStep(
  { G, D, vggLoss: vgg ? new VGGLoss(vgg) : null, optimizerG: new T.Adam(G.parameters(), { lr: 2e-4, betas: [0.5, 0.999] }), optimizerD: new T.Adam(D.parameters(), { lr: 2e-4, betas: [0.5, 0.999] }), amp },
  { num_D: 2, n_layers_D: 3, lambda_feat: 10, no_vgg_loss: o.no_vgg_loss, recompute_blocks: o.recompute_blocks, D_real_first: o.D_real_first, recompute_vgg: o.recompute_vgg },
);
const label = T.keep(T.randint(0, 35, [1, 1, h, w]));
const input = T.keep(encodeInput({ label, inst: label }, { label_nc: 35 }).to(device));
const realImage = T.keep(T.rand([1, 3, h, w]).mul(2).sub(1).to(device));
for (let i = 0; i < 2; i++) step.step({ condition: input, input, realImage });
const m = estimateMemory(o, { G: G.parameterCount(), D: D.parameterCount() }, { height: h, width: w });
const estimate = { estimate: m.totalBytes, activations: m.activationBytes, estimateAllocated: m.allocatedBytes, estimateSlack: m.allocatorSlackBytes, estimateContext: m.contextBytes };
if (cudaIndex === null) {
  console.log(JSON.stringify({ baseline, peak: kib('VmHWM'), ...estimate }));
} else {
  const after = native.cudaMemoryStats(cudaIndex);
  // What the device holds for this process: the allocator's reserve plus the CUDA context.
  const smi = spawnSync('nvidia-smi', ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'], { encoding: 'utf8' });
  const mine = (smi.stdout ?? '').split('\n').map((l) => l.split(',').map((x) => Number(x.trim()))).find(([pid]) => pid === process.pid);
  console.log(JSON.stringify({
    allocatedBefore: allocatorBefore?.allocated ?? null, peakAllocated: after?.peakAllocated ?? null, reserved: after?.reserved ?? null,
    peakReserved: after?.peakReserved ?? null, deviceUsed: mine ? mine[1]! * 2 ** 20 : null, ...estimate,
  }));
}
