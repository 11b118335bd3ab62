// A worker thread that loads data set items (decoding, resizing, cropping, normalising) so the main
// thread stays free for the training step. Its arrays travel back transferred, not copied.
import { parentPort, workerData } from 'node:worker_threads';
import { AlignedDataset, type DataItem } from './dataset.js';
import { DataError } from './errors.js';
import type { DatasetEntry } from './layout.js';
import type { DataOptions } from './options.js';

export interface WorkerInit {
  options: DataOptions;
  layout: 'official' | 'cityscapes';
  entries: DatasetEntry[];
}
export interface LoadRequest {
  id: number;
  index: number;
  seed: number;
}
export type LoadReply = { id: number; item: DataItem } | { id: number; error: { message: string; files: string[]; dataError: boolean } };

const init = workerData as WorkerInit;
const dataset = AlignedDataset.fromEntries(init.options, init.layout, init.entries);

parentPort?.on('message', (req: LoadRequest) => {
  dataset.load(req.index, req.seed).then(
    (item) => {
      const transfer = [item.label, item.inst, item.image, item.feat].filter((a) => a !== null).map((a) => (a as Int32Array | Float32Array).buffer as ArrayBuffer);
      parentPort?.postMessage({ id: req.id, item } satisfies LoadReply, transfer);
    },
    (e: unknown) => {
      const err = e as Error;
      parentPort?.postMessage({
        id: req.id,
        error: { message: err?.message ?? String(e), files: e instanceof DataError ? [...e.files] : [], dataError: e instanceof DataError },
      } satisfies LoadReply);
    },
  );
});
