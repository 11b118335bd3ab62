// Padding a network's input to its size multiple inside the graph, as synthesis and E's encoding
// do outside it (edge replication at the bottom and right, the output cropped back after).
import type { GraphBuilder } from './graph-builder.js';

/** x padded (edge replication, bottom and right) to multiples of m; also returns [H, W] for the crop. */
export function padToMultiple(g: GraphBuilder, x: string, m: number): { padded: string; hw: string } {
  const hw = g.node('Slice', [g.node('Shape', [x], {}, 'input_shape'), g.ints('hw_from', [2]), g.ints('hw_to', [4]), g.ints('hw_axis', [0])], {}, 'input_hw');
  if (m === 1) return { padded: x, hw };
  const multiple = g.ints('size_multiple', [m]);
  const extra = g.node('Mod', [g.node('Sub', [multiple, g.node('Mod', [hw, multiple], {}, 'hw_rem')], {}, 'hw_short'), multiple], {}, 'hw_pad');
  const pads = g.node('Concat', [g.ints('no_pads', [0, 0, 0, 0, 0, 0]), extra], { axis: 0 }, 'pads_to_multiple');
  return { padded: g.node('Pad', [x, pads], { mode: 'edge' }, 'input_padded'), hw };
}

/** `x` cropped to the [H, W] that padToMultiple returned, into the value named `output`. */
export function cropTo(g: GraphBuilder, x: string, hw: string, output: string): void {
  const zeros = g.ints('crop_from', [0, 0]);
  g.nodes.push({ op_type: 'Slice', name: `crop_to_input_${output}`, input: [x, zeros, hw, g.ints('crop_axes', [2, 3])], output: [output], attribute: [] });
}
