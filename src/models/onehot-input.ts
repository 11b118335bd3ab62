// G's input says which of its channels are a one-hot label map and a 0/1 boundary map; where it
// does, G's opening convolution (reflection pad + K×K conv over the full-resolution input) runs as
// weight-column lookups (F.onehotConv2d) instead of multiplying the label_nc + 1 channels, all but
// one or two of them zero, at every pixel: the same function up to the order of the sums. The
// feature channels after them (feature runs) still go through a dense convolution.
import { F, nn, type Tensor } from '../torch/index.js';

/** What the first channels of G's input are, as built by encodeInput: one-hot(labels) ++ edges. */
export interface OnehotLayout {
  /** Class ids [N, H, W], int64, in [0, labelNc). */
  labels: Tensor;
  /** The instance boundary map [N, H, W] (0 or 1) of the input's dtype, or null with no_instance. */
  edges: Tensor | null;
  labelNc: number;
}

/** The layout padded as synthesis pads G's input (edge replication on the right and bottom). */
export function padLayout(layout: OnehotLayout, padW: number, padH: number): OnehotLayout {
  // Class ids are exact in float32 (below 2^24).
  const pad = (t: Tensor) => F.pad(t.unsqueeze(1).float(), [0, padW, 0, padH], 'replicate').squeeze(1);
  return {
    labels: pad(layout.labels).long(),
    edges: layout.edges ? pad(layout.edges).to(layout.edges.device, { dtype: layout.edges.dtype }) : null,
    labelNc: layout.labelNc,
  };
}

/** Set PIX2PIXHD_DENSE_INPUT_CONV=1 to run the opening convolution densely (benchmarks, checks). */
const denseOnly = () => process.env.PIX2PIXHD_DENSE_INPUT_CONV === '1';

/**
 * pad → conv on x, the generator's opening layers: by lookups where `layout` describes x and the
 * layers are a reflection pad of K/2 and a plain stride-1 K×K convolution on the CPU in float32
 * or float64; otherwise the two layers as they are.
 */
export function openingConv(pad: nn.Layer, conv: nn.Layer, x: Tensor, layout: OnehotLayout | null): Tensor {
  if (!layout || !canUseLookups(pad, conv, x, layout)) return conv.forward(pad.forward(x));
  const c = conv as nn.Conv2d;
  const columns = layout.labelNc + (layout.edges ? 1 : 0);
  let y = F.onehotConv2d(layout.labels, layout.edges, c.weight, layout.labelNc);
  const rest = x.size(1) - columns;
  if (rest > 0) {
    const dense = F.conv2d(pad.forward(x.narrow(1, columns, rest)), c.weight.narrow(1, columns, rest));
    y = y.add_(dense);
  }
  return c.bias ? y.add_(c.bias.view([1, -1, 1, 1])) : y;
}

function canUseLookups(pad: nn.Layer, conv: nn.Layer, x: Tensor, layout: OnehotLayout): boolean {
  if (denseOnly() || !(pad instanceof nn.ReflectionPad2d) || !(conv instanceof nn.Conv2d)) return false;
  const [kh, kw] = conv.kernelSize;
  const o = conv.opts;
  const ones = (v: unknown) => v === undefined || v === 1 || (Array.isArray(v) && v.every((e) => e === 1));
  const zeros = (v: unknown) => v === undefined || v === 0 || (Array.isArray(v) && v.every((e) => e === 0));
  const columns = layout.labelNc + (layout.edges ? 1 : 0);
  return kh === kw && kh % 2 === 1 && pad.padding.every((p) => p === (kh - 1) / 2) &&
    ones(o.stride) && ones(o.dilation) && zeros(o.padding) && (o.groups ?? 1) === 1 &&
    x.device === 'cpu' && (x.dtype === 'float32' || x.dtype === 'float64') && conv.weight.dtype === x.dtype &&
    x.size(1) >= columns && conv.inChannels === x.size(1) &&
    (layout.edges === null || layout.edges.dtype === x.dtype);
}
