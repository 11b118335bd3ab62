// What a configuration needs before it runs: parameter memory (weights and Adam's two moments,
// plus gradients for D: G and E are updated inside their backward pass and keep none) and a rough activation estimate from the layer shapes at the training size, so a
// user learns to lower ngf, the crop size or the batch before running out of memory, not after.
import type { NetworkOptions } from '../models/from-options.js';
import { generatorInputChannels, labelChannels } from '../models/from-options.js';

export interface MemoryEstimate {
  parameterBytes: number;
  activationBytes: number;
  /** The frozen VGG19 of the perceptual loss (its weights only: no gradients, no Adam state). */
  vggWeightBytes: number;
  /** libtorch's own working memory during a step (convolution workspaces, pools), measured. */
  workspaceBytes: number;
  /** All of these: what the training process needs beyond its runtime, compared with a measured peak in test/train/memory-peak.test.ts. */
  totalBytes: number;
  summary: string;
}

const MB = 1024 * 1024;

/**
 * Elements saved for backward by a conv → norm → activation stage: about five tensors of its
 * output's size (measured: four undershot the peak by a quarter).
 */
const stage = (channels: number, h: number, w: number): number => 5 * channels * h * w;

/**
 * A residual block keeps about seven tensors of its size for backward (its input and each padded
 * input, which the reflection pads save, each conv's output, the ReLU's, the norms' own): fewer
 * than two stages, as the add and the second norm's output are not saved (measured: with
 * --recompute_blocks the peak drops by 5.5 to 6.5 of them per block). With --recompute_blocks only
 * its input is kept; its own activations live again during its recomputed backward only, one
 * block at a time, when the graphs of D, the VGG loss and G's upper layers are already freed.
 */
const residualBlock = (recompute: boolean, channels: number, h: number, w: number): number =>
  (recompute ? 1 : 7) * channels * h * w;

/** Parameters of G's residual blocks (two 3×3 convs with biases each), from the options. */
function residualBlockParameters(o: NetworkOptions): number {
  const levels = o.netG === 'local' ? o.n_local_enhancers : 0;
  const block = (c: number) => 2 * (9 * c * c + c);
  let total = o.n_blocks_global * block(o.ngf * 2 ** levels * 2 ** o.n_downsample_global);
  for (let l = levels - 1; l >= 0; l--) total += o.n_blocks_local * block(2 * o.ngf * 2 ** l);
  return total;
}

/** Parameters of VGG19's layers up to relu5_1 (13 convolutions), what the perceptual loss loads. */
export const VGG19_LOSS_PARAMETERS = 12_944_960;

/**
 * What one training step of libtorch holds beyond the tensors counted here, measured on the CPU
 * (test/train/memory-peak.test.ts). It was 200 MB while glibc's heap held large freed blocks in
 * fragments; the caching CPU allocator (native/src/cpu_allocator.cpp) maps no more than is in
 * use, and the measured peaks fell by 107–174 MB.
 */
const WORKSPACE_BYTES = 50 * MB;

function generatorActivations(o: NetworkOptions, h: number, w: number, recompute: boolean): number {
  const levels = o.netG === 'local' ? o.n_local_enhancers : 0;
  let total = 0;
  // G1 at the coarsest scale, with ngf doubled per enhancer.
  const gh = h / 2 ** levels;
  const gw = w / 2 ** levels;
  const ngf1 = o.ngf * 2 ** levels;
  total += stage(ngf1, gh, gw) + generatorInputChannels(o) * gh * gw;
  for (let i = 1; i <= o.n_downsample_global; i++) total += 2 * stage(ngf1 * 2 ** i, gh / 2 ** i, gw / 2 ** i);
  const bottom = o.n_downsample_global;
  total += o.n_blocks_global * residualBlock(recompute, ngf1 * 2 ** bottom, gh / 2 ** bottom, gw / 2 ** bottom);
  // Each enhancer: front end at its scale, residual blocks at half of it, upsampling.
  for (let l = levels - 1; l >= 0; l--) {
    const eh = h / 2 ** l;
    const ew = w / 2 ** l;
    const ngf = o.ngf * 2 ** l;
    total += 2 * stage(ngf, eh, ew) + stage(2 * ngf, eh / 2, ew / 2);
    total += o.n_blocks_local * residualBlock(recompute, 2 * ngf, eh / 2, ew / 2);
  }
  return total;
}

/**
 * One pass of the multi-scale D. `backpropagated`: a pass whose graph was back-propagated and
 * freed already (--D_real_first on the real image): its input and what only the backward needed
 * go, two tensors a stage less (measured: the peak drops by the input and 1.3 to 2.3 tensors a
 * stage; the layers' outputs stay, for feature matching).
 */
function discriminatorActivations(o: NetworkOptions, h: number, w: number, channels: number, backpropagated = false): number {
  let total = 0;
  const ndf = o.ndf ?? 64;
  for (let s = 0; s < (o.num_D ?? 2); s++) {
    const sh = h / 2 ** s;
    const sw = w / 2 ** s;
    if (!backpropagated) total += channels * sh * sw;
    let c = ndf;
    for (let l = 0; l <= (o.n_layers_D ?? 3); l++) {
      const f = 2 ** Math.min(l + 1, o.n_layers_D ?? 3);
      total += stage(Math.min(c, 512), sh / f, sw / f) * (backpropagated ? 3 / 5 : 1);
      c *= 2;
    }
  }
  return total;
}

function vggActivations(h: number, w: number): number {
  const blocks: [number, number][] = [[64, 2], [128, 2], [256, 4], [512, 4], [512, 1]];
  // Block i runs at 1/2^i of the image's height and width.
  return blocks.reduce((sum, [c, n], i) => sum + 2 * n * c * (h / 2 ** i) * (w / 2 ** i), 0);
}

export function estimateMemory(
  o: NetworkOptions & { batchSize: number; no_vgg_loss: boolean; recompute_blocks?: boolean; D_real_first?: boolean },
  parameters: Record<string, number>,
  size: { height: number; width: number },
): MemoryEstimate {
  const recompute = o.recompute_blocks ?? false;
  const copies = (net: string) => (net === 'D' ? 4 : 3);
  // With --recompute_blocks the gradients of G's parameters outside the blocks are summed over the
  // backward's portions before the update (src/torch/checkpoint.ts): one more copy of those.
  const heldGradients = recompute && parameters.G !== undefined ? Math.max(0, parameters.G - residualBlockParameters(o)) : 0;
  const parameterBytes = Object.entries(parameters).reduce((sum, [net, n]) => sum + n * 4 * copies(net), 0) + heldGradients * 4;
  const { height: h, width: w } = size;
  const perImage = generatorActivations(o, h, w, recompute)
    + discriminatorActivations(o, h, w, labelChannels(o) + o.output_nc)
    + discriminatorActivations(o, h, w, labelChannels(o) + o.output_nc, o.D_real_first ?? false)
    + (o.no_vgg_loss ? 0 : vggActivations(h, w));
  const activationBytes = perImage * 4 * o.batchSize;
  const vggWeightBytes = o.no_vgg_loss ? 0 : VGG19_LOSS_PARAMETERS * 4;
  const totalBytes = parameterBytes + vggWeightBytes + activationBytes + WORKSPACE_BYTES;
  const counts = Object.entries(parameters).map(([k, n]) => `${k} ${(n / 1e6).toFixed(2)}M`).join(', ');
  const summary =
    `parameters: ${counts}; with Adam state (and D's gradients) ≈ ${(parameterBytes / MB).toFixed(0)} MB\n` +
    `activations at ${w}×${h}, batch ${o.batchSize}${recompute ? ', G\'s residual blocks recomputed in the backward (--recompute_blocks)' : ''}` +
    `${o.D_real_first ? ', D\'s real pass back-propagated first (--D_real_first)' : ''}: ` +
    `≈ ${(activationBytes / MB).toFixed(0)} MB (an estimate, float32, validated against measured peaks on the CPU; ` +
    `lower it with ${recompute ? '' : '--recompute_blocks, '}${o.D_real_first ? '' : '--D_real_first, '}a smaller --ngf/--ndf, --resize_or_crop crop with a smaller --fineSize, --batchSize, or --no_vgg_loss); ` +
    `in all ≈ ${(totalBytes / MB).toFixed(0)} MB with ${vggWeightBytes ? 'the VGG19 weights and ' : ''}libtorch's working memory`;
  return { parameterBytes, vggWeightBytes, activationBytes, workspaceBytes: WORKSPACE_BYTES, totalBytes, summary };
}
