// Child process of memory-peak.test.ts: two training iterations of the configuration given on the
// command line (random data, VGG with random weights), printing the resident memory before the
// networks were built, the peak after the iterations, and what estimateMemory predicted. In its
// own process so that its peak is its own.
//   node --import tsx test/train/memory-peak-child.ts --ngf 16 --w 256 --h 128 [--recompute_blocks] [--D_real_first]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildDiscriminator, buildGenerator, type NetworkOptions } from '../../src/models/from-options.js';
import { encodeInput } from '../../src/models/input-encoding.js';
import { Vgg19Features } from '../../src/models/vgg19.js';
import { VGGLoss } from '../../src/losses/vgg-loss.js';
import { estimateMemory } from '../../src/train/memory-estimate.js';
import { TrainStep } from '../../src/train/step.js';
import * as T from '../../src/torch/index.js';

const { values: a } = parseArgs({ options: { ngf: { type: 'string', default: '16' }, w: { type: 'string', default: '256' }, h: { type: 'string', default: '128' }, recompute_blocks: { type: 'boolean', default: false },
  n_blocks_local: { type: 'string', default: '3' }, n_downsample_global: { type: 'string', default: '4' }, no_vgg_loss: { type: 'boolean', default: false },
  D_real_first: { type: 'boolean', default: false } } });
const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
T.setNumThreads(1);
T.manualSeed(0);
const baseline = kib('VmRSS');
const [w, h] = [Number(a.w), Number(a.h)];
const o: NetworkOptions & { batchSize: number; no_vgg_loss: boolean; recompute_blocks: boolean; D_real_first: boolean } = {
  label_nc: 35, input_nc: 3, output_nc: 3, netG: 'local', ngf: Number(a.ngf), n_downsample_global: Number(a.n_downsample_global), n_blocks_global: 9,
  n_blocks_local: Number(a.n_blocks_local), n_local_enhancers: 1, norm: 'instance', no_instance: false, instance_feat: false, label_feat: false, feat_num: 3,
  nef: 16, n_downsample_E: 4, ndf: 64, n_layers_D: 3, num_D: 2, batchSize: 1, no_vgg_loss: a.no_vgg_loss!,
  recompute_blocks: a.recompute_blocks!, D_real_first: a.D_real_first!,
};
const G = buildGenerator(o, 1);
const D = buildDiscriminator(o, 2);
const vgg = o.no_vgg_loss ? null : new Vgg19Features().eval().requiresGrad_(false);
const step = new TrainStep(
  { G, D, vggLoss: vgg ? new VGGLoss(vgg) : null, optimizerG: new T.Adam(G.parameters(), { lr: 2e-4, betas: [0.5, 0.999] }), optimizerD: new T.Adam(D.parameters(), { lr: 2e-4, betas: [0.5, 0.999] }) },
  { num_D: 2, n_layers_D: 3, lambda_feat: 10, no_vgg_loss: o.no_vgg_loss, recompute_blocks: o.recompute_blocks, D_real_first: o.D_real_first },
);
const label = T.keep(T.randint(0, 35, [1, 1, h, w]));
const input = T.keep(encodeInput({ label, inst: label }, { label_nc: 35 }));
const realImage = T.keep(T.rand([1, 3, h, w]).mul(2).sub(1));
for (let i = 0; i < 2; i++) step.step({ condition: input, input, realImage });
const m = estimateMemory(o, { G: G.parameterCount(), D: D.parameterCount() }, { height: h, width: w });
console.log(JSON.stringify({ baseline, peak: kib('VmHWM'), estimate: m.totalBytes, activations: m.activationBytes }));
