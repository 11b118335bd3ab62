// What the editor needs to synthesise in the visitor's browser: the run's generator as an ONNX
// model (exported on first request, cached on disk beside nothing else of the run and re-exported
// when the checkpoint is newer), and onnxruntime-web's own files, served from node_modules
// because the page must not depend on a CDN.
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { netPath } from '../run/checkpoint.js';
import { layoutFromMetadata, layoutOf, readMetadataProps, writeRunGenerator, type RunModelSource } from '../onnx/index.js';
import { HttpError } from './limits.js';

/** onnxruntime-web's dist folder, or null when the package is not installed. */
export function onnxRuntimeWebDir(): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  } catch {
    return null;
  }
}

/** The files the worker loads: the WebGPU+WebAssembly build and its wasm modules (and their .mjs loaders). */
const ORT_FILE = /^ort(\.webgpu(\.min)?\.mjs|-wasm-simd-threaded(\.(jsep|asyncify))?\.(mjs|wasm))$/;

export function sendOrtFile(res: ServerResponse, dir: string, name: string): void {
  if (!ORT_FILE.test(name) || !existsSync(join(dir, name))) throw new HttpError(404, `no such onnxruntime-web file: ${name}`);
  const file = join(dir, name);
  res.writeHead(200, {
    'Content-Type': name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript; charset=utf-8',
    'Content-Length': statSync(file).size,
    'Cache-Control': 'public, max-age=86400',
  });
  createReadStream(file).pipe(res);
}

export class BrowserModel {
  #exporting: Promise<string> | null = null;
  /** A cached file whose recorded layout was checked against the run's (once per server). */
  #checked: string | null = null;

  constructor(private readonly run: RunModelSource, private readonly cacheDir: string) {}

  /** The cached model's path, exported first when missing or older than the checkpoint. */
  async file(): Promise<string> {
    const net = this.run.ema ? 'G_ema' : 'G';
    const target = join(this.cacheDir, `${this.run.which_epoch}_net_${net}.onnx`);
    const checkpoint = netPath(this.run.dir, this.run.which_epoch, net);
    if (existsSync(target) && statSync(target).mtimeMs >= statSync(checkpoint).mtimeMs && this.#fits(target)) return target;
    mkdirSync(this.cacheDir, { recursive: true });
    // One export at a time; requests that arrive meanwhile wait for it.
    this.#exporting ??= writeRunGenerator(this.run, target).then(() => { this.#checked = target; return target; }).finally(() => { this.#exporting = null; });
    return this.#exporting;
  }

  /** Whether a cached model was exported for this run's inputs (a stale cache of other options is replaced). */
  #fits(file: string): boolean {
    if (this.#checked === file) return true;
    let layout;
    try {
      layout = layoutFromMetadata(readMetadataProps(readFileSync(file)));
    } catch {
      return false;
    }
    const run = layoutOf(this.run.network);
    const fits = layout !== null && JSON.stringify(layout) === JSON.stringify(run);
    if (fits) this.#checked = file;
    return fits;
  }

  async send(res: ServerResponse, method: string): Promise<void> {
    const file = await this.file();
    const size = statSync(file).size;
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size, 'Cache-Control': 'no-cache' });
    if (method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  }
}
