// Synthesis over a data set's phase through the engine (what `pix2pixhd test` and `eval` run):
// every label map (with its instance map) through G, the result at the label map's own size on disk.
//
// Runs trained with features (instance_feat / label_feat) also need a feature map per image,
// from one of two sources, as the official inference:
//   - 'encoder': E on the real photo (use_encoded_image): every object keeps its own look;
//   - 'styles':  per object a cluster of its class from the cluster file (encode-features),
//                chosen by a styles file or drawn at random, seeded per image.
// Synthesis through an exported model is onnx-dataset.ts (the same items and results).
import { sizeMultiple, type DataOptions } from '../data/index.js';
import type { ChosenFeature } from '../features/feature-map.js';
import type { Generator, NetworkOptions } from '../models/from-options.js';
import { usesFeatures } from '../models/from-options.js';
import { generatorInput, type FeatureSource } from '../run/generator-input.js';
import { F, tidy, type Tensor } from '../torch/index.js';
import { datasetItems, resultOf, type SynthesisResult } from './dataset-items.js';
import { imageToRgb, synthesize } from './synthesize.js';

export type { RgbPicture, SynthesisResult } from './dataset-items.js';

/**
 * Yields G's result for each item of the phase, at most howMany. With resize_or_crop 'none' the
 * maps are used at their own size (G's size multiple is met by padding inside synthesize());
 * with other modes the result is resized back to the file's size.
 */
export async function* synthesizeDataset(
  G: Generator, o: NetworkOptions, data: Partial<DataOptions>, howMany: number, device = 'cpu', features?: FeatureSource | null,
  precision: { halfPrecision?: boolean } = {},
): AsyncGenerator<SynthesisResult> {
  const encoded = usesFeatures(o) && features?.kind === 'encoder';
  const multiple = sizeMultiple(o);
  for await (const item of datasetItems(o, data, howMany, encoded)) {
    const { batch: b, width: w, height: h, source } = item;
    let chosen: ChosenFeature[] | null = null;
    const picture = tidy(() => {
      const x = generatorInput({ ...b, feat: null }, o, features ?? null, device);
      chosen = x.chosen?.[0] ?? null;
      const image: Tensor = synthesize(G, x.input, multiple, { ...precision, layout: x.layout });
      const fake = w !== source.width || h !== source.height ? F.interpolate(image, { size: [source.height, source.width], mode: 'bilinear' }) : image;
      return imageToRgb(fake, 0);
    });
    yield resultOf(item, o, picture, chosen);
  }
}
