// Evaluation on scenes with known photos: a trained generator's figures beside those of the same
// network untrained (freshly initialised), so the numbers say how much training bought.
import type { DataOptions } from '../data/index.js';
import { buildGenerator, type Generator, type NetworkOptions } from '../models/from-options.js';
import { ImageMetrics, type ClassColourError } from './metrics.js';
import { synthesizeDataset, type SynthesisResult } from '../infer/synthesize-dataset.js';
import type { FeatureSource } from '../run/generator-input.js';

export interface EvaluationFigures {
  images: number;
  meanAbsoluteError: number;
  meanClassColourError: number;
  classes: ClassColourError[];
}

/**
 * `features`: for runs with instance features, where their feature maps come from (see synthesizeDataset).
 * `onResult` sees every synthesised image with its photo and label map (the segmentation score, FID).
 */
export async function evaluateGenerator(
  G: Generator, o: NetworkOptions, data: Partial<DataOptions>, howMany: number, device = 'cpu', features?: FeatureSource | null,
  precision: { halfPrecision?: boolean } = {}, onResult?: (r: SynthesisResult) => void,
): Promise<EvaluationFigures> {
  const metrics = new ImageMetrics();
  let images = 0;
  for await (const r of synthesizeDataset(G, o, { ...data, use_encoded_image: true }, howMany, device, features, precision)) {
    if (!r.real || !r.label) throw new Error(`${r.labelPath}: evaluation needs the real photo and the label map at the same size`);
    metrics.add(r.synthesized.rgb, r.real.rgb, r.label);
    onResult?.(r);
    images++;
  }
  if (images === 0) throw new Error(`no images to evaluate in ${String(data.dataroot)} (phase ${String(data.phase)})`);
  return { images, meanAbsoluteError: metrics.meanAbsoluteError, meanClassColourError: metrics.meanClassColourError, classes: metrics.classColourErrors() };
}

/** The same architecture with fresh weights (seeded): the baseline for a trained model. */
export function untrainedGenerator(o: NetworkOptions, seed: number, device = 'cpu'): Generator {
  const G = buildGenerator(o, seed);
  if (device !== 'cpu') G.to(device);
  return G.eval();
}
