// The parts of `pix2pixhd test` that compute with libtorch: synthesis through the run's G, the
// feature maps of a feature run synthesised through an exported model, and --export_onnx. Imported
// by test.ts only when one of them is needed, so that `test --onnx` of a run without features
// loads nothing of libtorch.
import type { DataOptions } from '../../data/index.js';
import { engineFeatureMap } from '../../infer/engine-features.js';
import type { FeaturesFor } from '../../infer/onnx-dataset.js';
import { synthesizeDataset, type SynthesisResult } from '../../infer/synthesize-dataset.js';
import { precisionFor } from '../../infer/synthesize.js';
import { writeRunModels, type WrittenModels } from '../../onnx/run-model.js';
import { loadGenerator, openFeatureSource, type RunConfig } from '../../run/index.js';
import { nn } from '../../torch/index.js';
import { prepareRuntime } from '../engine-runtime.js';

export interface EngineSynthesis {
  results: AsyncGenerator<SynthesisResult>;
  close(): void;
}

/** The run's G over `data`; `stylesFile` is --styles. */
export function engineSynthesis(config: RunConfig, data: Partial<DataOptions>, stylesFile: string, out: NodeJS.WritableStream): EngineSynthesis {
  prepareRuntime(config);
  const { device, network: o } = config;
  const precision = precisionFor(config.synthesis.data_type, device);
  const G = loadGenerator(o, config.dir, config.which_epoch, device, { ema: config.synthesis.use_ema });
  if (config.verbose) out.write(`${nn.networkSummary('netG', G)}\n`);
  const features = openFeatureSource(config, stylesFile);
  if (features.description) out.write(`${features.description}\n`);
  return {
    results: synthesizeDataset(G, o, data, config.synthesis.how_many, device, features.source, precision),
    close() {
      features.dispose();
      G.dispose();
    },
  };
}

export interface EngineFeatures {
  featuresFor: FeaturesFor;
  /** E on the photos (so the data layer reads them), not styles. */
  encoded: boolean;
  close(): void;
}

/** A feature run's feature maps for an exported model, from the run's styles or E (--use_encoded_image). */
export function engineFeatures(config: RunConfig, stylesFile: string, out: NodeJS.WritableStream): EngineFeatures {
  prepareRuntime(config);
  const features = openFeatureSource(config, stylesFile);
  if (features.description) out.write(`${features.description}\n`);
  return {
    featuresFor: (b) => engineFeatureMap(b, config.network, features.source, config.device),
    encoded: features.source?.kind === 'encoder',
    close: () => features.dispose(),
  };
}

/** --export_onnx PATH: what `pix2pixhd export --onnx PATH` writes (G, and E for runs with one). */
export async function exportForTest(config: RunConfig, path: string): Promise<WrittenModels> {
  prepareRuntime(config);
  return writeRunModels(config, path, { fp16: config.train.fp16 });
}
