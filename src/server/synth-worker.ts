// A synthesis worker thread: loads libtorch (each worker thread loads the binding itself) and the
// run's generator once, then turns label/instance maps into images, one request at a time, so the
// server's main thread stays free to answer the page. Its libtorch thread count is its own
// (OpenMP's is per thread): `threads` in the init data.
import { parentPort, workerData } from 'node:worker_threads';
import { sizeMultiple } from '../data/index.js';
import { imageToRgb, synthesize } from '../infer/synthesize.js';
import type { NetworkOptions } from '../models/from-options.js';
import type { FeatureClusters } from '../features/cluster-file.js';
import { StyleBank } from '../features/style-bank.js';
import { generatorInput, loadGenerator, type FeatureSource } from '../run/index.js';
import { getNumThreads, setNumThreads, tidy } from '../torch/index.js';

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
  /** --use_ema: the moving average of G's weights instead of G. */
  ema?: boolean;
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
    return loadGenerator(o, init.runDir, init.which, init.device, { ema: init.ema });
  } catch (e) {
    port.postMessage({ type: 'failed', message: (e as Error).message } satisfies SynthWorkerMessage);
    return null;
  }
}

const G = start();
if (G) {
  const multiple = sizeMultiple(o);
  const bank = init.clusters ? new StyleBank(init.clusters) : null;
  port.postMessage({ type: 'ready', threads: getNumThreads() } satisfies SynthWorkerMessage);
  port.on('message', (job: SynthJob) => {
    const gate = (workerData as { synthTestGate?: Int32Array }).synthTestGate; // tests only: SynthTestGate in synth-pool.ts
    if (gate) { Atomics.add(gate, 1, 1); Atomics.notify(gate, 1); Atomics.wait(gate, 0, 1); }
    const testExit = gate ? Atomics.exchange(gate, 2, 0) : 0;
    if (testExit) process.exit(testExit);
    const t0 = performance.now();
    try {
      const { width: w, height: h } = job;
      const rgb = tidy(() => {
        // The chosen styles, other objects drawn at random (seeded), as `pix2pixhd test` does; a
        // features run without clusters gets zero features.
        const features: FeatureSource = { kind: 'styles', bank, choices: { instances: new Map(job.choices) }, seed: job.seed };
        const maps = { size: 1, width: w, height: h, label: Int32Array.from(job.label), inst: job.inst ? Int32Array.from(job.inst) : null, image: null, feat: null, paths: [] };
        const x = generatorInput(maps, o, features, init.device);
        return imageToRgb(synthesize(G, x.input, multiple, { halfPrecision: init.halfPrecision ?? false, layout: x.layout })).rgb;
      });
      const msg: SynthWorkerMessage = { type: 'done', id: job.id, rgb, ms: performance.now() - t0 };
      port.postMessage(msg, [rgb.buffer as ArrayBuffer]);
    } catch (e) {
      port.postMessage({ type: 'error', id: job.id, message: (e as Error).message } satisfies SynthWorkerMessage);
    }
  });
}
