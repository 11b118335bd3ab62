// The project's own module tree as ONNX nodes: each layer kind the generators are built from has
// one emitter, and containers (Sequential, ResnetBlock, GlobalGenerator, LocalEnhancer) recurse,
// so the graph is the module tree and the weights are the modules' own tensors. Everything runs
// in eval mode (dropout off, batch norm on running statistics), as synthesis does.
import { GlobalGenerator, LocalEnhancer, ResnetBlock } from '../models/index.js';
import { SpectralNormConv2d, SpectralNormConvTranspose2d } from '../models/spectral-norm.js';
import { nn, type Tensor } from '../torch/index.js';
import type { GraphBuilder } from './graph-builder.js';

type Pair = number | readonly [number, number];
const pair = (v: Pair | undefined, fallback: number): [number, number] =>
  v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

/** torch pads (left, right, top, bottom) of a 4-D tensor → ONNX pads (begins of N, C, H, W, then ends). */
function onnxPads(p: readonly number[]): number[] {
  const [left, right, top, bottom] = p as [number, number, number, number];
  return [0, 0, top, left, 0, 0, bottom, right];
}

/** A convolution as synthesis sees it: plain, or spectrally normalised (its weight divided by σ, stored as `weight`). */
interface ConvView { weight: Tensor; bias: Tensor | null; kernelSize: [number, number]; opts: nn.ConvOptions & { outputPadding?: Pair } }

function normalisedConv(m: SpectralNormConv2d | SpectralNormConvTranspose2d, emit: (view: ConvView) => string): string {
  const weight = m.inferenceWeight();
  try {
    return emit({ weight, bias: m.bias, kernelSize: m.kernelSize, opts: m.convOpts });
  } finally {
    weight.dispose();
  }
}

function conv(g: GraphBuilder, m: ConvView, x: string, stem: string): string {
  const [ph, pw] = pair(m.opts.padding, 0);
  const inputs = [x, g.weight(`${stem}.weight`, m.weight)];
  if (m.bias) inputs.push(g.weight(`${stem}.bias`, m.bias));
  return g.node('Conv', inputs, {
    kernel_shape: m.kernelSize, strides: pair(m.opts.stride, 1), pads: [ph, pw, ph, pw],
    dilations: pair(m.opts.dilation, 1), group: m.opts.groups ?? 1,
  }, stem);
}

function convTranspose(g: GraphBuilder, m: ConvView, x: string, stem: string): string {
  const [ph, pw] = pair(m.opts.padding, 0);
  const inputs = [x, g.weight(`${stem}.weight`, m.weight)];
  if (m.bias) inputs.push(g.weight(`${stem}.bias`, m.bias));
  return g.node('ConvTranspose', inputs, {
    kernel_shape: m.kernelSize, strides: pair(m.opts.stride, 1), pads: [ph, pw, ph, pw],
    output_padding: pair(m.opts.outputPadding, 0), dilations: pair(m.opts.dilation, 1), group: m.opts.groups ?? 1,
  }, stem);
}

function instanceNorm(g: GraphBuilder, m: nn.InstanceNorm2d, x: string, stem: string): string {
  if (m.runningMean) throw new Error(`${stem}: instance norm with running statistics has no ONNX equivalent here`);
  const c = m.numFeatures;
  // ONNX's InstanceNormalization always takes a scale and a bias: ones and zeros without affine.
  const scale = m.weight ? g.weight(`${stem}.weight`, m.weight) : g.floats(`${stem}.ones`, new Float32Array(c).fill(1), [c]);
  const bias = m.bias ? g.weight(`${stem}.bias`, m.bias) : g.floats(`${stem}.zeros`, new Float32Array(c), [c]);
  return g.node('InstanceNormalization', [x, scale, bias], { epsilon: { float: m.opts.eps ?? 1e-5 } }, stem);
}

function batchNorm(g: GraphBuilder, m: nn.BatchNorm2d, x: string, stem: string): string {
  const c = m.numFeatures;
  if (!m.runningMean || !m.runningVar) throw new Error(`${stem}: batch norm without running statistics cannot be exported for synthesis`);
  const scale = m.weight ? g.weight(`${stem}.weight`, m.weight) : g.floats(`${stem}.ones`, new Float32Array(c).fill(1), [c]);
  const bias = m.bias ? g.weight(`${stem}.bias`, m.bias) : g.floats(`${stem}.zeros`, new Float32Array(c), [c]);
  return g.node('BatchNormalization', [
    x, scale, bias, g.floats(`${stem}.running_mean`, m.runningMean.toFloat32Array(), [c]), g.floats(`${stem}.running_var`, m.runningVar.toFloat32Array(), [c]),
  ], { epsilon: { float: m.opts.eps ?? 1e-5 } }, stem);
}

function pad(g: GraphBuilder, m: nn.ReflectionPad2d | nn.ReplicationPad2d | nn.ZeroPad2d, x: string, stem: string): string {
  const mode = m instanceof nn.ReflectionPad2d ? 'reflect' : m instanceof nn.ReplicationPad2d ? 'edge' : 'constant';
  return g.node('Pad', [x, g.ints(`${stem}.pads`, onnxPads(m.padding))], { mode }, stem);
}

/** G2's 2× downsampling, the twin of models/local-enhancer.ts downsample2x: 3×3 average over the pixels inside, stride 2. */
export function emitDownsample2x(g: GraphBuilder, x: string, stem: string): string {
  return g.node('AveragePool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 0 }, stem);
}

function localEnhancer(g: GraphBuilder, m: LocalEnhancer, x: string, stem: string): string {
  const n = m.nLocalEnhancers;
  const pyramid = [x];
  for (let i = 0; i < n; i++) pyramid.push(emitDownsample2x(g, pyramid[i]!, `${stem}input_down${i + 1}`));
  let features = emitModule(g, m.model, pyramid[n]!, `${stem}model`);
  for (let k = 1; k <= n; k++) {
    const front = emitModule(g, child(m, `model${k}_1`), pyramid[n - k]!, `${stem}model${k}_1`);
    const sum = g.node('Add', [front, features], {}, `${stem}model${k}_sum`);
    features = emitModule(g, child(m, `model${k}_2`), sum, `${stem}model${k}_2`);
  }
  return features;
}

function child(m: nn.Module, name: string): nn.Module {
  const c = m.child(name);
  if (!c) throw new Error(`internal error: ${m.reprName()} has no child '${name}'`);
  return c;
}

/**
 * Emits module `m` applied to the value named `x`; returns the output's name. `stem` is the
 * module's state-dict prefix, so initializers carry the checkpoint's own names.
 */
export function emitModule(g: GraphBuilder, m: nn.Module, x: string, stem = ''): string {
  const sub = (name: string) => (stem ? `${stem}.${name}` : name);
  if (m instanceof nn.Sequential) {
    return m.layers.reduce((y, layer, i) => emitModule(g, layer, y, sub(String(i))), x);
  }
  if (m instanceof GlobalGenerator) return emitModule(g, m.model, x, sub('model'));
  if (m instanceof LocalEnhancer) return localEnhancer(g, m, x, stem ? `${stem}.` : '');
  if (m instanceof ResnetBlock) return g.node('Add', [x, emitModule(g, m.conv_block, x, sub('conv_block'))], {}, sub('add'));
  if (m instanceof nn.Conv2d) return conv(g, m, x, stem);
  if (m instanceof nn.ConvTranspose2d) return convTranspose(g, m, x, stem);
  if (m instanceof SpectralNormConv2d) return normalisedConv(m, (view) => conv(g, view, x, stem));
  if (m instanceof SpectralNormConvTranspose2d) return normalisedConv(m, (view) => convTranspose(g, view, x, stem));
  if (m instanceof nn.InstanceNorm2d) return instanceNorm(g, m, x, stem);
  if (m instanceof nn.BatchNorm2d) return batchNorm(g, m, x, stem);
  if (m instanceof nn.ReflectionPad2d || m instanceof nn.ReplicationPad2d || m instanceof nn.ZeroPad2d) return pad(g, m, x, stem);
  if (m instanceof nn.ReLU) return g.node('Relu', [x], {}, `${stem}.relu`);
  if (m instanceof nn.LeakyReLU) return g.node('LeakyRelu', [x], { alpha: { float: m.negativeSlope } }, `${stem}.leaky_relu`);
  if (m instanceof nn.Tanh) return g.node('Tanh', [x], {}, `${stem}.tanh`);
  if (m instanceof nn.Dropout || m instanceof nn.Identity) return x;
  if (m instanceof nn.AvgPool2d) {
    const [ph, pw] = pair(m.opts.padding, 0);
    return g.node('AveragePool', [x], {
      kernel_shape: pair(m.kernelSize, 1), strides: pair(m.opts.stride ?? m.kernelSize, 1), pads: [ph, pw, ph, pw],
      count_include_pad: m.opts.countIncludePad === false ? 0 : 1, ceil_mode: m.opts.ceilMode ? 1 : 0,
    }, stem);
  }
  throw new Error(`ONNX export: no emitter for ${m.reprName()} (at '${stem || 'the top'}')`);
}
