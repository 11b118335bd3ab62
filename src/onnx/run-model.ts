// A run's generator exported to a file: loaded from its checkpoint (on the CPU, where the export
// reads the weights), exported, and written atomically so a reader never sees half a model.
import type { NetworkOptions } from '../models/from-options.js';
import { loadGenerator } from '../run/networks.js';
import { writeFileAtomic } from '../util/atomic-file.js';
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
