// What a configuration needs before it runs: parameter memory (weights and Adam's two moments,
// plus gradients for D: G and E are updated inside their backward pass and keep none) and a rough activation estimate from the layer shapes at the training size, so a
// user learns to lower ngf, the crop size or the batch before running out of memory, not after.
// Measured against the CPU's resident peak (test/train/memory-peak.test.ts). On CUDA and with
// --fp16 what changes is modelled below (cudaTerms, the fp16 arithmetic), with constants that are
// assumptions until scripts/gpu-check.ts has measured them.
import type { NetworkOptions } from '../models/from-options.js';
import { generatorInputChannels, labelChannels } from '../models/from-options.js';

export interface MemoryEstimate {
  /** Weights, Adam's moments and the gradients kept (float32 under --fp16 too). */
  parameterBytes: number;
  /** Tensors saved for the backward (half precision where autocast casts, with --fp16). */
  activationBytes: number;
  /** --fp16: the half-precision copies of the weights that autocast casts for G's, D's and VGG's convolutions, held by the graph until the backward. */
  castWeightBytes: number;
  /** The frozen VGG19 of the perceptual loss (its weights only: no gradients, no Adam state). */
  vggWeightBytes: number;
  /** libtorch's own working memory during a step (convolution workspaces, pools): measured on the CPU, assumed on CUDA (CUDA_WORKSPACE_BYTES). */
  workspaceBytes: number;
  /**
   * What the tensors of a step take at its peak: on CUDA what the caching allocator reports as its
   * peak allocated bytes (torch.cuda.max_memory_allocated); on the CPU the same as totalBytes.
   */
  allocatedBytes: number;
  /** CUDA: what the caching allocator reserves beyond what it hands out (CUDA_ALLOCATOR_SLACK, assumed); 0 on the CPU. */
  allocatorSlackBytes: number;
  /** CUDA: the context, with cuDNN's and cuBLAS's code loaded (CUDA_CONTEXT_BYTES, assumed); 0 on the CPU. */
  contextBytes: number;
  /**
   * All of these: what the training process needs beyond its runtime (CPU: compared with a measured
   * resident peak in test/train/memory-peak.test.ts), or of the GPU (CUDA).
   */
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

// CUDA. Assumptions until scripts/gpu-check.ts measures them (it prints each beside the figure):
/** cuDNN's convolution workspaces and cuBLAS's, allocated through the caching allocator. */
export const CUDA_WORKSPACE_BYTES = 256 * MB;
/**
 * The CUDA context with cuDNN's and cuBLAS's kernels loaded (lazily, as CUDA ≥ 11.7 loads modules):
 * memory the device spends outside the caching allocator, commonly 0.5–1 GB.
 */
export const CUDA_CONTEXT_BYTES = 768 * MB;
/**
 * What the caching allocator reserves beyond the peak it hands out, as a fraction of that peak: it
 * rounds each block to 512 bytes (nothing, at these sizes) but carves blocks from segments of 2 MiB
 * (blocks under 1 MiB), 20 MiB (under 10 MiB) or the block rounded up to 2 MiB, and freed blocks
 * are reused only where they fit (fragmentation).
 */
export const CUDA_ALLOCATOR_SLACK = 0.1;

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

const VGG_BLOCKS: [number, number][] = [[64, 2], [128, 2], [256, 4], [512, 4], [512, 1]];

/**
 * The VGG loss: about two tensors a conv layer of the fake's pass. With --recompute_vgg only the
 * five feature maps of the fake stay (the slices' outputs, which the L1 terms save), and of the
 * real image's, which they save too; the rest lives again one slice at a time in the backward.
 */
function vggActivations(h: number, w: number, recompute: boolean): number {
  if (recompute) return VGG_BLOCKS.reduce((sum, [c], i) => sum + 2 * c * (h / 2 ** i) * (w / 2 ** i), 0);
  // Block i runs at 1/2^i of the image's height and width.
  return VGG_BLOCKS.reduce((sum, [c, n], i) => sum + 2 * n * c * (h / 2 ** i) * (w / 2 ** i), 0);
}

/**
 * --fp16: elements the L1 losses keep in float32. Autocast runs l1_loss in float32, which casts
 * both feature maps and saves their difference for the backward: one float32 tensor per term, for
 * each of the VGG loss's five features (relu1_1 … relu5_1, at 1/2^i) and each of D's intermediate
 * outputs (feature matching), on top of their half-precision selves.
 */
function l1DifferenceElements(o: NetworkOptions, h: number, w: number, vgg: boolean): number {
  let total = vgg ? VGG_BLOCKS.reduce((sum, [c], i) => sum + c * (h / 2 ** i) * (w / 2 ** i), 0) : 0;
  const ndf = o.ndf ?? 64;
  const layers = o.n_layers_D ?? 3;
  for (let s = 0; s < (o.num_D ?? 2); s++) {
    let c = ndf;
    for (let l = 0; l <= layers; l++) {
      const f = 2 ** Math.min(l + 1, layers);
      total += Math.min(c, 512) * (h / 2 ** s / f) * (w / 2 ** s / f);
      c *= 2;
    }
  }
  return total;
}

export interface EstimateOptions extends NetworkOptions {
  batchSize: number;
  no_vgg_loss: boolean;
  recompute_blocks?: boolean;
  D_real_first?: boolean;
  /** --recompute_vgg: the VGG loss's slices recomputed in the backward. */
  recompute_vgg?: boolean;
  /** Where the step runs: 'cpu' (default) or a CUDA device ('cuda', 'cuda:1'). */
  device?: string;
  /** --fp16: autocast's half precision in the forward, dynamic loss scaling. */
  fp16?: boolean;
}

/**
 * The estimate. With --fp16 (autocast): weights, gradients and Adam's moments stay float32, and G
 * keeps its gradients (an update may be skipped on overflow, known only once all are in, so G is
 * not updated inside its backward); the convolutions' inputs and outputs, and so the norms' and
 * activations' that follow them, are saved in half precision (the norms' statistics are float32
 * but per channel, nothing here): activations at 2 bytes, plus what the float32 losses keep
 * (l1DifferenceElements); and one half copy of every convolution weight (G, D, VGG), made by
 * autocast and held by the graph until the backward.
 */
export function estimateMemory(o: EstimateOptions, parameters: Record<string, number>, size: { height: number; width: number }): MemoryEstimate {
  const recompute = o.recompute_blocks ?? false;
  const fp16 = o.fp16 ?? false;
  const cuda = (o.device ?? 'cpu').startsWith('cuda');
  // Weights and two moments; D's gradients always, G's and E's under --fp16 too.
  const copies = (net: string) => (net === 'D' || fp16 ? 4 : 3);
  // With --recompute_blocks the gradients of G's parameters outside the blocks are summed over the
  // backward's portions before the update (src/torch/checkpoint.ts): one more copy of those.
  const heldGradients = recompute && !fp16 && parameters.G !== undefined ? Math.max(0, parameters.G - residualBlockParameters(o)) : 0;
  const parameterBytes = Object.entries(parameters).reduce((sum, [net, n]) => sum + n * 4 * copies(net), 0) + heldGradients * 4;
  const { height: h, width: w } = size;
  const perImage = generatorActivations(o, h, w, recompute)
    + discriminatorActivations(o, h, w, labelChannels(o) + o.output_nc)
    + discriminatorActivations(o, h, w, labelChannels(o) + o.output_nc, o.D_real_first ?? false)
    + (o.no_vgg_loss ? 0 : vggActivations(h, w, o.recompute_vgg ?? false));
  const activationBytes = (fp16 ? perImage * 2 + l1DifferenceElements(o, h, w, !o.no_vgg_loss) * 4 : perImage * 4) * o.batchSize;
  const vggParameters = o.no_vgg_loss ? 0 : VGG19_LOSS_PARAMETERS;
  const vggWeightBytes = vggParameters * 4;
  const castWeightBytes = fp16 ? 2 * ((parameters.G ?? 0) + (parameters.D ?? 0) + vggParameters) : 0;
  const workspaceBytes = cuda ? CUDA_WORKSPACE_BYTES : WORKSPACE_BYTES;
  const allocatedBytes = parameterBytes + vggWeightBytes + castWeightBytes + activationBytes + workspaceBytes;
  const allocatorSlackBytes = cuda ? Math.round(CUDA_ALLOCATOR_SLACK * allocatedBytes) : 0;
  const contextBytes = cuda ? CUDA_CONTEXT_BYTES : 0;
  const totalBytes = allocatedBytes + allocatorSlackBytes + contextBytes;
  const counts = Object.entries(parameters).map(([k, n]) => `${k} ${(n / 1e6).toFixed(2)}M`).join(', ');
  const mb = (n: number) => (n / MB).toFixed(0);
  const summary =
    `parameters: ${counts}; with Adam state (and ${fp16 ? 'the gradients' : 'D\'s gradients'}) ≈ ${mb(parameterBytes)} MB` +
    `${fp16 ? `, and their float16 copies under autocast ≈ ${mb(castWeightBytes)} MB` : ''}\n` +
    `activations at ${w}×${h}, batch ${o.batchSize}${recompute ? ', G\'s residual blocks recomputed in the backward (--recompute_blocks)' : ''}` +
    `${o.D_real_first ? ', D\'s real pass back-propagated first (--D_real_first)' : ''}` +
    `${o.recompute_vgg ? ', the VGG loss recomputed in the backward (--recompute_vgg)' : ''}: ` +
    `≈ ${mb(activationBytes)} MB (an estimate, ${fp16 ? 'float16 autocast' : 'float32'}, ${cuda ? 'validated on the CPU only, not yet on a GPU' : 'validated against measured peaks on the CPU'}; ` +
    `lower it with ${recompute ? '' : '--recompute_blocks, '}${o.D_real_first ? '' : '--D_real_first, '}${o.recompute_vgg || o.no_vgg_loss ? '' : '--recompute_vgg, '}${fp16 || !cuda ? '' : '--fp16, '}a smaller --ngf/--ndf, --resize_or_crop crop with a smaller --fineSize, --batchSize, or --no_vgg_loss); ` +
    (cuda
      ? `in all ≈ ${mb(totalBytes)} MB of the GPU: ${mb(allocatedBytes)} MB allocated at the peak with ${vggWeightBytes ? 'the VGG19 weights and ' : ''}cuDNN's workspaces, ` +
        `${mb(allocatorSlackBytes)} MB the caching allocator reserves beyond that and ${mb(contextBytes)} MB of CUDA context (both assumed)`
      : `in all ≈ ${mb(totalBytes)} MB with ${vggWeightBytes ? 'the VGG19 weights and ' : ''}libtorch's working memory`);
  return { parameterBytes, vggWeightBytes, castWeightBytes, activationBytes, workspaceBytes, allocatedBytes, allocatorSlackBytes, contextBytes, totalBytes, summary };
}
