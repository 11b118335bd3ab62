// The memory estimate printed before training: parameter memory by what each network keeps
// (weights and Adam's two moments; D also a gradient, G and E none, as they update inside their
// backward pass), and activations that scale with the batch and the image area.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateMemory, VGG19_LOSS_PARAMETERS } from '../../src/train/memory-estimate.js';
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
