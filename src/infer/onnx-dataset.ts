// Synthesis over a data set's phase through an exported model (`pix2pixhd test --onnx`): the same
// items and results as synthesize-dataset.ts, with onnxruntime-node in place of libtorch. Nothing
// here loads libtorch, so a model can be used where it is not installed; a feature run's feature
// maps come from the caller (`featuresFor`, which does use the engine).
import type { Batch, DataOptions } from '../data/index.js';
import type { ChosenFeature } from '../features/feature-map.js';
import { usesFeatures, type NetworkOptions } from '../models/network-options.js';
import { datasetItems, resultOf, type SynthesisResult } from './dataset-items.js';
import type { OnnxGenerator } from './onnx-generator.js';
import { floatImageToRgb, resizeBilinear } from './pictures.js';

/** A feature run's feature map [feat_num·h·w] for one item, and the features each object got. */
export type FeaturesFor = (batch: Batch) => { feat: Float32Array; chosen: ChosenFeature[] | null };

/**
 * Yields the model's result for each item of the phase, at most howMany; as synthesizeDataset,
 * a result is resized back (bilinear, as there) when the maps were resized for G.
 * `encoded`: the features come from E on the photos, so photos are read.
 */
export async function* synthesizeDatasetOnnx(
  G: OnnxGenerator, o: NetworkOptions, data: Partial<DataOptions>, howMany: number,
  features: { featuresFor: FeaturesFor; encoded: boolean } | null,
): AsyncGenerator<SynthesisResult> {
  if (usesFeatures(o) && !features) throw new Error('this run uses features: synthesising it needs a feature source');
  for await (const item of datasetItems(o, data, howMany, features?.encoded ?? false)) {
    const { batch: b, width: w, height: h, source } = item;
    const f = usesFeatures(o) ? features!.featuresFor(b) : null;
    const image = await G.synthesize({ label: b.label, inst: o.no_instance ? null : b.inst, feat: f?.feat ?? null, width: w, height: h });
    const same = w === source.width && h === source.height;
    const shown = same ? image : resizeBilinear(image, o.output_nc, h, w, source.height, source.width);
    const picture = floatImageToRgb(shown, o.output_nc, source.height, source.width);
    yield resultOf(item, o, picture, f?.chosen ?? null);
  }
}
