// The layers pix2pixHD uses, with PyTorch's parameter names, shapes and default initialisation.
import { isGradEnabled, noGrad } from '../autograd.js';
import { empty, ones, scalarTensor, zeros } from '../creation.js';
import * as F from '../functional.js';
import { tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';
import { pyBool, pyFloat, pyIntOrTuple, pyTuple } from './describe.js';
import { Layer } from './module.js';

type Pair = number | readonly [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** PyTorch's default conv init: kaiming_uniform(a=√5) for weights, U(±1/√fan_in) for biases. */
function defaultConvInit(weight: Tensor, bias: Tensor | null, fanIn: number): void {
  const bound = 1 / Math.sqrt(fanIn);
  noGrad(() => {
    weight.uniform_(-bound, bound);
    bias?.uniform_(-bound, bound);
  });
}

export interface ConvOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

/** torch's _ConvNd.extra_repr: the defaults it leaves out are padding 0, dilation 1, groups 1, a bias. */
function convRepr(
  inChannels: number, outChannels: number, kernelSize: readonly number[], opts: ConvOptions & { outputPadding?: Pair }, hasBias: boolean,
): string {
  const padding = pair(opts.padding ?? 0);
  const dilation = pair(opts.dilation ?? 1);
  const outputPadding = pair(opts.outputPadding ?? 0);
  let s = `${inChannels}, ${outChannels}, kernel_size=${pyTuple(kernelSize)}, stride=${pyTuple(pair(opts.stride ?? 1))}`;
  if (padding.some((p) => p !== 0)) s += `, padding=${pyTuple(padding)}`;
  if (dilation.some((d) => d !== 1)) s += `, dilation=${pyTuple(dilation)}`;
  if (outputPadding.some((p) => p !== 0)) s += `, output_padding=${pyTuple(outputPadding)}`;
  if ((opts.groups ?? 1) !== 1) s += `, groups=${opts.groups}`;
  if (!hasBias) s += ', bias=False';
  return s;
}

export class Conv2d extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, readonly opts: ConvOptions = {}) {
    super();
    const [kh, kw] = (this.kernelSize = pair(kernelSize));
    const groups = opts.groups ?? 1;
    this.weight = this.registerParameter('weight', empty([outChannels, inChannels / groups, kh, kw]))!;
    this.bias = this.registerParameter('bias', opts.bias === false ? null : empty([outChannels]));
    defaultConvInit(this.weight, this.bias, (inChannels / groups) * kh * kw);
  }
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, this.opts);
  }
  override extraRepr(): string {
    return convRepr(this.inChannels, this.outChannels, this.kernelSize, this.opts, this.bias !== null);
  }
}

export class ConvTranspose2d extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  constructor(
    readonly inChannels: number, readonly outChannels: number, kernelSize: Pair,
    readonly opts: ConvOptions & { outputPadding?: Pair } = {},
  ) {
    super();
    const [kh, kw] = (this.kernelSize = pair(kernelSize));
    const groups = opts.groups ?? 1;
    this.weight = this.registerParameter('weight', empty([inChannels, outChannels / groups, kh, kw]))!;
    this.bias = this.registerParameter('bias', opts.bias === false ? null : empty([outChannels]));
    // PyTorch computes fan_in from weight.size(1), which for a transposed conv is out/groups.
    defaultConvInit(this.weight, this.bias, (outChannels / groups) * kh * kw);
  }
  forward(x: Tensor): Tensor {
    return F.convTranspose2d(x, this.weight, this.bias, this.opts);
  }
  override extraRepr(): string {
    return convRepr(this.inChannels, this.outChannels, this.kernelSize, this.opts, this.bias !== null);
  }
}

export interface NormOptions {
  eps?: number;
  momentum?: number;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/** torch's _NormBase.extra_repr, with the defaults of the functional forms (eps 1e-5, momentum 0.1). */
function normRepr(numFeatures: number, opts: NormOptions, affine: boolean, track: boolean): string {
  return `${numFeatures}, eps=${pyFloat(opts.eps ?? 1e-5)}, momentum=${pyFloat(opts.momentum ?? 0.1)}, ` +
    `affine=${pyBool(affine)}, track_running_stats=${pyBool(track)}`;
}

export class InstanceNorm2d extends Layer {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  constructor(readonly numFeatures: number, readonly opts: NormOptions = {}) {
    super();
    const affine = opts.affine ?? false;
    const track = opts.trackRunningStats ?? false;
    this.weight = this.registerParameter('weight', affine ? ones([numFeatures]) : null);
    this.bias = this.registerParameter('bias', affine ? zeros([numFeatures]) : null);
    this.runningMean = this.registerBuffer('running_mean', track ? zeros([numFeatures]) : null);
    this.runningVar = this.registerBuffer('running_var', track ? ones([numFeatures]) : null);
    if (track) this.registerBuffer('num_batches_tracked', scalarTensor(0, { dtype: 'int64' }));
  }
  forward(x: Tensor): Tensor {
    return F.instanceNorm(x, {
      weight: this.weight, bias: this.bias, runningMean: this.runningMean, runningVar: this.runningVar,
      useInputStats: this.training || this.runningMean === null, momentum: this.opts.momentum, eps: this.opts.eps,
    });
  }
  override extraRepr(): string {
    return normRepr(this.numFeatures, this.opts, this.opts.affine ?? false, this.opts.trackRunningStats ?? false);
  }
  /**
   * Whether F.instanceNormInPlace computes this layer on `x`: inside withInPlaceNorms, without
   * autograd, no affine parameters or running statistics, a contiguous float CPU batch
   * (PIX2PIXHD_ATEN_INSTANCE_NORM=1: never).
   */
  normalizesInPlace(x: Tensor): boolean {
    if (inPlaceNormDepth === 0 || inPlaceNormOff || isGradEnabled() || this.weight !== null || this.runningMean !== null) return false;
    if (x.device !== 'cpu' || (x.dtype !== 'float32' && x.dtype !== 'float64')) return false;
    const shape = x.shape;
    const strides = x.strides();
    return shape.length === 4 && strides[3] === 1 && strides[2] === shape[3] && strides[1] === shape[2]! * shape[3]! && strides[0] === shape[1]! * strides[1]!;
  }
}

const inPlaceNormOff = process.env.PIX2PIXHD_ATEN_INSTANCE_NORM === '1';
const narrowConvOff = process.env.PIX2PIXHD_ATEN_NARROW_CONV === '1';

/**
 * Whether F.reflectConvNarrow computes `pad` then `conv` on `x`: inside withInPlaceNorms (synthesis),
 * without autograd, a K×K convolution (K odd, stride 1, no padding of its own) to at most 4 channels
 * after a reflection pad of K/2 on every side, float CPU tensors (PIX2PIXHD_ATEN_NARROW_CONV=1: never).
 */
function fusesIntoNarrowConv(pad: ReflectionPad2d, conv: Conv2d, x: Tensor): boolean {
  if (inPlaceNormDepth === 0 || narrowConvOff || isGradEnabled()) return false;
  const [kh, kw] = conv.kernelSize;
  const ones = (v: Pair | undefined) => v === undefined || (typeof v === 'number' ? v === 1 : v[0] === 1 && v[1] === 1);
  const zero = (v: Pair | undefined) => v === undefined || (typeof v === 'number' ? v === 0 : v[0] === 0 && v[1] === 0);
  return conv.outChannels <= 4 && kh === kw && kh % 2 === 1 && pad.padding.every((p) => p === (kh - 1) / 2) &&
    ones(conv.opts.stride) && ones(conv.opts.dilation) && zero(conv.opts.padding) && (conv.opts.groups ?? 1) === 1 &&
    x.device === 'cpu' && x.ndim === 4 && (x.dtype === 'float32' || x.dtype === 'float64') && conv.weight.dtype === x.dtype;
}
let inPlaceNormDepth = 0;

/**
 * Runs `fn` with nn.Sequential's in-place instance norms allowed (under no_grad). Opt-in, for
 * synthesis: the in-place norm rounds differently from ATen's, and other no_grad passes must
 * compute bit for bit what the graph does (a checkpointed segment's forward, whose recomputation
 * in the backward runs ATen's).
 */
export function withInPlaceNorms<T>(fn: () => T): T {
  inPlaceNormDepth++;
  try {
    return fn();
  } finally {
    inPlaceNormDepth--;
  }
}

export class BatchNorm2d extends Layer {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly numBatchesTracked: Tensor | null;
  constructor(readonly numFeatures: number, readonly opts: NormOptions = {}) {
    super();
    const affine = opts.affine ?? true;
    const track = opts.trackRunningStats ?? true;
    this.weight = this.registerParameter('weight', affine ? ones([numFeatures]) : null);
    this.bias = this.registerParameter('bias', affine ? zeros([numFeatures]) : null);
    this.runningMean = this.registerBuffer('running_mean', track ? zeros([numFeatures]) : null);
    this.runningVar = this.registerBuffer('running_var', track ? ones([numFeatures]) : null);
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', track ? scalarTensor(0, { dtype: 'int64' }) : null);
  }
  forward(x: Tensor): Tensor {
    const useBatchStats = this.training || this.runningMean === null;
    if (this.training && this.numBatchesTracked) noGrad(() => this.numBatchesTracked!.add_(1));
    return F.batchNorm(x, this.runningMean, this.runningVar, {
      weight: this.weight, bias: this.bias, training: useBatchStats, momentum: this.opts.momentum, eps: this.opts.eps,
    });
  }
  override extraRepr(): string {
    return normRepr(this.numFeatures, this.opts, this.opts.affine ?? true, this.opts.trackRunningStats ?? true);
  }
}

/**
 * With `inplace` (PyTorch's ReLU(inplace=True)) the input is overwritten: no new full-size
 * tensor per activation, valid wherever the input is not needed again (after a conv or a norm).
 */
export class ReLU extends Layer {
  constructor(readonly inplace = false) { super(); }
  forward(x: Tensor): Tensor { return this.inplace ? x.relu_() : x.relu(); }
  override extraRepr(): string { return this.inplace ? 'inplace=True' : ''; }
}

export class LeakyReLU extends Layer {
  constructor(readonly negativeSlope = 0.01, readonly inplace = false) { super(); }
  forward(x: Tensor): Tensor { return this.inplace ? x.leakyRelu_(this.negativeSlope) : x.leakyRelu(this.negativeSlope); }
  override extraRepr(): string { return `negative_slope=${pyFloat(this.negativeSlope)}${this.inplace ? ', inplace=True' : ''}`; }
}

export class Tanh extends Layer {
  forward(x: Tensor): Tensor { return x.tanh(); }
}

export class Sigmoid extends Layer {
  forward(x: Tensor): Tensor { return x.sigmoid(); }
}

export class Identity extends Layer {
  forward(x: Tensor): Tensor { return x; }
}

/** Pads all four sides of [N, C, H, W]; `padding` is one number or [left, right, top, bottom]. */
abstract class Pad2d extends Layer {
  readonly padding: number[];
  constructor(padding: number | readonly [number, number, number, number], private readonly mode: F.PadMode) {
    super();
    this.padding = typeof padding === 'number' ? [padding, padding, padding, padding] : [...padding];
  }
  forward(x: Tensor): Tensor { return F.pad(x, this.padding, this.mode); }
  /** torch's reflection, replication and zero pads print the (left, right, top, bottom) tuple alone. */
  override extraRepr(): string { return pyTuple(this.padding); }
}

export class ReflectionPad2d extends Pad2d {
  constructor(padding: number | readonly [number, number, number, number]) { super(padding, 'reflect'); }
}

export class ReplicationPad2d extends Pad2d {
  constructor(padding: number | readonly [number, number, number, number]) { super(padding, 'replicate'); }
}

export class ZeroPad2d extends Pad2d {
  constructor(padding: number | readonly [number, number, number, number]) { super(padding, 'constant'); }
}

export class AvgPool2d extends Layer {
  constructor(readonly kernelSize: Pair, readonly opts: { stride?: Pair; padding?: Pair; ceilMode?: boolean; countIncludePad?: boolean } = {}) {
    super();
  }
  forward(x: Tensor): Tensor { return F.avgPool2d(x, this.kernelSize, this.opts); }
  /** torch prints the arguments as given, the stride defaulting to the kernel size. */
  override extraRepr(): string {
    const { stride, padding } = this.opts;
    return `kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${pyIntOrTuple(stride ?? this.kernelSize)}, padding=${pyIntOrTuple(padding ?? 0)}`;
  }
}

export class MaxPool2d extends Layer {
  constructor(readonly kernelSize: Pair, readonly opts: { stride?: Pair; padding?: Pair; dilation?: Pair; ceilMode?: boolean } = {}) {
    super();
  }
  forward(x: Tensor): Tensor { return F.maxPool2d(x, this.kernelSize, this.opts); }
  override extraRepr(): string {
    const { stride, padding, dilation, ceilMode } = this.opts;
    return `kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${pyIntOrTuple(stride ?? this.kernelSize)}, ` +
      `padding=${pyIntOrTuple(padding ?? 0)}, dilation=${pyIntOrTuple(dilation ?? 1)}, ceil_mode=${pyBool(ceilMode ?? false)}`;
  }
}

export class Dropout extends Layer {
  constructor(readonly p = 0.5) { super(); }
  forward(x: Tensor): Tensor { return F.dropout(x, this.p, this.training); }
  override extraRepr(): string { return `p=${pyFloat(this.p)}, inplace=False`; }
}

/** Runs its layers in order; children are named 0, 1, 2, … as in PyTorch. */
export class Sequential extends Layer {
  readonly layers: Layer[];
  constructor(...layers: Layer[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => this.registerModule(String(i), l));
  }
  /**
   * Each intermediate output is freed as soon as the next layer has used it, as PyTorch frees an
   * activation whose last reference goes: under no_grad nothing else holds it, so synthesis keeps
   * two activations alive instead of every one of the network's; in training autograd keeps what
   * backward needs through its own references. Under no_grad inside withInPlaceNorms (synthesis) an
   * instance norm (and the ReLU after it) is computed in place on an intermediate, which nothing
   * else holds (InstanceNorm2d.normalizesInPlace).
   */
  forward(x: Tensor): Tensor {
    return this.forwardFrom(0, x);
  }

  /**
   * The layers from index `start` on (the caller ran the ones before it). `ownsInput`: the caller
   * made `x` for this call only, so it may be overwritten as an intermediate is, and its handle is
   * disposed once a layer has consumed it (autograd keeps what its backward needs).
   */
  forwardFrom(start: number, x: Tensor, ownsInput = false): Tensor {
    return tidy(() => {
      let y = x;
      const layers = this.layers;
      for (let i = start; i < layers.length; i++) {
        const l = layers[i]!;
        if ((y !== x || ownsInput) && l instanceof InstanceNorm2d && l.normalizesInPlace(y)) {
          const relu = layers[i + 1] instanceof ReLU;
          F.instanceNormInPlace(y, l.opts.eps ?? 1e-5, relu);
          if (relu) i++;
          continue;
        }
        const conv = layers[i + 1];
        if (l instanceof ReflectionPad2d && conv instanceof Conv2d && fusesIntoNarrowConv(l, conv, y)) {
          // The generators' last layer: reflection padding and a convolution to the image's channels, in one pass.
          const next = F.reflectConvNarrow(y, conv.weight, conv.bias);
          if (y !== x || ownsInput) y.dispose();
          y = next;
          i++;
          continue;
        }
        const next = l.forward(y);
        if ((y !== x || ownsInput) && next !== y) y.dispose();
        y = next;
      }
      return y;
    });
  }
}
