// The memory estimate printed before training: parameter memory by what each network keeps
// (weights and Adam's two moments; D also a gradient, G and E none, as they update inside their
// backward pass), and activations that scale with the batch and the image area.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CUDA_ALLOCATOR_SLACK, CUDA_CONTEXT_BYTES, CUDA_WORKSPACE_BYTES, estimateMemory, VGG19_LOSS_PARAMETERS } from '../../src/train/memory-estimate.js';
import { Vgg19Features } from '../../src/models/vgg19.js';
import type { NetworkOptions } from '../../src/models/from-options.js';

const options: NetworkOptions & { batchSize: number; no_vgg_loss: boolean } = {
  label_nc: 35, input_nc: 3, output_nc: 3, netG: 'local', ngf: 32, n_downsample_global: 4, n_blocks_global: 9,
  n_blocks_local: 3, n_local_enhancers: 1, norm: 'instance', no_instance: false, instance_feat: false, label_feat: false, feat_num: 3,
  nef: 16, n_downsample_E: 4, ndf: 64, n_layers_D: 3, num_D: 2, batchSize: 1, no_vgg_loss: false,
};

test('parameter memory: 3 float32 copies for G and E, 4 for D', () => {
  const m = estimateMemory(options, { G: 1000, D: 100, E: 10 }, { height: 256, width: 512 });
  assert.equal(m.parameterBytes, (1000 * 3 + 100 * 4 + 10 * 3) * 4);
  assert.match(m.summary, /G 0\.00M, D 0\.00M, E 0\.00M/);
});

test('activations grow linearly with the batch and with the image area; the VGG loss adds to them', () => {
  const at = (o: Partial<typeof options>, height: number, width: number) =>
    estimateMemory({ ...options, ...o }, { G: 1, D: 1 }, { height, width }).activationBytes;
  const base = at({}, 256, 512);
  assert.ok(base > 0);
  assert.equal(at({ batchSize: 3 }, 256, 512), 3 * base);
  assert.ok(Math.abs(at({}, 512, 1024) / base - 4) < 1e-9, 'four times the pixels, four times the memory');
  assert.ok(at({ no_vgg_loss: true }, 256, 512) < base);
});

test('--recompute_blocks: each residual block keeps its input only, six block-sized tensors fewer; the summary says so', () => {
  const p = { G: 1e6, D: 1 };
  const kept = estimateMemory(options, p, { height: 256, width: 512 });
  const recomputed = estimateMemory({ ...options, recompute_blocks: true }, p, { height: 256, width: 512 });
  // G1 (ngf 64) at 256×128 has 9 blocks of 1024 channels at 16×8; the enhancer 3 blocks of 64 at 256×128.
  const blockElements = 9 * 1024 * 16 * 8 + 3 * 64 * 256 * 128;
  assert.equal(kept.activationBytes - recomputed.activationBytes, 6 * blockElements * 4);
  assert.match(recomputed.summary, /recomputed in the backward \(--recompute_blocks\)/);
  assert.match(kept.summary, /lower it with --recompute_blocks/);
});

test('the VGG19 weights of the perceptual loss are in the total, counted from the network itself', () => {
  const vgg = new Vgg19Features();
  try {
    assert.equal(VGG19_LOSS_PARAMETERS, vgg.parameterCount());
  } finally {
    vgg.dispose();
  }
  const p = { G: 1, D: 1 };
  const withVgg = estimateMemory(options, p, { height: 256, width: 512 });
  assert.equal(withVgg.vggWeightBytes, VGG19_LOSS_PARAMETERS * 4);
  assert.equal(withVgg.totalBytes, withVgg.parameterBytes + withVgg.vggWeightBytes + withVgg.activationBytes + withVgg.workspaceBytes);
  assert.equal(estimateMemory({ ...options, no_vgg_loss: true }, p, { height: 256, width: 512 }).vggWeightBytes, 0);
});

test('--D_real_first: D\'s pass on the real image frees its input and two tensors a stage', () => {
  const p = { G: 1, D: 1 };
  const o = { ...options, num_D: 1, n_layers_D: 1, ndf: 8 };
  const kept = estimateMemory(o, p, { height: 256, width: 512 });
  const first = estimateMemory({ ...o, D_real_first: true }, p, { height: 256, width: 512 });
  // One scale, two layers: 8 channels at 1/2 and (capped) 16 at 1/2 (n_layers_D 1: stride 2 once), input 36 + 3 channels.
  const stages = 8 * 128 * 256 + 16 * 128 * 256;
  assert.equal(kept.activationBytes - first.activationBytes, (2 * stages + 39 * 256 * 512) * 4);
  assert.match(first.summary, /D's real pass back-propagated first \(--D_real_first\)/);
});

test('on CUDA: the same tensors, cuDNN\'s workspaces for libtorch\'s CPU working memory, the allocator\'s slack over its peak and the CUDA context on top (assumed constants); the CPU has neither', () => {
  const p = { G: 2e6, D: 3e5 };
  const cpu = estimateMemory(options, p, { height: 256, width: 512 });
  const cuda = estimateMemory({ ...options, device: 'cuda:1' }, p, { height: 256, width: 512 });
  assert.equal(cpu.contextBytes + cpu.allocatorSlackBytes, 0);
  assert.equal(cpu.allocatedBytes, cpu.totalBytes);
  assert.equal(cuda.activationBytes, cpu.activationBytes);
  assert.equal(cuda.parameterBytes, cpu.parameterBytes);
  assert.equal(cuda.allocatedBytes - cuda.workspaceBytes, cpu.allocatedBytes - cpu.workspaceBytes);
  assert.equal(cuda.workspaceBytes, CUDA_WORKSPACE_BYTES);
  assert.equal(cuda.contextBytes, CUDA_CONTEXT_BYTES);
  assert.ok(Math.abs(cuda.allocatorSlackBytes - CUDA_ALLOCATOR_SLACK * cuda.allocatedBytes) <= 1);
  assert.equal(cuda.totalBytes, cuda.allocatedBytes + cuda.allocatorSlackBytes + cuda.contextBytes);
  assert.match(cuda.summary, /of CUDA context \(both assumed\)/);
  assert.match(cuda.summary, /--fp16, /, 'on CUDA --fp16 is a way to lower it');
  assert.doesNotMatch(cpu.summary, /--fp16/, 'not on the CPU, where it is refused');
});

test('--fp16: activations take half the float32 bytes, plus the float32 difference each L1 loss term keeps; G keeps float32 gradients; float16 copies of the weights', () => {
  // One D scale of two layers (8 channels at 1/2, 16 capped at 1/2), no VGG loss: feature matching
  // compares both of D's intermediate outputs.
  const o = { ...options, num_D: 1, n_layers_D: 1, ndf: 8, no_vgg_loss: true, device: 'cuda' };
  const p = { G: 1000, D: 100, E: 10 };
  const fp32 = estimateMemory(o, p, { height: 256, width: 512 });
  const fp16 = estimateMemory({ ...o, fp16: true }, p, { height: 256, width: 512 });
  assert.equal(fp16.activationBytes, fp32.activationBytes / 2 + (8 + 16) * 128 * 256 * 4);
  // The VGG loss adds its five features' differences (relu1_1 … relu5_1 at 1/2^i): 64, 128, 256, 512, 512 channels.
  const vggDifferences = [64, 128, 256, 512, 512].reduce((sum, c, i) => sum + c * (256 / 2 ** i) * (512 / 2 ** i), 0);
  const withVgg = (fp: boolean) => estimateMemory({ ...o, no_vgg_loss: false, fp16: fp }, p, { height: 256, width: 512 }).activationBytes;
  assert.equal(withVgg(true), withVgg(false) / 2 + ((8 + 16) * 128 * 256 + vggDifferences) * 4);
  assert.equal(fp32.parameterBytes, (1000 * 3 + 100 * 4 + 10 * 3) * 4);
  assert.equal(fp16.parameterBytes, (1000 + 100 + 10) * 4 * 4, 'weights, moments and gradients of every network');
  assert.equal(fp32.castWeightBytes, 0);
  assert.equal(fp16.castWeightBytes, (1000 + 100) * 2);
  assert.equal(fp16.allocatedBytes, fp16.parameterBytes + fp16.castWeightBytes + fp16.activationBytes + fp16.workspaceBytes);
  assert.match(fp16.summary, /float16 autocast/);
  // At the official 1024×512 recipe's scale the activations dominate: fp16 roughly halves them.
  const big = { ...options, netG: 'global' as const, ngf: 64, device: 'cuda' };
  const ratio = estimateMemory({ ...big, fp16: true }, p, { height: 512, width: 1024 }).activationBytes / estimateMemory(big, p, { height: 512, width: 1024 }).activationBytes;
  assert.ok(ratio > 0.5 && ratio < 0.6, `fp16/fp32 activations ${ratio.toFixed(3)}`);
});
