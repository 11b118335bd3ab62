// A run's generator as an ONNX model a client runs with nothing but an ONNX runtime:
//
//   inputs   label  int64 [N, 1, H, W] class ids (label_nc 0: float [N, input_nc, H, W], the image)
//            inst   int64 [N, 1, H, W] instance ids (unless no_instance)
//            feat   float [N, feat_num, H, W] (feature runs)
//   output   image  float [N, output_nc, H, W] in [-1, 1]
//
// H and W are free. Inside the graph, exactly as models/input-encoding.ts and infer/synthesize.ts:
// one-hot(label) ++ instance edges ++ feat, padded by edge replication up to the next multiple of
// G's downsampling, G, and the output cropped back to H×W. The one difference: label ids outside
// [0, label_nc) are an error there and an all-zero one-hot here (a graph cannot throw), so clients
// check ids first (the editor and `test --onnx` do).
import type { Generator, NetworkOptions } from '../models/from-options.js';
import { noGrad } from '../torch/index.js';
import { GraphBuilder, valueInfo } from './graph-builder.js';
import { layoutMetadata, layoutOf } from './model-layout.js';
import { emitModule } from './module-graph.js';
import { cropTo, padToMultiple } from './padding.js';
import { DataType, encodeModel, type GraphProto } from './proto.js';

/** ONNX opset the graph is written against, and the IR version that goes with it. */
export const OPSET = 17;
export const IR_VERSION = 8;
const INT64_MAX = Number.MAX_SAFE_INTEGER;

/** One-hot channels: label == [0, 1, …, label_nc − 1] broadcast over the channel axis. */
function oneHot(g: GraphBuilder, label: string, labelNc: number): string {
  const ids = g.ints('class_ids', Array.from({ length: labelNc }, (_, i) => i), [1, labelNc, 1, 1]);
  return g.node('Cast', [g.node('Equal', [label, ids], {}, 'label_is_class')], { to: DataType.FLOAT }, 'one_hot');
}

/** models/input-encoding.ts instanceEdges: 1 where a 4-neighbour has another id, both pixels of a pair. */
function instanceEdges(g: GraphBuilder, inst: string): string {
  const differ = (axis: number, stem: string) => {
    const axes = g.ints(`${stem}_axis`, [axis]);
    const next = g.node('Slice', [inst, g.ints(`${stem}_from1`, [1]), g.ints(`${stem}_toEnd`, [INT64_MAX]), axes], {}, `${stem}_next`);
    const prev = g.node('Slice', [inst, g.ints(`${stem}_from0`, [0]), g.ints(`${stem}_toLast`, [-1]), axes], {}, `${stem}_prev`);
    return g.node('Cast', [g.node('Not', [g.node('Equal', [next, prev], {}, `${stem}_same`)], {}, `${stem}_ne`)], { to: DataType.FLOAT }, stem);
  };
  const dx = differ(3, 'edge_dx');
  const dy = differ(2, 'edge_dy');
  // Each difference marks the pixel after it (pad before) and the pixel before it (pad after).
  const padded = (x: string, pads: number[], stem: string) => g.node('Pad', [x, g.ints(`${stem}_pads`, pads)], { mode: 'constant' }, stem);
  return g.node('Max', [
    padded(dx, [0, 0, 0, 1, 0, 0, 0, 0], 'edge_right'), padded(dx, [0, 0, 0, 0, 0, 0, 0, 1], 'edge_left'),
    padded(dy, [0, 0, 1, 0, 0, 0, 0, 0], 'edge_down'), padded(dy, [0, 0, 0, 0, 0, 0, 1, 0], 'edge_up'),
  ], {}, 'instance_edges');
}

export interface ExportOptions {
  /** Store weights as float16 (half the size; computation stays float32). */
  fp16?: boolean;
  /** Recorded in the model's doc string (the run's name, epoch). */
  description?: string;
}

/** G (in eval mode) as ONNX model bytes; see the file's comment for inputs and output. */
export function exportGenerator(G: Generator, o: NetworkOptions, opts: ExportOptions = {}): Uint8Array {
  const layout = layoutOf(o);
  const g = new GraphBuilder(opts.fp16 ?? false);
  for (const name of ['label', 'inst', 'feat', 'image']) g.fresh(name);
  const inputs = [
    layout.label_nc === 0
      ? valueInfo('label', DataType.FLOAT, ['N', layout.input_nc, 'H', 'W'], 'the input image in [-1, 1] (label_nc 0)')
      : valueInfo('label', DataType.INT64, ['N', 1, 'H', 'W'], `class ids in [0, ${layout.label_nc})`),
  ];
  const parts = [layout.label_nc === 0 ? 'label' : oneHot(g, 'label', layout.label_nc)];
  if (layout.instance) {
    inputs.push(valueInfo('inst', DataType.INT64, ['N', 1, 'H', 'W'], 'instance ids'));
    parts.push(instanceEdges(g, 'inst'));
  }
  if (layout.feat_num) {
    inputs.push(valueInfo('feat', DataType.FLOAT, ['N', layout.feat_num, 'H', 'W'], 'instance feature map'));
    parts.push('feat');
  }
  const encoded = parts.length === 1 ? parts[0]! : g.node('Concat', parts, { axis: 1 }, 'generator_input');
  const { padded, hw } = padToMultiple(g, encoded, layout.size_multiple);
  const wasTraining = G.training;
  G.eval();
  let out: string;
  try {
    out = noGrad(() => emitModule(g, G, padded));
  } finally {
    if (wasTraining) G.train();
  }
  cropTo(g, out, hw, 'image');

  const graph = g.graph('pix2pixhd_generator', inputs, [
    valueInfo('image', DataType.FLOAT, ['N', layout.output_nc, 'H', 'W'], 'the synthesised image in [-1, 1]'),
  ], 'pix2pixHD generator with its input encoding (one-hot labels, instance edges) and padding to its size multiple');
  return projectModel(graph, opts, layoutMetadata(layout));
}

/** The model file around a graph: this project's opset, producer and metadata, with the weights' type. */
export function projectModel(graph: GraphProto, opts: ExportOptions, metadata: { key: string; value: string }[]): Uint8Array {
  return encodeModel({
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: OPSET }],
    producer_name: 'pix2pixhd-ts',
    producer_version: '0.1.0',
    doc_string: opts.description ?? '',
    graph,
    metadata_props: [...metadata, { key: 'pix2pixhd.weights', value: opts.fp16 ? 'float16' : 'float32' }],
  });
}
