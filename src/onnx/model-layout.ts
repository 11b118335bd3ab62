// What an exported model expects of its inputs, stored in the model's metadata_props, so a model
// exported for another label_nc or feature layout is refused with both layouts named instead of
// synthesising garbage.
import { usesFeatures, type NetworkOptions } from '../models/network-options.js';
import { sizeMultiple } from '../data/transforms.js';

export interface ModelLayout {
  /** Classes of the label map; 0: `label` is an image of input_nc channels. */
  label_nc: number;
  input_nc: number;
  output_nc: number;
  /** Whether the model takes `inst`. */
  instance: boolean;
  /** Channels of `feat` (0: no feature input). */
  feat_num: number;
  /** G's total downsampling, to which the graph pads its input internally. */
  size_multiple: number;
  netG: string;
}

const PREFIX = 'pix2pixhd.';

export function layoutOf(o: NetworkOptions): ModelLayout {
  return {
    label_nc: o.label_nc, input_nc: o.input_nc, output_nc: o.output_nc, instance: !o.no_instance,
    feat_num: usesFeatures(o) ? o.feat_num : 0, size_multiple: sizeMultiple(o), netG: o.netG,
  };
}

export function layoutMetadata(layout: ModelLayout): { key: string; value: string }[] {
  return Object.entries(layout).map(([k, v]) => ({ key: PREFIX + k, value: String(v) }));
}

/** The layout recorded in a model's metadata, or null for a model this project did not export. */
export function layoutFromMetadata(props: readonly { key: string; value: string }[]): ModelLayout | null {
  const get = (k: keyof ModelLayout) => props.find((p) => p.key === PREFIX + k)?.value;
  const label = get('label_nc');
  if (label === undefined) return null;
  const int = (k: keyof ModelLayout) => Number.parseInt(get(k) ?? 'NaN', 10);
  return {
    label_nc: Number.parseInt(label, 10), input_nc: int('input_nc'), output_nc: int('output_nc'), instance: get('instance') === 'true',
    feat_num: int('feat_num'), size_multiple: int('size_multiple'), netG: get('netG') ?? '?',
  };
}

/** The model's inputs, in order: label, then inst and feat where the layout has them. */
export function inputNames(layout: ModelLayout): string[] {
  return ['label', ...(layout.instance ? ['inst'] : []), ...(layout.feat_num ? ['feat'] : [])];
}

/** "label_nc 35, instance maps, 3 feature channels": what a client must give. */
export function describeLayout(l: ModelLayout): string {
  const label = l.label_nc === 0 ? `label_nc 0 (an input image of ${l.input_nc} channels)` : `label_nc ${l.label_nc}`;
  return `${label}, ${l.instance ? 'instance maps' : 'no instance maps'}, ${l.feat_num ? `${l.feat_num} feature channels` : 'no features'}`;
}

/** Throws, naming both, when a model's inputs differ from what the run gives. */
export function checkLayout(model: ModelLayout | null, run: ModelLayout, what: string): void {
  if (!model) throw new Error(`${what} has no pix2pixhd metadata: export it with 'pix2pixhd export' (this run needs ${describeLayout(run)})`);
  const differs = model.label_nc !== run.label_nc || model.instance !== run.instance || model.feat_num !== run.feat_num ||
    (model.label_nc === 0 && model.input_nc !== run.input_nc) || model.output_nc !== run.output_nc;
  if (differs) {
    throw new Error(`${what} was exported for ${describeLayout(model)}; this run has ${describeLayout(run)}: export the model from this run`);
  }
}
