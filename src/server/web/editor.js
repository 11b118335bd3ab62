// The pix2pixHD editor page: holds the label and instance maps (Uint16Array, row-major), draws them,
// edits them with the tools, and asks the server to synthesise. Plain JavaScript, no build step.
//
// Instance ids follow Cityscapes: class·1000 + k for an object, the class id for stuff.
// With "synthesise in this browser" the generator runs here instead (in-browser.js).

import { BrowserSynthesis } from '/in-browser.js';
import { availableBytes, explainFailure, mib, tooLargeMessage } from '/browser-memory.js';

const $ = (id) => document.getElementById(id);

const state = {
  info: null,
  width: 0,
  height: 0,
  label: new Uint16Array(0),
  inst: new Uint16Array(0),
  /** instance id → chosen cluster index */
  styles: new Map(),
  tool: 'brush',
  cls: 0,
  selected: null, // an instance id
  undo: [],
  redo: [],
  resultUrl: null,
  stale: true,
  scale: 1,
  busy: false,
};
const MAX_UNDO = 40;
let colours = new Uint8Array(0); // class id → rgb

// ---------- status ----------

function say(text, kind = '') {
  const s = $('status');
  s.textContent = text;
  s.className = kind;
}

async function api(path, init) {
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new Error(`the server did not answer (${e.message}): is pix2pixhd serve still running?`);
  }
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      if (body && body.error) msg = body.error;
    } catch { /* not JSON */ }
    const retry = res.headers.get('Retry-After');
    throw new Error(res.status === 503 && retry ? `${msg} (retry after ${retry} s)` : msg);
  }
  return res;
}

// ---------- base64 uint16 ----------

function idsToBase64(ids) {
  const bytes = new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function base64ToIds(b64) {
  const s = atob(b64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return new Uint16Array(bytes.buffer);
}

// ---------- maps ----------

const classOf = (id) => (id < 1000 ? id : Math.floor(id / 1000));
const isThing = (cls) => Boolean(state.info.classes[cls] && state.info.classes[cls].thing);

function setMaps(width, height, label, inst, message) {
  state.width = width;
  state.height = height;
  state.label = label;
  state.inst = inst;
  state.styles = new Map();
  state.selected = null;
  state.undo = [];
  state.redo = [];
  const canvas = $('label-canvas');
  canvas.width = width;
  canvas.height = height;
  fitViews();
  markStale();
  render();
  updateButtons();
  showStylePicker();
  if (message) say(message);
}

function snapshot() {
  return { label: state.label.slice(), inst: state.inst.slice(), styles: new Map(state.styles), selected: state.selected };
}

function restore(s) {
  state.label = s.label;
  state.inst = s.inst;
  state.styles = s.styles;
  state.selected = s.selected;
}

/** Call before an edit: the current maps go on the undo stack. */
function pushUndo() {
  state.undo.push(snapshot());
  if (state.undo.length > MAX_UNDO) state.undo.shift();
  state.redo = [];
  updateButtons();
}

function undo() {
  if (!state.undo.length) return;
  state.redo.push(snapshot());
  restore(state.undo.pop());
  afterEdit('undone');
}

function redo() {
  if (!state.redo.length) return;
  state.undo.push(snapshot());
  restore(state.redo.pop());
  afterEdit('redone');
}

function afterEdit(message) {
  markStale();
  render();
  updateButtons();
  showStylePicker();
  if (message) say(message);
}

function markStale() {
  state.stale = true;
  $('result').classList.add('stale');
}

function updateButtons() {
  $('undo').disabled = state.undo.length === 0;
  $('redo').disabled = state.redo.length === 0;
  $('synthesize').disabled = state.busy || state.width === 0;
  $('download-label').disabled = state.width === 0;
  $('download-inst').disabled = state.width === 0;
}

// ---------- drawing the labels ----------

let renderQueued = false;
function render() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    draw();
  });
}

function draw() {
  const { width: w, height: h, label, inst, selected } = state;
  if (!w) return;
  const ctx = $('label-canvas').getContext('2d');
  const img = ctx.createImageData(w, h);
  const px = img.data;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const c = label[i] * 3;
      let r = colours[c], g = colours[c + 1], b = colours[c + 2];
      const id = inst[i];
      // Instance boundaries, as G sees them: a pixel whose 4-neighbour has another id.
      const edge = (x > 0 && inst[i - 1] !== id) || (x < w - 1 && inst[i + 1] !== id) || (y > 0 && inst[i - w] !== id) || (y < h - 1 && inst[i + w] !== id);
      if (edge) {
        if (selected !== null && id === selected) { r = 255; g = 214; b = 0; } else { r = (r + 255) >> 1; g = (g + 255) >> 1; b = (b + 255) >> 1; }
      }
      const o = i * 4;
      px[o] = r; px[o + 1] = g; px[o + 2] = b; px[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  $('label-caption').textContent = `labels ${w}×${h}` + (selected !== null ? ` · selected ${describe(selected)}` : '');
}

function describe(id) {
  const cls = classOf(id);
  const name = state.info.classes[cls] ? state.info.classes[cls].name : `class ${cls}`;
  return id >= 1000 ? `${name} #${id}` : name;
}

function fitViews() {
  const avail = Math.max(200, (document.documentElement.clientWidth - 330) / 2 - 30);
  // Both views at the same scale, so that a result pixel sits beside its label pixel.
  let scale = Math.min(4, avail / state.width, (window.innerHeight - 160) / state.height);
  scale = scale >= 1 ? Math.floor(scale * 4) / 4 : scale;
  state.scale = scale;
  for (const el of [$('label-canvas'), $('result')]) {
    el.style.width = `${Math.round(state.width * scale)}px`;
    el.style.height = `${Math.round(state.height * scale)}px`;
  }
}

// ---------- tools ----------

function paintDisc(cx, cy, radius, cls, id) {
  const { width: w, height: h, label, inst } = state;
  const r = Math.max(0.5, radius);
  const x0 = Math.max(0, Math.floor(cx - r)), x1 = Math.min(w - 1, Math.ceil(cx + r));
  const y0 = Math.max(0, Math.floor(cy - r)), y1 = Math.min(h - 1, Math.ceil(cy + r));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      if (dx * dx + dy * dy > r * r) continue;
      const i = y * w + x;
      label[i] = cls;
      inst[i] = id;
    }
  }
}

function paintLine(a, b, radius, cls, id) {
  const steps = Math.max(1, Math.ceil(Math.hypot(b.x - a.x, b.y - a.y) / Math.max(1, radius / 2)));
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    paintDisc(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t, radius, cls, id);
  }
}

/** Flood fill (4-connected) of the region of the clicked pixel's class with the chosen class. */
function fill(x, y, cls) {
  const { width: w, height: h, label, inst } = state;
  const start = y * w + x;
  const from = label[start];
  const seen = new Uint8Array(w * h);
  const stack = [start];
  seen[start] = 1;
  let n = 0;
  while (stack.length) {
    const i = stack.pop();
    label[i] = cls;
    inst[i] = cls;
    n++;
    const px = i % w;
    const next = [px > 0 ? i - 1 : -1, px < w - 1 ? i + 1 : -1, i >= w ? i - w : -1, i < w * (h - 1) ? i + w : -1];
    for (const j of next) {
      if (j >= 0 && !seen[j] && label[j] === from) { seen[j] = 1; stack.push(j); }
    }
  }
  return n;
}

function newInstanceId(cls) {
  const used = new Set(state.inst);
  for (let k = 0; k < 1000; k++) {
    const id = cls * 1000 + k;
    if (id > 65535) break;
    if (!used.has(id)) return id;
  }
  return null;
}

/** Removes an object: its pixels take the class most common just outside it (the road under a car). */
function eraseInstance(id) {
  const { width: w, height: h, label, inst } = state;
  const counts = new Map();
  const pixels = [];
  for (let i = 0; i < w * h; i++) {
    if (inst[i] !== id) continue;
    pixels.push(i);
    const x = i % w;
    for (const j of [x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, i >= w ? i - w : -1, i < w * (h - 1) ? i + w : -1]) {
      if (j < 0 || inst[j] === id) continue;
      const weight = inst[j] < 1000 ? 1 : 0.01; // prefer stuff around it to other objects
      counts.set(label[j], (counts.get(label[j]) || 0) + weight);
    }
  }
  let best = 0, bestCount = -1;
  for (const [cls, c] of counts) if (c > bestCount) { best = cls; bestCount = c; }
  for (const i of pixels) { label[i] = best; inst[i] = best; }
  state.styles.delete(id);
  if (state.selected === id) state.selected = null;
  return { pixels: pixels.length, into: best };
}

function eventPoint(e) {
  const canvas = $('label-canvas');
  const rect = canvas.getBoundingClientRect();
  return {
    x: ((e.clientX - rect.left) / rect.width) * state.width,
    y: ((e.clientY - rect.top) / rect.height) * state.height,
  };
}

let stroke = null; // { last, cls, id }

function onPointerDown(e) {
  if (!state.width || e.button !== 0) return;
  const p = eventPoint(e);
  const x = Math.min(state.width - 1, Math.max(0, Math.floor(p.x)));
  const y = Math.min(state.height - 1, Math.max(0, Math.floor(p.y)));
  const here = state.inst[y * state.width + x];
  const radius = Number($('brush-size').value) / 2;
  switch (state.tool) {
    case 'brush':
    case 'object': {
      let id = state.cls;
      if (state.tool === 'object') {
        if (!isThing(state.cls)) {
          say(`${state.info.classes[state.cls].name} is not an object class: choose one marked ● to draw objects`, 'error');
          return;
        }
        id = newInstanceId(state.cls);
        if (id === null) { say('no free instance id left for this class', 'error'); return; }
      }
      pushUndo();
      stroke = { last: p, cls: state.cls, id, radius };
      paintDisc(p.x, p.y, radius, state.cls, id);
      $('label-canvas').setPointerCapture(e.pointerId);
      markStale();
      render();
      break;
    }
    case 'fill': {
      if (state.label[y * state.width + x] === state.cls && here === state.cls) return;
      pushUndo();
      const n = fill(x, y, state.cls);
      afterEdit(`filled ${n} px with ${state.info.classes[state.cls].name}`);
      break;
    }
    case 'erase': {
      if (here < 1000) { say(`that is ${describe(here)}, not an object: nothing to erase (paint over stuff with the brush)`); return; }
      pushUndo();
      const name = describe(here);
      const r = eraseInstance(here);
      afterEdit(`erased ${name} (${r.pixels} px became ${state.info.classes[r.into].name})`);
      break;
    }
    case 'select': {
      state.selected = here;
      render();
      showStylePicker();
      say(`selected ${describe(here)}`);
      break;
    }
  }
}

function onPointerMove(e) {
  if (!stroke) return;
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
  for (const ev of events.length ? events : [e]) {
    const p = eventPoint(ev);
    paintLine(stroke.last, p, stroke.radius, stroke.cls, stroke.id);
    stroke.last = p;
  }
  render();
}

function onPointerUp() {
  if (!stroke) return;
  const s = stroke;
  stroke = null;
  if (state.tool === 'object') {
    state.selected = s.id;
    afterEdit(`drew ${describe(s.id)}` + (state.info.styles ? ': pick its style on the left' : ''));
  } else afterEdit(`painted ${state.info.classes[s.cls].name}`);
}

function setTool(tool) {
  state.tool = tool;
  for (const b of document.querySelectorAll('.tool')) b.setAttribute('aria-pressed', String(b.dataset.tool === tool));
}

function setClass(cls) {
  state.cls = cls;
  for (const b of document.querySelectorAll('#palette button')) b.setAttribute('aria-pressed', String(Number(b.dataset.class) === cls));
}

// ---------- styles ----------

function showStylePicker() {
  const styles = state.info && state.info.styles;
  const picker = $('style-picker');
  if (!styles) {
    picker.hidden = true;
    return;
  }
  const id = state.selected;
  const entry = id !== null && id >= 1000 ? styles.classes.find((c) => c.id === classOf(id)) : null;
  if (!entry) {
    picker.hidden = true;
    $('styles-note').textContent = id === null
      ? `Select an object (or draw one) to pick its style. Classes with styles: ${styles.classes.map((c) => c.name).join(', ')}.`
      : `${describe(id)} has no styles to pick.`;
    return;
  }
  $('styles-note').textContent = '';
  picker.hidden = false;
  $('selected-object').textContent = `${describe(id)}:`;
  const box = $('style-swatches');
  box.replaceChildren();
  const chosen = state.styles.has(id) ? state.styles.get(id) : null;
  const add = (label, value, swatch, count) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.style = value === null ? 'random' : String(value);
    b.setAttribute('aria-pressed', String(chosen === value));
    b.title = value === null ? 'a style drawn at random (by the seed)' : `style ${value}${count ? ` (${count} training objects)` : ''}`;
    if (swatch) {
      const s = document.createElement('span');
      s.className = 'swatch';
      s.style.background = `rgb(${swatch.join(',')})`;
      b.append(s);
    }
    b.append(label);
    b.addEventListener('click', () => {
      pushUndo();
      if (value === null) state.styles.delete(id); else state.styles.set(id, value);
      afterEdit(`${describe(id)}: ${value === null ? 'random style' : `style ${value}`}`);
    });
    box.append(b);
  };
  add('random', null, null);
  for (const c of entry.clusters) add(String(c.index), c.index, c.swatch, c.count);
}

// ---------- server calls ----------

function requestBody() {
  return {
    width: state.width,
    height: state.height,
    label: idsToBase64(state.label),
    inst: idsToBase64(state.inst),
    styles: Object.fromEntries(state.styles),
    seed: Number($('seed').value) || 0,
  };
}

async function showResult(blob, message) {
  if (state.resultUrl) URL.revokeObjectURL(state.resultUrl);
  state.resultUrl = URL.createObjectURL(blob);
  const img = $('result');
  img.src = state.resultUrl;
  await img.decode().catch(() => undefined);
  img.classList.remove('stale');
  state.stale = false;
  const link = $('download-image');
  link.href = state.resultUrl;
  link.classList.remove('disabled');
  $('result-caption').textContent = `synthesised ${state.width}×${state.height}`;
  say(message);
  document.body.dataset.synthesized = String((Number(document.body.dataset.synthesized) || 0) + 1);
}

async function synthesizeOnServer() {
  const t0 = performance.now();
  const res = await api('/api/synthesize', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(requestBody()) });
  const blob = await res.blob();
  const ms = Math.round(performance.now() - t0);
  document.body.dataset.backend = 'server';
  await showResult(blob, `synthesised in ${ms} ms (the generator took ${Math.round(Number(res.headers.get('X-Synthesis-Ms')))} ms)`);
}

// ---------- in-browser synthesis ----------

let browser = null;
const BACKEND_NAMES = { webgpu: 'WebGPU', wasm: 'WebAssembly' };
const WARN_KEY = 'pix2pixhd.browserModelWarnMb';
let modelBytes = null;

/** The visitor's "ask above" size in bytes (the server's default until they change it). */
function warnAboveBytes() {
  const v = Number($('warn-mb').value);
  return $('warn-mb').value !== '' && Number.isFinite(v) && v >= 0 ? v * 1048576 : state.info.browser.warnAboveBytes;
}

/** Refuses, before any download, a model this browser cannot hold at the map's size (browser-memory.js). */
function checkMemory(bytes) {
  const override = new URLSearchParams(location.search).get('browser_memory_mb');
  const available = availableBytes({ overrideMb: override === null ? null : Number(override), deviceMemoryGb: navigator.deviceMemory ?? null });
  const info = state.info.browser;
  const tooLarge = tooLargeMessage({ modelBytes: bytes, float16Weights: info.float16Weights, fullResChannels: info.fullResChannels }, state.width, state.height, available);
  if (tooLarge) throw new Error(tooLarge);
}

/** The model loaded on the chosen backend: downloaded (after asking, when large) on first use. */
async function browserModel() {
  const want = $('browser-backend').value;
  if (browser.loaded && browser.wanted === want) {
    checkMemory(modelBytes);
    return browser.loaded;
  }
  say('exporting the model on the server…', 'busy');
  const bytes = await browser.modelBytes();
  checkMemory(bytes);
  const warn = warnAboveBytes();
  if (bytes > warn && !window.confirm(`The generator is ${mib(bytes)} MiB (more than ${mib(warn)} MiB) to download and run in this browser. Download it?`)) {
    throw new Error(`the ${mib(bytes)} MiB model was not downloaded`);
  }
  modelBytes = bytes;
  say(`loading the ${mib(bytes)} MiB model in this browser…`, 'busy');
  const loaded = await browser.load(want);
  browser.wanted = want;
  return loaded;
}

async function synthesizeInBrowser() {
  const loaded = await browserModel();
  const t0 = performance.now();
  const body = requestBody();
  let feat = null;
  if (state.info.browser.layout.feat_num) {
    // The styles stay on the server: it sends the feature map its own synthesis would use.
    const res = await api('/api/features', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    feat = new Float32Array(await res.arrayBuffer());
  }
  const r = await browser.run({ width: state.width, height: state.height, label: state.label.slice(), inst: state.inst.slice(), feat });
  const canvas = document.createElement('canvas');
  canvas.width = state.width;
  canvas.height = state.height;
  canvas.getContext('2d').putImageData(new ImageData(r.rgba, state.width, state.height), 0, 0);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  const name = BACKEND_NAMES[loaded.backend];
  document.body.dataset.backend = loaded.backend;
  const total = Math.round(performance.now() - t0);
  await showResult(blob, `synthesised in this browser with ${name} in ${total} ms (the generator took ${Math.round(r.ms)} ms)` + (loaded.note ? ` — ${loaded.note}` : ''));
}

async function synthesize() {
  if (!state.width || state.busy) return;
  state.busy = true;
  updateButtons();
  say('synthesising…', 'busy');
  try {
    if ($('in-browser').checked) {
      try {
        await synthesizeInBrowser();
      } catch (e) {
        // A model too large for this browser, or a refused download: the server still synthesises.
        browser.close();
        $('in-browser').checked = false;
        const why = explainFailure(e.message);
        await synthesizeOnServer();
        say(`in-browser synthesis failed (${why}); synthesised on the server instead`, 'error');
      }
    } else {
      await synthesizeOnServer();
    }
  } catch (e) {
    say(`synthesis refused: ${e.message}`, 'error');
  } finally {
    state.busy = false;
    updateButtons();
  }
}

async function downloadMap(role) {
  try {
    const ids = role === 'label' ? state.label : state.inst;
    const res = await api('/api/encode', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ role, width: state.width, height: state.height, ids: idsToBase64(ids) }),
    });
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = role === 'label' ? 'label.png' : 'instance.png';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    say(`${role === 'label' ? 'label' : 'instance'} map saved (${state.width}×${state.height} PNG)`);
  } catch (e) {
    say(`could not save the map: ${e.message}`, 'error');
  }
}

async function openScene() {
  const name = $('scene-select').value;
  if (!name) return;
  say(`opening ${name}…`, 'busy');
  try {
    const s = await (await api(`/api/scenes/${encodeURIComponent(name)}`)).json();
    setMaps(s.width, s.height, base64ToIds(s.label), base64ToIds(s.inst), `opened ${name} (${s.width}×${s.height})`);
  } catch (e) {
    say(`could not open ${name}: ${e.message}`, 'error');
  }
}

async function upload(role, input) {
  const file = input.files && input.files[0];
  input.value = '';
  if (!file) return;
  const limit = state.info.limits.maxUploadBytes;
  if (file.size > limit) {
    say(`${file.name} is ${(file.size / 1048576).toFixed(1)} MiB; uploads are limited to ${limit / 1048576} MiB`, 'error');
    return;
  }
  say(`reading ${file.name}…`, 'busy');
  const size = role === 'inst' && state.width ? `&width=${state.width}&height=${state.height}` : '';
  try {
    const m = await (await api(`/api/decode?role=${role}${size}`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: file })).json();
    const ids = base64ToIds(m.ids);
    if (role === 'label') {
      // Until an instance map comes, every pixel is its class's stuff.
      setMaps(m.width, m.height, ids, ids.slice(), `label map ${file.name} (${m.width}×${m.height}); upload its instance map too, or draw objects`);
    } else {
      pushUndo();
      state.inst = ids;
      state.styles = new Map();
      state.selected = null;
      afterEdit(`instance map ${file.name}`);
    }
  } catch (e) {
    say(`${file.name} refused: ${e.message}`, 'error');
  }
}

function newBlank() {
  const w = Number($('blank-width').value);
  const h = Number($('blank-height').value);
  const l = state.info.limits;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < l.minSide || h < l.minSide || w > l.maxWidth || h > l.maxHeight) {
    say(`a blank canvas must be between ${l.minSide}×${l.minSide} and ${l.maxWidth}×${l.maxHeight}`, 'error');
    return;
  }
  const label = new Uint16Array(w * h).fill(state.cls);
  setMaps(w, h, label, label.slice(), `blank ${w}×${h} of ${state.info.classes[state.cls].name}`);
}

// ---------- start ----------

function buildPalette() {
  const box = $('palette');
  for (const c of state.info.classes) {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.class = String(c.id);
    b.title = `${c.id}: ${c.name}${c.thing ? ' (objects can be drawn)' : ''}`;
    const chip = document.createElement('span');
    chip.className = 'chip';
    chip.style.background = `rgb(${c.color.join(',')})`;
    const name = document.createElement('span');
    name.textContent = `${c.id} ${c.name}`;
    if (c.thing) name.className = 'thing';
    b.append(chip, name);
    b.addEventListener('click', () => setClass(c.id));
    box.append(b);
  }
}

async function start() {
  try {
    state.info = await (await api('/api/info')).json();
  } catch (e) {
    say(`could not load the run: ${e.message}`, 'error');
    return;
  }
  const info = state.info;
  $('run-name').textContent = `— ${info.name} (${info.which_epoch}, ${info.netG}, ${info.label_nc} classes)`;
  colours = new Uint8Array(info.classes.flatMap((c) => c.color));
  buildPalette();
  setClass(info.label_nc === 35 || info.label_nc === 34 ? 7 : Math.min(1, info.label_nc - 1));
  setTool('brush');
  $('styles-note').textContent = info.styles ? 'Select an object (or draw one) to pick its style.' : info.stylesNote;
  $('blank-width').value = info.blank.width;
  $('blank-height').value = info.blank.height;
  for (const el of [$('blank-width'), $('blank-height')]) { el.min = info.limits.minSide; }

  const scenes = await (await api('/api/scenes')).json();
  const select = $('scene-select');
  for (const name of scenes.scenes) select.append(new Option(name, name));
  select.disabled = $('open-scene').disabled = scenes.scenes.length === 0;
  if (!scenes.scenes.length) select.append(new Option(`none: ${scenes.note}`, ''));

  $('open-scene').addEventListener('click', openScene);
  $('new-blank').addEventListener('click', newBlank);
  $('upload-label').addEventListener('change', (e) => upload('label', e.target));
  $('upload-inst').addEventListener('change', (e) => upload('inst', e.target));
  $('undo').addEventListener('click', undo);
  $('redo').addEventListener('click', redo);
  $('synthesize').addEventListener('click', synthesize);
  browser = new BrowserSynthesis(info);
  $('in-browser').disabled = !info.browser.available;
  if (!info.browser.available) $('in-browser').parentElement.title = info.browser.note;
  $('in-browser').addEventListener('change', () => {
    markStale();
    say($('in-browser').checked ? 'synthesis will run in this browser (the model downloads on the next Synthesise)' : 'synthesis runs on the server');
  });
  $('browser-backend').addEventListener('change', () => { if (browser.loaded) browser.close(); });
  $('warn-mb').value = localStorage.getItem(WARN_KEY) ?? String(info.browser.warnAboveBytes / 1048576);
  $('warn-mb').addEventListener('change', () => localStorage.setItem(WARN_KEY, $('warn-mb').value));
  $('download-label').addEventListener('click', () => downloadMap('label'));
  $('download-inst').addEventListener('click', () => downloadMap('inst'));
  for (const b of document.querySelectorAll('.tool')) b.addEventListener('click', () => setTool(b.dataset.tool));
  const size = $('brush-size');
  size.addEventListener('input', () => { $('brush-size-out').textContent = size.value; });
  const canvas = $('label-canvas');
  canvas.addEventListener('pointerdown', onPointerDown);
  canvas.addEventListener('pointermove', onPointerMove);
  canvas.addEventListener('pointerup', onPointerUp);
  canvas.addEventListener('pointercancel', onPointerUp);
  window.addEventListener('resize', () => { if (state.width) fitViews(); });
  window.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    const mod = e.ctrlKey || e.metaKey;
    if (mod && e.key.toLowerCase() === 'z') { e.preventDefault(); if (e.shiftKey) redo(); else undo(); }
    else if (mod && e.key.toLowerCase() === 'y') { e.preventDefault(); redo(); }
    else if (mod && e.key === 'Enter') { e.preventDefault(); synthesize(); }
    else if (!mod) {
      const tool = { b: 'brush', f: 'fill', o: 'object', e: 'erase', s: 'select' }[e.key.toLowerCase()];
      if (tool) setTool(tool);
      if (e.key === '[' || e.key === ']') {
        size.value = String(Number(size.value) + (e.key === ']' ? 2 : -2));
        $('brush-size-out').textContent = size.value;
      }
    }
  });

  if (scenes.scenes.length) await openScene();
  else newBlank();
  document.body.dataset.ready = 'true';
}

start();
