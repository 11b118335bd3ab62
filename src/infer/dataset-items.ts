// The items of a data set's phase as synthesis reads them, and the result each becomes: shared by
// synthesis through the engine (synthesize-dataset.ts) and through an exported model
// (onnx-dataset.ts). Free of libtorch, so that `test --onnx` runs where it is not installed.
import { checkGeneratorSize, colorizeLabel, openData, tensorToRgb, type Batch, type DataOptions, type Size } from '../data/index.js';
import type { ChosenFeature } from '../features/feature-map.js';
import type { NetworkOptions } from '../models/network-options.js';
import { itemName } from '../run/item-name.js';

export interface RgbPicture {
  rgb: Uint8Array;
  width: number;
  height: number;
}

export interface SynthesisResult {
  /** The label file's name without extension (the official results' names). */
  name: string;
  labelPath: string;
  input: RgbPicture;
  synthesized: RgbPicture;
  /** The real photo at the same size, when the data set has it. */
  real: RgbPicture | null;
  /** Class ids per pixel at that size (label_nc > 0). */
  label: Int32Array | null;
  /** Instance ids per pixel at that size (when the data set has instance maps). */
  inst: Int32Array | null;
  /** Feature runs with styles: the feature vector chosen for each object, and how. */
  chosen: ChosenFeature[] | null;
}

export interface DatasetItem {
  /** One item's maps at the size G sees (width × height). */
  batch: Batch;
  width: number;
  height: number;
  /** The size of the label file on disk, which the result gets back. */
  source: Size;
}

/**
 * The phase's items, at most howMany, one at a time and in order. With resize_or_crop 'none' the
 * maps keep their own size (G's size multiple is met by padding at synthesis); with other modes
 * the result must be resized back to `source`. `encoded`: photos are read for E.
 */
export async function* datasetItems(o: NetworkOptions, data: Partial<DataOptions>, howMany: number, encoded: boolean): AsyncGenerator<DatasetItem> {
  const noResize = data.resize_or_crop === 'none';
  const { loader } = openData({
    ...data, isTrain: false, serial_batches: true, batchSize: 1, no_flip: true,
    // The maps are synthesised from clusters or the photo, never from precomputed files.
    load_features: false,
    ...(encoded ? { use_encoded_image: true } : {}),
    ...(noResize ? { n_downsample_global: 0, netG: 'global' as const } : {}),
  });
  let count = 0;
  for await (const b of loader.epoch(1)) {
    if (count >= howMany) break;
    count++;
    const source = b.sourceSizes[0]!;
    const { width, height } = b;
    // The data layer read these maps for a G of no downsampling ('none'): G's own minimum, naming the file.
    checkGeneratorSize({ width, height }, o, b.paths[0]!, source);
    yield { batch: b, width, height, source };
  }
}

/** The result of one item, given the synthesised picture (already at the file's size). */
export function resultOf(item: DatasetItem, o: NetworkOptions, synthesized: RgbPicture, chosen: ChosenFeature[] | null): SynthesisResult {
  const { batch: b, width: w, height: h, source } = item;
  const label = o.label_nc > 0 ? (b.label as Int32Array) : null;
  const same = w === source.width && h === source.height;
  return {
    name: itemName(b.paths[0]),
    labelPath: b.paths[0]!,
    input: label ? { rgb: colorizeLabel(label, w, h, o.label_nc), width: w, height: h } : { rgb: tensorToRgb(b.label as Float32Array, w, h), width: w, height: h },
    synthesized,
    real: b.image && same ? { rgb: tensorToRgb(b.image, w, h), width: w, height: h } : null,
    label: same ? label : null,
    inst: same ? b.inst : null,
    chosen,
  };
}
