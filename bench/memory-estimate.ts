// The memory estimate printed before training, for the official 2048×1024 recipe (--netG local
// --ngf 32 --num_D 3 --resize_or_crop none, batch 1, VGG loss, feature matching, instance maps),
// with and without the memory savers: on the CPU (float32, validated against measured peaks in
// test/train/memory-peak.test.ts), then on CUDA in float32 and with --fp16 (with the CUDA
// context, cuDNN's workspaces and the caching allocator's slack as assumed constants, to be
// checked by scripts/gpu-check.ts's "memory estimate").
//   npm run bench:memory
import { buildDiscriminator, buildGenerator, type NetworkOptions } from '../src/models/from-options.js';
import { estimateMemory } from '../src/train/memory-estimate.js';
import { setNumThreads } from '../src/torch/index.js';

setNumThreads(1);
const official2k: NetworkOptions & { batchSize: number; no_vgg_loss: boolean } = {
  label_nc: 35, input_nc: 3, output_nc: 3, netG: 'local', ngf: 32, n_downsample_global: 4, n_blocks_global: 9,
  n_blocks_local: 3, n_local_enhancers: 1, norm: 'instance', no_instance: false, instance_feat: false, label_feat: false,
  feat_num: 3, nef: 16, n_downsample_E: 4, ndf: 64, n_layers_D: 3, num_D: 3, batchSize: 1, no_vgg_loss: false,
};
const G = buildGenerator(official2k, 1);
const D = buildDiscriminator(official2k, 2);
const parameters = { G: G.parameterCount(), D: D.parameterCount() };
G.dispose();
D.dispose();

const MiB = 2 ** 20;
const budget = 16 * 2 ** 30;
console.log('local G ngf 32, num_D 3, VGG + feature matching, batch 1, 2048×1024, float32 (estimate; validated on the CPU)');
console.log('| options | parameters + Adam | activations | in all | vs 16 GiB |');
console.log('| --- | ---: | ---: | ---: | ---: |');
const savers: Record<string, boolean>[] = [
  {}, { recompute_blocks: true }, { D_real_first: true }, { recompute_vgg: true },
  { recompute_blocks: true, D_real_first: true }, { recompute_blocks: true, D_real_first: true, recompute_vgg: true },
];
for (const saver of savers) {
  const m = estimateMemory({ ...official2k, ...saver }, parameters, { height: 1024, width: 2048 });
  const name = Object.keys(saver).map((k) => `--${k}`).join(' ') || '(none)';
  const margin = (m.totalBytes - budget) / MiB;
  console.log(`| ${name} | ${(m.parameterBytes / MiB).toFixed(0)} MiB | ${(m.activationBytes / MiB).toFixed(0)} MiB | ${(m.totalBytes / MiB).toFixed(0)} MiB (${(m.totalBytes / 2 ** 30).toFixed(2)} GiB) | ${margin > 0 ? `${margin.toFixed(0)} MiB over` : `${(-margin).toFixed(0)} MiB under`} |`);
}

console.log('');
console.log('The same on CUDA, float32 and --fp16 (allocated: the caching allocator\'s peak; in all: with its slack and the CUDA context, assumed)');
console.log('| options | parameters + Adam (+ gradients) | activations | allocated | in all | vs 16 GiB |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const fp16 of [false, true]) {
  for (const savers of [{}, { recompute_blocks: true, D_real_first: true }, { recompute_blocks: true, D_real_first: true, recompute_vgg: true }]) {
    const m = estimateMemory({ ...official2k, ...savers, device: 'cuda', fp16 }, parameters, { height: 1024, width: 2048 });
    const name = [...(fp16 ? ['--fp16'] : []), ...Object.keys(savers).map((k) => `--${k}`)].join(' ') || '(none)';
    const margin = (m.totalBytes - budget) / MiB;
    console.log(`| ${name} | ${((m.parameterBytes + m.castWeightBytes) / MiB).toFixed(0)} MiB | ${(m.activationBytes / MiB).toFixed(0)} MiB | ${(m.allocatedBytes / MiB).toFixed(0)} MiB | ${(m.totalBytes / MiB).toFixed(0)} MiB (${(m.totalBytes / 2 ** 30).toFixed(2)} GiB) | ${margin > 0 ? `${margin.toFixed(0)} MiB over` : `${(-margin).toFixed(0)} MiB under`} |`);
  }
}
