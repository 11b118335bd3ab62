// Starting a worker thread from a module that sits beside the caller with the caller's own
// extension: .js when built, .ts when run through tsx. Node 20's worker threads do not inherit
// tsx's --import hooks, so a .ts worker starts from a small script that registers tsx first.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** callerUrl: the caller's import.meta.url; name: the worker module's base name. */
export function spawnSiblingWorker(callerUrl: string, name: string, workerData: object): Worker {
  const here = fileURLToPath(callerUrl);
  const ext = path.extname(here);
  const file = path.join(path.dirname(here), `${name}${ext}`);
  if (ext !== '.ts') return new Worker(file, { workerData });
  const bootstrap =
    "const { workerData } = require('node:worker_threads');\n" +
    'import(workerData.tsxApi).then((api) => { api.register(); return import(workerData.workerUrl); });\n';
  return new Worker(bootstrap, {
    eval: true,
    workerData: { ...workerData, tsxApi: import.meta.resolve('tsx/esm/api'), workerUrl: pathToFileURL(file).href },
  });
}
