// Synthesis in the visitor's browser: the run's generator, exported by the server as ONNX, runs in
// a web worker (onnx-worker.js). The page asks before downloading a model above the server's
// limit, and falls back to the server when the browser cannot load or run it.

export class BrowserSynthesis {
  constructor(info) {
    this.info = info;
    this.worker = null;
    this.loaded = null; // {backend, note, bytes, loadMs}
    this.pending = new Map();
    this.nextId = 1;
  }

  /** The model's size in bytes (the server exports it on first asking). */
  async modelBytes() {
    const res = await fetch(this.info.browser.model, { method: 'HEAD' });
    if (!res.ok) throw new Error(`the server could not export the model: ${res.status} ${res.statusText}`);
    return Number(res.headers.get('Content-Length'));
  }

  /** Loads the model in a fresh worker on `backend` ('auto', 'webgpu' or 'wasm'). */
  async load(backend) {
    this.close();
    this.worker = new Worker('/onnx-worker.js', { type: 'module' });
    this.worker.onmessage = ({ data }) => {
      const p = this.pending.get(data.type === 'loaded' ? 'load' : data.id ?? 'load');
      if (!p) return;
      this.pending.delete(data.type === 'loaded' ? 'load' : data.id ?? 'load');
      if (data.type === 'error') p.reject(new Error(data.message)); else p.resolve(data);
    };
    this.worker.onerror = (e) => {
      for (const p of this.pending.values()) p.reject(new Error(e.message || 'the worker failed (out of memory?)'));
      this.pending.clear();
    };
    const loaded = await new Promise((resolve, reject) => {
      this.pending.set('load', { resolve, reject });
      this.worker.postMessage({ type: 'load', url: this.info.browser.model, backend, layout: this.info.browser.layout });
    });
    this.loaded = loaded;
    return loaded;
  }

  /** RGBA bytes and G's time for the maps (and, feature runs, the feature map from the server). */
  run(maps) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'run', id, ...maps });
    });
  }

  close() {
    if (this.worker) this.worker.terminate();
    this.worker = null;
    this.loaded = null;
    for (const p of this.pending.values()) p.reject(new Error('the model was unloaded'));
    this.pending.clear();
  }
}
