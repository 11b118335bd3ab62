// A run's networks exported to files: G (and, for runs with instance features, E) loaded from
// their checkpoints (on the CPU, where the export reads the weights), exported, and written
// atomically so a reader never sees half a model.
import { usesFeatures, type NetworkOptions } from '../models/from-options.js';
import { loadEncoder, loadGenerator } from '../run/networks.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { exportEncoder } from './encoder-model.js';
import { exportGenerator } from './generator-model.js';

export interface RunModelSource {
  network: NetworkOptions;
  /** The run folder holding `{which_epoch}_net_G.pth`. */
  dir: string;
  which_epoch: string;
  name: string;
  /** The moving average of G's weights (--use_ema) instead of G. */
  ema?: boolean;
}

/** The run's G as ONNX bytes. */
export function exportRunGenerator(run: RunModelSource, opts: { fp16?: boolean } = {}): Uint8Array {
  const G = loadGenerator(run.network, run.dir, run.which_epoch, 'cpu', { ema: run.ema });
  try {
    return exportGenerator(G, run.network, { fp16: opts.fp16, description: `pix2pixHD generator of run '${run.name}', checkpoint ${run.which_epoch}` });
  } finally {
    G.dispose();
  }
}

/** Exports the run's G to `path` (atomically); returns the model's size in bytes. */
export async function writeRunGenerator(run: RunModelSource, path: string, opts: { fp16?: boolean } = {}): Promise<number> {
  if (!path.endsWith('.onnx')) throw new Error(`the model file should end with .onnx, got ${path}`);
  const bytes = exportRunGenerator(run, opts);
  await writeFileAtomic(path, bytes);
  return bytes.length;
}

/** Where E's model goes beside G's: OUT.onnx → OUT_encoder.onnx. */
export function encoderModelPath(generatorPath: string): string {
  return generatorPath.replace(/\.onnx$/, '_encoder.onnx');
}

/** Whether the run has an encoder of its own to export (feature runs not trained on precomputed maps). */
export function hasEncoder(network: NetworkOptions): boolean {
  return usesFeatures(network) && !network.load_features;
}

/** The run's E as ONNX bytes (see encoder-model.ts). */
export function exportRunEncoder(run: RunModelSource, opts: { fp16?: boolean } = {}): Uint8Array {
  const E = loadEncoder(run.network, run.dir, run.which_epoch, 'cpu');
  try {
    return exportEncoder(E, run.network, { fp16: opts.fp16, description: `pix2pixHD feature encoder of run '${run.name}', checkpoint ${run.which_epoch}` });
  } finally {
    E.dispose();
  }
}

export interface WrittenModels {
  generator: { path: string; bytes: number };
  /** E's model, for runs with an encoder. */
  encoder: { path: string; bytes: number } | null;
}

/** G to `path` and, for runs with an encoder, E to encoderModelPath(path); both exported before either is written. */
export async function writeRunModels(run: RunModelSource, path: string, opts: { fp16?: boolean } = {}): Promise<WrittenModels> {
  if (!path.endsWith('.onnx')) throw new Error(`the model file should end with .onnx, got ${path}`);
  const generator = exportRunGenerator(run, opts);
  const encoder = hasEncoder(run.network) ? exportRunEncoder(run, opts) : null;
  await writeFileAtomic(path, generator);
  const encoderPath = encoderModelPath(path);
  if (encoder) await writeFileAtomic(encoderPath, encoder);
  return { generator: { path, bytes: generator.length }, encoder: encoder ? { path: encoderPath, bytes: encoder.length } : null };
}
