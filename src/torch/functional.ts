// Neural-network operations (torch.nn.functional): convolutions, normalisation, padding,
// pooling, resampling and losses.
import { native } from './native.js';
import { callOp, reductionArg, type Reduction, Tensor, wrapNative } from './tensor.js';

type Pair = number | readonly [number, number];
const pair = (v: Pair): number[] => (typeof v === 'number' ? [v, v] : [...v]);

/** PIX2PIXHD_CONV_GEMM=0: every float32 CPU convolution in oneDNN, the GEMM path below never. */
const gemmConvOff = process.env.PIX2PIXHD_CONV_GEMM === '0';

/**
 * Whether a convolution runs as im2col and one GEMM (ATen's thnn_conv2d, OpenBLAS) instead of
 * oneDNN: 1024 channels in and out over at most 512 output pixels, G1's residual blocks at up to
 * 1024×512. There oneDNN re-reads the 38 MB weight for each small block of pixels and reorders it
 * on every call, and the GEMM is 10–35% faster forward and back (2 threads; it loses below 1024
 * channels). Results equal oneDNN's to rounding.
 */
function takesGemmPath(input: Tensor, weight: Tensor, opts: { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number }): boolean {
  if (gemmConvOff || (opts.groups ?? 1) !== 1 || pair(opts.dilation ?? 1).some((d) => d !== 1)) return false;
  const [outC, inC, kh, kw] = weight.shape as [number, number, number, number];
  if (outC < 1024 || inC < 1024 || input.ndim !== 4 || input.dtype !== 'float32' || input.device !== 'cpu' || weight.dtype !== 'float32') return false;
  const [n, , h, w] = input.shape as [number, number, number, number];
  const [sh, sw] = pair(opts.stride ?? 1);
  const [ph, pw] = pair(opts.padding ?? 0);
  return n * (Math.floor((h + 2 * ph - kh) / sh) + 1) * (Math.floor((w + 2 * pw - kw) / sw) + 1) <= 512;
}

export function conv2d(
  input: Tensor, weight: Tensor, bias: Tensor | null = null,
  opts: { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number } = {},
): Tensor {
  if (takesGemmPath(input, weight, opts)) {
    const [, , kh, kw] = weight.shape as [number, number, number, number];
    return callOp('thnn_conv2d', [input, weight, [kh, kw], bias, pair(opts.stride ?? 1), pair(opts.padding ?? 0)]) as Tensor;
  }
  return callOp('conv2d', [input, weight, bias, pair(opts.stride ?? 1), pair(opts.padding ?? 0), pair(opts.dilation ?? 1), opts.groups ?? 1]) as Tensor;
}

/**
 * Instance norm without affine parameters, with the input's statistics, then ReLU where `relu`:
 * in place, in three passes over memory instead of five and no new tensor (native/src/instance_norm.cpp).
 * Inference only: `x` must not be needed by anything else, nor require a gradient under autograd.
 */
export function instanceNormInPlace(x: Tensor, eps = 1e-5, relu = false): Tensor {
  native.instanceNormInPlace(x.handle, eps, relu);
  return x;
}

/**
 * conv2d(reflectionPad(cat([oneHot(labels), edges]), K/2), weight[:, :labelNc (+1)]) without a
 * bias, computed as column lookups (native/src/onehot_conv.cpp): labels int64 [N, H, W] in
 * [0, labelNc), edges [N, H, W] of the weight's dtype or null; weight [Cout, Cin, K, K] (K odd,
 * CPU, float32 or float64), differentiable with respect to it. Equal to the dense convolution
 * up to the order of its sums.
 */
export function onehotConv2d(labels: Tensor, edges: Tensor | null, weight: Tensor, labelNc: number): Tensor {
  return wrapNative(native.onehotConv2d(weight.handle, labels.handle, edges ? edges.handle : null, labelNc));
}

/**
 * conv2d(pad(input, K/2, 'reflect'), weight, bias) for a weight [O ≤ 4, C, K, K] (K odd): the
 * generators' last layer, in one pass over the input with no padded copy (native/src/narrow_conv.cpp).
 * Inference only; float32 or float64 on the CPU. Equal to the padded convolution to rounding.
 */
export function reflectConvNarrow(input: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return wrapNative(native.reflectConvNarrow(input.handle, weight.handle, bias ? bias.handle : null));
}

/** PIX2PIXHD_ATEN_CONV_TRANSPOSE=1: transposed convolutions always on ATen's own path (benchmarks, checks). */
const atenConvTransposeOnly = process.env.PIX2PIXHD_ATEN_CONV_TRANSPOSE === '1';

/**
 * Transposed convolution; weight is [in, out/groups, kh, kw] as in PyTorch. float32 on the CPU
 * (groups 1) runs in oneDNN as a convolution's input gradient (native/src/conv_transpose.cpp),
 * where libtorch 1.13 would take its slow im2col path; equal to it to rounding.
 */
export function convTranspose2d(
  input: Tensor, weight: Tensor, bias: Tensor | null = null,
  opts: { stride?: Pair; padding?: Pair; outputPadding?: Pair; groups?: number; dilation?: Pair } = {},
): Tensor {
  if (!atenConvTransposeOnly && (opts.groups ?? 1) === 1 && input.ndim === 4 && input.dtype === 'float32' && input.device === 'cpu' && weight.dtype === 'float32') {
    return wrapNative(native.convTranspose2dMkldnn(
      input.handle, weight.handle, bias ? bias.handle : null, pair(opts.stride ?? 1), pair(opts.padding ?? 0), pair(opts.outputPadding ?? 0), pair(opts.dilation ?? 1),
    ));
  }
  return callOp('conv_transpose2d.input', [
    input, weight, bias, pair(opts.stride ?? 1), pair(opts.padding ?? 0), pair(opts.outputPadding ?? 0), opts.groups ?? 1, pair(opts.dilation ?? 1),
  ]) as Tensor;
}

/** Normalises each (item, channel) plane over its pixels; optional affine weight and bias. */
export function instanceNorm(
  input: Tensor, opts: { weight?: Tensor | null; bias?: Tensor | null; runningMean?: Tensor | null; runningVar?: Tensor | null; useInputStats?: boolean; momentum?: number; eps?: number } = {},
): Tensor {
  return callOp('instance_norm', [
    input, opts.weight ?? null, opts.bias ?? null, opts.runningMean ?? null, opts.runningVar ?? null,
    opts.useInputStats ?? true, opts.momentum ?? 0.1, opts.eps ?? 1e-5, false,
  ]) as Tensor;
}

/** Batch normalisation; in training it normalises by batch statistics and updates the running ones in place. */
export function batchNorm(
  input: Tensor, runningMean: Tensor | null, runningVar: Tensor | null,
  opts: { weight?: Tensor | null; bias?: Tensor | null; training?: boolean; momentum?: number; eps?: number } = {},
): Tensor {
  return callOp('batch_norm', [
    input, opts.weight ?? null, opts.bias ?? null, runningMean, runningVar, opts.training ?? false, opts.momentum ?? 0.1, opts.eps ?? 1e-5, false,
  ]) as Tensor;
}

export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';
/** pad = [left, right, top, bottom, …] from the last dimension backwards, as F.pad. */
export function pad(input: Tensor, padding: readonly number[], mode: PadMode = 'constant', value = 0): Tensor {
  if (mode === 'constant') return callOp('constant_pad_nd', [input, [...padding], value]) as Tensor;
  return callOp('pad', [input, [...padding], mode, null]) as Tensor;
}

export function avgPool2d(
  input: Tensor, kernelSize: Pair,
  opts: { stride?: Pair; padding?: Pair; ceilMode?: boolean; countIncludePad?: boolean } = {},
): Tensor {
  return callOp('avg_pool2d', [
    input, pair(kernelSize), pair(opts.stride ?? kernelSize), pair(opts.padding ?? 0), opts.ceilMode ?? false, opts.countIncludePad ?? true, null,
  ]) as Tensor;
}

export function maxPool2d(
  input: Tensor, kernelSize: Pair, opts: { stride?: Pair; padding?: Pair; dilation?: Pair; ceilMode?: boolean } = {},
): Tensor {
  return callOp('max_pool2d', [
    input, pair(kernelSize), pair(opts.stride ?? kernelSize), pair(opts.padding ?? 0), pair(opts.dilation ?? 1), opts.ceilMode ?? false,
  ]) as Tensor;
}

/** Resizes [N, C, H, W] to `size` ([h, w]) or by `scaleFactor`; nearest or bilinear. */
export function interpolate(
  input: Tensor,
  opts: { size?: readonly [number, number]; scaleFactor?: number | readonly [number, number]; mode?: 'nearest' | 'bilinear' | 'bicubic'; alignCorners?: boolean },
): Tensor {
  const mode = opts.mode ?? 'nearest';
  const size = opts.size ? [...opts.size] : null;
  const scales = size === null && opts.scaleFactor !== undefined ? pair(opts.scaleFactor) : null;
  if (size === null && scales === null) throw new Error('interpolate: give size or scaleFactor');
  if (mode === 'nearest') return callOp('upsample_nearest2d.vec', [input, size, scales]) as Tensor;
  const op = mode === 'bilinear' ? 'upsample_bilinear2d.vec' : 'upsample_bicubic2d.vec';
  return callOp(op, [input, size, opts.alignCorners ?? false, scales]) as Tensor;
}

export function l1Loss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return callOp('l1_loss', [input, target, reductionArg(reduction)]) as Tensor;
}

export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return callOp('mse_loss', [input, target, reductionArg(reduction)]) as Tensor;
}

/** Binary cross-entropy on probabilities in [0, 1]. */
export function bceLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return callOp('binary_cross_entropy', [input, target, null, reductionArg(reduction)]) as Tensor;
}

export function bceWithLogitsLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return callOp('binary_cross_entropy_with_logits', [input, target, null, null, reductionArg(reduction)]) as Tensor;
}

export function dropout(input: Tensor, p: number, training: boolean): Tensor {
  return callOp('dropout', [input, p, training]) as Tensor;
}
