// The editor's HTTP server (node:http): the page's own three files, and a JSON API over a trained
// run — the run's classes and styles, its test scenes, decoding uploaded maps, encoding edited
// ones, and synthesis on worker threads behind a bounded queue.
//
//   GET  /                          the editor page (and /editor.js, /editor.css; nothing else is served)
//   GET  /api/info                  the run: classes (names, colours, things), styles, limits, sizes
//   GET  /api/scenes                the test scenes of the run's data set
//   GET  /api/scenes/NAME           one scene's label and instance maps (base64 uint16)
//   POST /api/decode?role=label|inst[&width=W&height=H]   a PNG id map → base64 uint16 (the size must match W×H when given)
//   POST /api/encode                {role, width, height, ids} → a PNG of the ids (8-bit, or 16-bit when needed)
//   POST /api/synthesize            {width, height, label, inst, styles?, seed?} → image/png
//   POST /api/features              feature runs: {width, height, label, inst, styles?, seed?} → float32 [feat_num, H, W] for G in the browser
//   GET  /api/model.onnx            the run's G as ONNX (exported on demand, cached), for in-browser synthesis
//   GET  /ort/FILE                  onnxruntime-web's files (from node_modules; the page uses no CDN)
//
// Only for the host names it was bound for, and POSTs only from its own page (host-check.ts): 403 otherwise.
// Every error is JSON {error: message} with a 4xx/5xx status; the page shows the message.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { className, isThing } from '../data/labels.js';
import { sizeMultiple, encodeIdPng, encodePng, findDataset, labelPalette, readIdMap, resolveDataOptions, type DatasetEntry } from '../data/index.js';
import type { NetworkOptions } from '../models/from-options.js';
import { HttpError, LIMITS, minSide } from './limits.js';
import { checkLabelIds, checkSize, checkStyleChoices, decodeIds, decodeUpload, encodeIds, type SizeRule } from './maps.js';
import { SynthesisPool, type PoolOptions } from './synth-pool.js';
import { allowedHostNames, requestOriginProblem } from './host-check.js';
import type { FeatureClusters } from '../features/cluster-file.js';
import { StyleBank } from '../features/style-bank.js';
import { layoutOf } from '../onnx/index.js';
import { BrowserModel, onnxRuntimeWebDir, sendOrtFile } from './browser-model.js';
import { styleFeatureMap } from './style-features.js';
import { usesFeatures } from '../models/from-options.js';

export interface EditorServerOptions {
  /** The run folder (checkpoints_dir/name) and which checkpoint to load. */
  runDir: string;
  name: string;
  which: string;
  network: NetworkOptions;
  /** The run's data set and phase, for the scenes to open (absent: none). */
  dataroot?: string;
  phase?: string;
  /** The run's feature clusters: the styles the page offers (null: none). */
  styles: FeatureClusters | null;
  /** Why there are no styles, for the page, when there are none. */
  stylesNote?: string;
  device?: string;
  /** --data_type 16: synthesis in half precision (CUDA). */
  halfPrecision?: boolean;
  /** libtorch threads per worker. */
  threads: number;
  pool: PoolOptions;
  host?: string;
  /** Host names served beside localhost, 127.0.0.1, [::1] and `host` (see host-check.ts). */
  allowedHosts?: readonly string[];
  /** 0 picks a free port. */
  port: number;
  /** Size of a blank canvas when the run has no scenes to take it from. */
  blankSize?: { width: number; height: number };
  log?: (line: string) => void;
  /** In-browser synthesis: where the exported model is cached, and above what size the page asks before downloading it. */
  browserModel?: { cacheDir?: string; warnAboveBytes?: number };
  /** --use_ema: serve the moving average of G's weights (server and in-browser model alike). */
  ema?: boolean;
}

export interface EditorServer {
  server: Server;
  pool: SynthesisPool;
  url: string;
  close: () => Promise<void>;
}

const WEB = join(fileURLToPath(new URL('.', import.meta.url)), 'web');
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/editor.js': { file: 'editor.js', type: 'text/javascript; charset=utf-8' },
  '/editor.css': { file: 'editor.css', type: 'text/css; charset=utf-8' },
  '/in-browser.js': { file: 'in-browser.js', type: 'text/javascript; charset=utf-8' },
  '/browser-memory.js': { file: 'browser-memory.js', type: 'text/javascript; charset=utf-8' },
  '/onnx-worker.js': { file: 'onnx-worker.js', type: 'text/javascript; charset=utf-8' },
};


function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

function sendBytes(res: ServerResponse, type: string, body: Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

/** The request body, at most `limit` bytes (413 beyond it, without reading the rest). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new HttpError(413, `the request body is ${declared} bytes; the limit is ${limit} bytes (${limit / 1048576} MiB)`, { Connection: 'close' }));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        over = true;
        reject(new HttpError(413, `the request body is over the limit of ${limit} bytes (${limit / 1048576} MiB)`, { Connection: 'close' }));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => { if (!over) resolve(Buffer.concat(chunks)); });
    req.on('error', reject);
  });
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) throw new HttpError(415, `send JSON with Content-Type: application/json (got '${type || 'none'}')`);
  const body = await readBody(req, LIMITS.maxJsonBytes);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `the request body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'the request body must be a JSON object');
  return value as Record<string, unknown>;
}

/** Why the server could not listen, in words naming the address, and what to do. */
function listenProblem(e: NodeJS.ErrnoException, host: string, port: number): string {
  const where = `${host}:${port}`;
  if (e.code === 'EADDRINUSE') return `port ${port} is in use on ${host} (another program, or another editor, listens there): choose another with --port, or --port 0 for any free port`;
  if (e.code === 'EACCES') return `no permission to listen on ${where} (ports below 1024 need privileges): choose a port of 1024 or above with --port`;
  if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') return `cannot listen on ${where}: --host ${host} is not an address of this machine`;
  return `cannot listen on ${where}: ${e.message}`;
}

export async function startEditorServer(opts: EditorServerOptions): Promise<EditorServer> {
  const o = opts.network;
  if (o.label_nc < 1) throw new Error('the editor paints label maps: this run has label_nc 0 (image inputs), which it cannot edit');
  const log = opts.log ?? (() => undefined);
  const multiple = sizeMultiple(o);
  const rule: SizeRule = { minSide: minSide(multiple) };
  const nameOf = (id: number): string => className(id, o.label_nc);
  const statics = Object.fromEntries(Object.entries(STATIC).map(([route, s]) => [route, { ...s, body: readFileSync(join(WEB, s.file)) }]));

  // The run's test scenes, by name; a name from the URL is only ever looked up here, never joined to a path.
  const scenes = new Map<string, DatasetEntry>();
  let scenesNote = 'no data set given (--dataroot)';
  if (opts.dataroot) {
    try {
      const found = findDataset(resolveDataOptions({ dataroot: opts.dataroot, phase: opts.phase ?? 'test', label_nc: o.label_nc, no_instance: o.no_instance, isTrain: false }));
      for (const e of found.entries) scenes.set(e.key.replace(/[\\/]/g, '_'), e);
      scenesNote = `${scenes.size} scenes from ${found.dirs.label}`;
    } catch (e) {
      scenesNote = (e as Error).message.split('\n')[0]!;
    }
  }
  let blank = opts.blankSize ?? { width: 512, height: 256 };
  const first = scenes.values().next().value as DatasetEntry | undefined;
  if (first && !opts.blankSize) {
    try {
      const m = await readIdMap(first.label, 'label map');
      blank = { width: m.width, height: m.height };
    } catch { /* keep the default */ }
  }

  const bank = opts.styles ? new StyleBank(opts.styles) : null;
  const ortDir = onnxRuntimeWebDir();
  const browserModel = new BrowserModel(
    { network: o, dir: opts.runDir, which_epoch: opts.which, name: opts.name, ema: opts.ema ?? false },
    opts.browserModel?.cacheDir ?? join(opts.runDir, 'onnx'),
  );
  const palette = labelPalette(o.label_nc);
  const info = {
    name: opts.name,
    which_epoch: opts.which,
    label_nc: o.label_nc,
    no_instance: o.no_instance,
    netG: o.netG,
    sizeMultiple: multiple,
    classes: Array.from({ length: o.label_nc }, (_, id) => ({
      id, name: nameOf(id), color: [palette[3 * id], palette[3 * id + 1], palette[3 * id + 2]],
      thing: isThing(id, o.label_nc),
    })),
    styles: bank
      ? {
        featNum: bank.featNum,
        classes: bank.classes().map((c) => ({
          id: c.classId, name: nameOf(c.classId), clusters: c.styles.map((s) => ({ index: s.index, swatch: s.swatch, count: s.count })),
        })),
      }
      : null,
    stylesNote: bank ? null : (opts.stylesNote ?? 'this run has no instance styles'),
    scenesNote,
    blank,
    browser: {
      available: ortDir !== null,
      note: ortDir ? null : 'in-browser synthesis needs the onnxruntime-web package on the server (npm install onnxruntime-web)',
      model: '/api/model.onnx',
      warnAboveBytes: opts.browserModel?.warnAboveBytes ?? 50 * 2 ** 20,
      layout: layoutOf(o),
      // For the page's memory check (web/browser-memory.js): G's widest full-resolution layer
      // (the outermost enhancer's, or G1's, ngf channels) and the served model's weights (float32).
      fullResChannels: o.ngf,
      float16Weights: false,
    },
    limits: {
      maxUploadBytes: LIMITS.maxUploadBytes, maxJsonBytes: LIMITS.maxJsonBytes, maxWidth: LIMITS.maxWidth, maxHeight: LIMITS.maxHeight,
      minSide: rule.minSide, queue: opts.pool.queue, workers: opts.pool.workers, threadsPerWorker: opts.threads,
    },
  };

  const pool = new SynthesisPool(
    {
      runDir: opts.runDir, which: opts.which, options: o, device: opts.device ?? 'cpu', threads: opts.threads, halfPrecision: opts.halfPrecision ?? false, ema: opts.ema ?? false,
      clusters: opts.styles,
    },
    opts.pool,
  );
  try {
    await pool.ready;
  } catch (e) {
    await pool.close();
    throw e;
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const p = url.pathname;
    const s = statics[p];
    if (s) {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `${method} ${p}: only GET`, { Allow: 'GET, HEAD' });
      return sendBytes(res, s.type, s.body);
    }
    if (p.startsWith('/ort/')) {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `${method} ${p}: only GET`, { Allow: 'GET, HEAD' });
      if (!ortDir) throw new HttpError(404, 'onnxruntime-web is not installed on this server');
      return sendOrtFile(res, ortDir, p.slice('/ort/'.length));
    }
    if (!p.startsWith('/api/')) throw new HttpError(404, `no such page: ${p} (the editor is at /)`);
    const expect = (m: string): void => {
      if (method !== m) throw new HttpError(405, `${method} ${p}: use ${m}`, { Allow: m });
    };
    if (p === '/api/info') {
      expect('GET');
      return sendJson(res, 200, { ...info, pool: pool.stats() });
    }
    if (p === '/api/model.onnx') {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `${method} ${p}: use GET`, { Allow: 'GET, HEAD' });
      return browserModel.send(res, method);
    }
    if (p === '/api/scenes') {
      expect('GET');
      return sendJson(res, 200, { scenes: [...scenes.keys()], note: scenesNote });
    }
    if (p.startsWith('/api/scenes/')) {
      expect('GET');
      const name = decodeURIComponent(p.slice('/api/scenes/'.length));
      const entry = scenes.get(name);
      if (!entry) throw new HttpError(404, `no scene '${name}' in the run's data set`);
      const label = await readIdMap(entry.label, 'label map');
      checkLabelIds(label.data, o.label_nc);
      const inst = entry.inst ? await readIdMap(entry.inst, 'instance map') : null;
      return sendJson(res, 200, {
        name, width: label.width, height: label.height, label: encodeIds(label.data),
        // Without an instance map every pixel is its own class's stuff.
        inst: encodeIds(inst ? inst.data : label.data),
      });
    }
    if (p === '/api/decode') {
      expect('POST');
      const role = url.searchParams.get('role');
      if (role !== 'label' && role !== 'inst') throw new HttpError(400, "role must be 'label' or 'inst'");
      const body = await readBody(req, LIMITS.maxUploadBytes);
      const map = await decodeUpload(body, role === 'label' ? 'label map' : 'instance map', rule);
      const ww = url.searchParams.get('width');
      const hh = url.searchParams.get('height');
      if (ww !== null && hh !== null && (map.width !== Number(ww) || map.height !== Number(hh))) {
        throw new HttpError(400, `the uploaded ${role === 'label' ? 'label' : 'instance'} map is ${map.width}×${map.height}; the label map open is ${ww}×${hh}: they must be the same size`);
      }
      if (role === 'label') checkLabelIds(map.ids, o.label_nc);
      return sendJson(res, 200, { width: map.width, height: map.height, ids: encodeIds(map.ids) });
    }
    if (p === '/api/encode') {
      expect('POST');
      const body = await readJson(req);
      const size = checkSize(body.width, body.height, rule);
      const ids = decodeIds(body.ids, size, 'ids');
      if (body.role === 'label') checkLabelIds(ids, o.label_nc);
      else if (body.role !== 'inst') throw new HttpError(400, "role must be 'label' or 'inst'");
      return sendBytes(res, 'image/png', await encodeIdPng(ids, size.width, size.height));
    }
    if (p === '/api/synthesize' || p === '/api/features') {
      expect('POST');
      const body = await readJson(req);
      const size = checkSize(body.width, body.height, rule);
      const label = decodeIds(body.label, size, 'label');
      checkLabelIds(label, o.label_nc);
      const inst = body.inst === undefined || body.inst === null ? null : decodeIds(body.inst, size, 'inst');
      if (!inst && !o.no_instance) throw new HttpError(400, 'this run takes an instance map: send inst too');
      const seed = body.seed ?? 0;
      if (!Number.isInteger(seed)) throw new HttpError(400, `seed must be an integer (got ${JSON.stringify(seed)})`);
      const choices = checkStyleChoices(body.styles, inst, bank, nameOf);
      if (p === '/api/features') {
        if (!usesFeatures(o)) throw new HttpError(400, 'this run takes no features');
        const feat = styleFeatureMap(o, bank, { ...size, label, inst }, choices, seed as number);
        return sendBytes(res, 'application/octet-stream', Buffer.from(feat.buffer, feat.byteOffset, feat.byteLength));
      }
      const abort = new AbortController();
      const onClose = (): void => { if (!res.writableEnded) abort.abort(); };
      res.on('close', onClose);
      const t0 = performance.now();
      const result = await pool.run({ ...size, label, inst, choices, seed: seed as number }, abort.signal);
      const png = await encodePng(result.rgb, size.width, size.height, 3);
      return sendBytes(res, 'image/png', png, {
        'X-Synthesis-Ms': result.ms.toFixed(1), 'X-Total-Ms': (performance.now() - t0).toFixed(1),
      });
    }
    throw new HttpError(404, `no such API route: ${p}`);
  }

  const allowedHosts = allowedHostNames(opts.host ?? '127.0.0.1', opts.allowedHosts);
  const server = createServer({ requestTimeout: LIMITS.bodyTimeoutS * 1000 }, (req, res) => {
    const refused = requestOriginProblem(req, allowedHosts, (server.address() as AddressInfo).port);
    if (refused) {
      sendJson(res, 403, { error: refused }, { Connection: 'close' });
      req.resume();
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return sendJson(res, 400, { error: 'bad request URL' });
    }
    route(req, res, url).catch((e: unknown) => {
      if ((e as Error).name === 'AbortError') return; // the client went away while it waited
      const err = e instanceof HttpError ? e : new HttpError(500, `internal error: ${(e as Error).message}`);
      if (err.status >= 500 && err.status !== 503) log(`${req.method} ${url.pathname}: ${err.message}`);
      if (res.headersSent) return void res.destroy();
      sendJson(res, err.status, { error: err.message }, err.headers);
      // A body we refused to read is not drained on a connection kept open.
      if (err.status === 413) req.resume();
    });
  });
  const bindHost = opts.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, bindHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    // The workers hold the process open: stop them, so that the command ends with the message.
    await pool.close();
    throw new Error(listenProblem(e as NodeJS.ErrnoException, bindHost, opts.port));
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server, pool, url: `http://${host}:${addr.port}/`,
    close: async () => {
      // Stop taking connections, let running syntheses finish, then drop what is left.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await pool.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
