// A web worker that holds the run's ONNX generator and runs it with onnxruntime-web, so the page
// stays responsive while it synthesises. WebGPU when the browser has it (and it was not turned
// down), WebAssembly otherwise. Messages in: {type: 'load', url, backend: 'auto'|'webgpu'|'wasm'},
// {type: 'run', id, width, height, label, inst, feat}; out: {type: 'loaded'|'done'|'error', …}.
import * as ort from '/ort/ort.webgpu.min.mjs';

// The page is not cross-origin isolated, so WebAssembly runs on one thread; files come from the server.
ort.env.wasm.wasmPaths = '/ort/';
ort.env.wasm.numThreads = 1;

let session = null;
let layout = null;

async function webgpuAdapter() {
  if (!('gpu' in navigator)) return null;
  try {
    return await navigator.gpu.requestAdapter();
  } catch {
    return null;
  }
}

async function load({ url, backend, layout: l }) {
  const t0 = performance.now();
  const res = await fetch(url);
  if (!res.ok) throw new Error(`the model could not be downloaded: ${res.status} ${res.statusText}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const downloadMs = performance.now() - t0;
  let note = '';
  let chosen = 'wasm';
  if (backend !== 'wasm') {
    if (await webgpuAdapter()) chosen = 'webgpu';
    else note = 'this browser has no WebGPU adapter: WebAssembly instead';
  }
  const create = (ep) => ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'all' });
  try {
    session = await create(chosen);
  } catch (e) {
    if (chosen !== 'webgpu') throw e;
    note = `WebGPU failed (${e.message}): WebAssembly instead`;
    chosen = 'wasm';
    session = await create(chosen);
  }
  layout = l;
  return { backend: chosen, note, bytes: bytes.length, downloadMs, loadMs: performance.now() - t0 };
}

const int64 = (ids) => BigInt64Array.from(ids, (v) => BigInt(v));

/** G's output [3, H, W] in [-1, 1] → RGBA bytes, rounded down as the server's imageToRgb. */
function toRgba(data, w, h) {
  const n = w * h;
  const rgba = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const v = Math.fround(Math.fround(Math.fround(data[k * n + i] + 1) / 2) * 255);
      rgba[i * 4 + k] = Math.floor(Math.min(255, Math.max(0, v)));
    }
    rgba[i * 4 + 3] = 255;
  }
  return rgba;
}

async function run({ width: w, height: h, label, inst, feat }) {
  const feeds = { label: new ort.Tensor('int64', int64(label), [1, 1, h, w]) };
  if (layout.instance) feeds.inst = new ort.Tensor('int64', int64(inst), [1, 1, h, w]);
  if (layout.feat_num) feeds.feat = new ort.Tensor('float32', feat, [1, layout.feat_num, h, w]);
  const t0 = performance.now();
  const out = await session.run(feeds);
  const image = out.image;
  const data = await image.getData();
  const ms = performance.now() - t0;
  image.dispose();
  return { rgba: toRgba(data, w, h), ms };
}

self.onmessage = async ({ data: m }) => {
  try {
    if (m.type === 'load') self.postMessage({ type: 'loaded', ...(await load(m)) });
    else if (m.type === 'run') {
      const r = await run(m);
      self.postMessage({ type: 'done', id: m.id, ...r }, [r.rgba.buffer]);
    }
  } catch (e) {
    self.postMessage({ type: 'error', id: m.id, message: e && e.message ? e.message : String(e) });
  }
};
