// E, the instance-feature encoder of a feature run, as an ONNX model: what features/encode.ts
// encodeFeatures computes, for a client that wants an object's features from its own photo.
//
//   inputs   image  float [1, C, H, W] the photo in [-1, 1] (C: G's output_nc, E's input)
//            inst   int64 [1, 1, H, W] the map E averages over: instance ids (label_feat runs: class ids)
//   output   feat   float [1, feat_num, H, W], every pixel its instance's mean feature
//
// H and W are free: the photo is padded by edge replication to the next multiple of E's
// downsampling (2^n_downsample_E) and E's output cropped back, as encodeFeatures does. Then the
// mean per id, for any ids: Unique gives every pixel its id's rank and every id its pixel count;
// ScatterElements (reduction add) sums the features per rank, the sums are divided by the counts
// and gathered back to the pixels. One image at a time (N is 1).
import type { Encoder } from '../models/encoder.js';
import type { NetworkOptions } from '../models/network-options.js';
import { noGrad } from '../torch/index.js';
import { GraphBuilder, valueInfo } from './graph-builder.js';
import { projectModel, type ExportOptions } from './generator-model.js';
import { emitModule } from './module-graph.js';
import { cropTo, padToMultiple } from './padding.js';
import { DataType } from './proto.js';

/** The mean of `x` [1, C, H, W] over the pixels of each id of `ids` [1, 1, H, W], into the value named `output`. */
function instanceMean(g: GraphBuilder, x: string, ids: string, c: number, output: string): void {
  const flatIds = g.node('Reshape', [ids, g.ints('flat', [-1])], {}, 'ids_flat');
  const [unique, , rank, counts] = g.nodeN('Unique', [flatIds], { sorted: 1 }, 'ids_unique', 4) as [string, string, string, string];
  const pixels = g.node('Transpose', [g.node('Reshape', [x, g.ints('c_by_pixels', [c, -1])], {}, 'features_flat')], { perm: [1, 0] }, 'pixels');
  const rankPerChannel = g.node('Expand', [g.node('Unsqueeze', [rank, g.ints('axis1', [1])], {}, 'rank_column'), g.node('Shape', [pixels], {}, 'pixels_shape')], {}, 'rank_per_channel');
  const zeros = g.node('Expand', [
    g.floats('zero', [0], [1, 1]),
    g.node('Concat', [g.node('Shape', [unique], {}, 'ids_count'), g.ints('channels', [c])], { axis: 0 }, 'sums_shape'),
  ], {}, 'zeros');
  const sums = g.node('ScatterElements', [zeros, rankPerChannel, pixels], { axis: 0, reduction: 'add' }, 'sums');
  const count = g.node('Unsqueeze', [g.node('Cast', [counts], { to: DataType.FLOAT }, 'counts_float'), g.ints('axis1_counts', [1])], {}, 'counts_column');
  const means = g.node('Div', [sums, count], {}, 'means');
  const back = g.node('Transpose', [g.node('Gather', [means, rank], { axis: 0 }, 'pixel_means')], { perm: [1, 0] }, 'pixel_means_by_channel');
  g.nodes.push({ op_type: 'Reshape', name: 'to_feature_map', input: [back, g.node('Shape', [x], {}, 'feature_shape')], output: [output], attribute: [] });
}

/** E (in eval mode) as ONNX model bytes; see the file's comment for inputs and output. */
export function exportEncoder(E: Encoder, o: NetworkOptions, opts: ExportOptions = {}): Uint8Array {
  const g = new GraphBuilder(opts.fp16 ?? false);
  for (const name of ['image', 'inst', 'feat']) g.fresh(name);
  const inputNc = E.opts.input_nc;
  const featNum = E.opts.output_nc;
  const multiple = 2 ** (E.opts.n_downsample_E ?? 4);
  const { padded, hw } = padToMultiple(g, 'image', multiple);
  const wasTraining = E.training;
  E.eval();
  let out: string;
  try {
    out = noGrad(() => emitModule(g, E.model, padded, 'model'));
  } finally {
    if (wasTraining) E.train();
  }
  const encoded = g.fresh('encoded');
  cropTo(g, out, hw, encoded);
  instanceMean(g, encoded, 'inst', featNum, 'feat');
  const groups = o.label_feat ? 'class ids (label_feat)' : 'instance ids';
  const graph = g.graph('pix2pixhd_encoder', [
    valueInfo('image', DataType.FLOAT, [1, inputNc, 'H', 'W'], 'the photo in [-1, 1]'),
    valueInfo('inst', DataType.INT64, [1, 1, 'H', 'W'], `${groups}: the features are averaged over each id's pixels`),
  ], [
    valueInfo('feat', DataType.FLOAT, [1, featNum, 'H', 'W'], 'the instance-wise averaged feature map'),
  ], 'pix2pixHD feature encoder E with its padding to its size multiple and the mean over each instance');
  return projectModel(graph, opts, [
    { key: 'pix2pixhd.model', value: 'encoder' }, { key: 'pix2pixhd.feat_num', value: String(featNum) },
    { key: 'pix2pixhd.input_nc', value: String(inputNc) }, { key: 'pix2pixhd.groups', value: o.label_feat ? 'classes' : 'instances' },
    { key: 'pix2pixhd.size_multiple', value: String(multiple) },
  ]);
}
