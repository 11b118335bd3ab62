// Whether the run's model fits in this browser's memory, decided before it is downloaded, and
// what an allocation failure while loading or running it means to the visitor. Plain functions
// (no page state) so the page and the tests share them.
//
// What the page can know is coarse, and so is the check:
// - Needed: the model twice (the downloaded bytes and the runtime's float32 copy of the weights;
//   float16 weights are widened, so count the float32 size) plus three full-resolution feature maps
//   of G's widest full-resolution layer (ngf float32 channels: a layer's input, its output and the
//   runtime's working buffer) at the map's size. An estimate, not a measurement.
// - Available: WebAssembly's 32-bit memory (4 GiB, onnxruntime-web's wasm heap, where the weights
//   live on both backends while the session is built), and a quarter of the device's memory where
//   the browser says (navigator.deviceMemory, Chromium, in GiB, capped at 8).
// - `?browser_memory_mb=N` in the page's address replaces "available": a way to try the editor as on
//   a small device, and how the tests make a model "too large" without a real one (simulated).

const MIB = 1048576;
const WASM32_BYTES = 4 * 1024 * MIB;

export function mib(bytes) {
  return (bytes / MIB).toFixed(1);
}

/** Bytes the model is expected to take at width × height (see the file's comment). */
export function neededBytes({ modelBytes, float16Weights, fullResChannels }, width, height) {
  const weights = float16Weights ? 2 * modelBytes : modelBytes;
  return modelBytes + weights + 3 * fullResChannels * width * height * 4;
}

/** What this browser can give the model, and why: an override (browser_memory_mb), or the limits it has. */
export function availableBytes({ overrideMb = null, deviceMemoryGb = null } = {}) {
  if (overrideMb !== null && Number.isFinite(overrideMb) && overrideMb > 0) {
    return { bytes: overrideMb * MIB, why: `the page's limit browser_memory_mb=${overrideMb}` };
  }
  if (deviceMemoryGb) {
    const quarter = (deviceMemoryGb * 1024 * MIB) / 4;
    if (quarter < WASM32_BYTES) return { bytes: quarter, why: `a quarter of this device's ${deviceMemoryGb} GiB` };
  }
  return { bytes: WASM32_BYTES, why: 'WebAssembly\'s 4 GiB memory' };
}

/** Null when it fits, else the message the visitor reads. */
export function tooLargeMessage(model, width, height, available) {
  const needed = neededBytes(model, width, height);
  if (needed <= available.bytes) return null;
  return `the model needs about ${mib(needed)} MiB of this browser's memory at ${width}×${height} ` +
    `(the ${mib(model.modelBytes)} MiB model and its working memory), more than the ${mib(available.bytes)} MiB it can give (${available.why})`;
}

/** An error from loading or running the model, said as running out of memory where it is that. */
export function explainFailure(message) {
  const oom = /out of memory|bad_alloc|failed to allocate|allocation failed|could not allocate|memory access out of bounds|Cannot enlarge memory|RangeError: Array buffer/i;
  return oom.test(message) ? `this browser ran out of memory for the model (${message})` : message;
}
