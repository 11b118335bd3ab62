// A synthesis worker thread: loads libtorch (each worker thread loads the binding itself) and the
// run's generator once, then turns label/instance maps into images, one request at a time, so the
// server's main thread stays free to answer the page. Its libtorch thread count is its own
// (OpenMP's is per thread): `threads` in the init data.
import { parentPort, workerData } from 'node:worker_threads';
import { loadGenerator } from '../infer/load-generator.js';
import { imageToRgb, sizeMultiple, synthesize } from '../infer/synthesize.js';
import { usesFeatures, type NetworkOptions } from '../models/from-options.js';
import { encodeInput } from '../models/input-encoding.js';
import type { FeatureClusters } from '../features/cluster-file.js';
import { sampleFeatureMap } from '../features/feature-map.js';
import { StyleBank } from '../features/style-bank.js';
import { getNumThreads, setNumThreads, tensor, tidy } from '../torch/index.js';

export interface SynthWorkerInit {
  runDir: string;
  which: string;
  options: NetworkOptions;
  device: string;
  /** libtorch intra-op threads for this worker. */
  threads: number;
  /** The run's feature clusters (features runs), or null: zero features. */
  clusters: FeatureClusters | null;
  /** --data_type 16: G under float16 autocast (CUDA). */
  halfPrecision?: boolean;
}

export interface SynthJob {
  id: number;
  width: number;
  height: number;
  label: Uint16Array;
  inst: Uint16Array | null;
  /** Instance id → cluster index. */
  choices: Array<[number, number]>;
  seed: number;
}

export type SynthWorkerMessage =
  | { type: 'ready'; threads: number }
  | { type: 'failed'; message: string }
  | { type: 'done'; id: number; rgb: Uint8Array; ms: number }
  | { type: 'error'; id: number; message: string };

const init = workerData as SynthWorkerInit;
const port = parentPort!;
const o = init.options;

function start(): ReturnType<typeof loadGenerator> | null {
  try {
    setNumThreads(init.threads);
    return loadGenerator(o, init.runDir, init.which, init.device);
  } catch (e) {
    port.postMessage({ type: 'failed', message: (e as Error).message } satisfies SynthWorkerMessage);
    return null;
  }
}

const G = start();
if (G) {
  const multiple = sizeMultiple(o);
  const bank = init.clusters ? new StyleBank(init.clusters) : null;
  const dev = init.device !== 'cpu' ? { device: init.device } : {};
  port.postMessage({ type: 'ready', threads: getNumThreads() } satisfies SynthWorkerMessage);
  port.on('message', (job: SynthJob) => {
    const t0 = performance.now();
    try {
      const { width: w, height: h } = job;
      const rgb = tidy(() => {
        const label = tensor(Int32Array.from(job.label), [1, 1, h, w], dev);
        const inst = job.inst && !o.no_instance ? tensor(Int32Array.from(job.inst), [1, 1, h, w], dev) : null;
        let feat = null;
        if (usesFeatures(o)) {
          // The chosen styles; other objects drawn at random (seeded), as `pix2pixhd test` does.
          const data = bank && job.inst
            ? sampleFeatureMap(job.inst, w, h, bank, { choices: { instances: new Map(job.choices) }, seed: job.seed }).map
            : new Float32Array(o.feat_num * w * h); // no clusters: zero features
          feat = tensor(data, [1, o.feat_num, h, w], dev);
        }
        const input = encodeInput({ label, inst, feat }, { label_nc: o.label_nc, no_instance: o.no_instance });
        return imageToRgb(synthesize(G, input, multiple, { halfPrecision: init.halfPrecision ?? false })).rgb;
      });
      const msg: SynthWorkerMessage = { type: 'done', id: job.id, rgb, ms: performance.now() - t0 };
      port.postMessage(msg, [rgb.buffer as ArrayBuffer]);
    } catch (e) {
      port.postMessage({ type: 'error', id: job.id, message: (e as Error).message } satisfies SynthWorkerMessage);
    }
  });
}
