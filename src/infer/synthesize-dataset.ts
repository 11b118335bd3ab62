// Synthesis over a data set's phase (what `pix2pixhd test` and `eval` run): every label map (with
// its instance map) through G, the result at the label map's own size on disk.
//
// Runs trained with features (instance_feat / label_feat) also need a feature map per image,
// from one of two sources, as the official inference:
//   - 'encoder': E on the real photo (use_encoded_image): every object keeps its own look;
//   - 'styles':  per object a cluster of its class from the cluster file (encode-features),
//                chosen by a styles file or drawn at random, seeded per image.
import { checkGeneratorSize, colorizeLabel, openData, sizeMultiple, tensorToRgb, type DataOptions } from '../data/index.js';
import type { ChosenFeature } from '../features/feature-map.js';
import type { Generator, NetworkOptions } from '../models/from-options.js';
import { labelChannels, usesFeatures } from '../models/from-options.js';
import { generatorInput, itemName, type FeatureSource } from '../run/generator-input.js';
import { F, tensor, tidy, type Tensor } from '../torch/index.js';
import { OnnxGenerator } from './onnx-generator.js';
import { imageToRgb, synthesize } from './synthesize.js';

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

/**
 * Yields G's result for each item of the phase, at most howMany. With resize_or_crop 'none' the
 * maps are used at their own size (G's size multiple is met by padding inside synthesize());
 * with other modes the result is resized back to the file's size. G is the engine's network or
 * an exported model (OnnxGenerator: the raw maps go in, the encoding happens inside the model).
 */
export async function* synthesizeDataset(
  G: Generator | OnnxGenerator, o: NetworkOptions, data: Partial<DataOptions>, howMany: number, device = 'cpu', features?: FeatureSource | null,
  precision: { halfPrecision?: boolean } = {},
): AsyncGenerator<SynthesisResult> {
  const encoded = usesFeatures(o) && features?.kind === 'encoder';
  const noResize = data.resize_or_crop === 'none';
  const { loader } = openData({
    ...data, isTrain: false, serial_batches: true, batchSize: 1, no_flip: true,
    // The maps are synthesised from clusters or the photo, never from precomputed files.
    load_features: false,
    ...(encoded ? { use_encoded_image: true } : {}),
    ...(noResize ? { n_downsample_global: 0, netG: 'global' as const } : {}),
  });
  const multiple = sizeMultiple(o);
  let count = 0;
  for await (const b of loader.epoch(1)) {
    if (count >= howMany) break;
    count++;
    const source = b.sourceSizes[0]!;
    const { width: w, height: h } = b;
    // The data layer read these maps for a G of no downsampling ('none'): G's own minimum, naming the file.
    checkGeneratorSize({ width: w, height: h }, o, b.paths[0]!, source);
    let chosen: ChosenFeature[] | null = null;
    const toPicture = (image: Tensor) => {
      const fake = w !== source.width || h !== source.height ? F.interpolate(image, { size: [source.height, source.width], mode: 'bilinear' }) : image;
      return imageToRgb(fake, 0);
    };
    let pictures: RgbPicture;
    if (G instanceof OnnxGenerator) {
      // Only the features come from the engine (styles or E); the model encodes the maps itself.
      const feat = usesFeatures(o)
        ? tidy(() => {
          const x = generatorInput({ ...b, feat: null }, o, features ?? null, device);
          chosen = x.chosen?.[0] ?? null;
          return x.input.narrow(1, labelChannels(o), o.feat_num).toFloat32Array();
        })
        : null;
      const image = await G.synthesize({ label: b.label, inst: o.no_instance ? null : b.inst, feat, width: w, height: h });
      pictures = tidy(() => toPicture(tensor(image, [1, o.output_nc, h, w])));
    } else {
      pictures = tidy(() => {
        const x = generatorInput({ ...b, feat: null }, o, features ?? null, device);
        chosen = x.chosen?.[0] ?? null;
        return toPicture(synthesize(G, x.input, multiple, { ...precision, layout: x.layout }));
      });
    }
    const label = o.label_nc > 0 ? (b.label as Int32Array) : null;
    const same = w === source.width && h === source.height;
    yield {
      name: itemName(b.paths[0]),
      labelPath: b.paths[0]!,
      input: label ? { rgb: colorizeLabel(label, w, h, o.label_nc), width: w, height: h } : { rgb: tensorToRgb(b.label as Float32Array, w, h), width: w, height: h },
      synthesized: pictures,
      real: b.image && same ? { rgb: tensorToRgb(b.image, w, h), width: w, height: h } : null,
      label: same ? label : null,
      inst: same ? b.inst : null,
      chosen,
    };
  }
}
