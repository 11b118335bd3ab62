// A synthesised image as pictures, without the engine: what synthesis through an exported model
// (onnxruntime's float output) needs to give the same files as synthesis through libtorch.
import { resizeBicubic } from '../data/resample.js';

export interface Picture {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/**
 * A [c, h, w] image in [-1, 1] (c 1 or 3) → RGB bytes as the engine's imageToRgb (the official
 * tensor2im): (x + 1) / 2 · 255, clamped, rounded down; each step in float32, as the tensor ops are.
 */
export function floatImageToRgb(data: Float32Array, c: number, h: number, w: number): Picture {
  const f = Math.fround;
  const rgb = new Uint8Array(h * w * 3);
  const plane = h * w;
  for (let i = 0; i < plane; i++) {
    for (let k = 0; k < 3; k++) {
      const x = data[(c === 1 ? 0 : k) * plane + i]!;
      const v = f(f(f(x + 1) / 2) * 255);
      rgb[i * 3 + k] = Math.floor(Math.min(255, Math.max(0, v)));
    }
  }
  return { rgb, width: w, height: h };
}

/** Source index and weight per output index of bilinear interpolation with align_corners false (torch's). */
function bilinearTaps(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; t: Float32Array } {
  const scale = inSize / outSize;
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const t = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(0, (o + 0.5) * scale - 0.5);
    const lo = Math.min(Math.floor(src), inSize - 1);
    i0[o] = lo;
    i1[o] = Math.min(lo + 1, inSize - 1);
    t[o] = src - lo;
  }
  return { i0, i1, t };
}

/** A [c, h, w] float image resized to [c, H, W] as F.interpolate(mode 'bilinear') does (no antialias). */
export function resizeBilinear(data: Float32Array, c: number, h: number, w: number, H: number, W: number): Float32Array {
  const ys = bilinearTaps(h, H);
  const xs = bilinearTaps(w, W);
  const out = new Float32Array(c * H * W);
  for (let k = 0; k < c; k++) {
    const src = k * h * w;
    for (let y = 0; y < H; y++) {
      const r0 = src + ys.i0[y]! * w;
      const r1 = src + ys.i1[y]! * w;
      const ty = ys.t[y]!;
      for (let x = 0; x < W; x++) {
        const a = xs.i0[x]!;
        const b = xs.i1[x]!;
        const tx = xs.t[x]!;
        const top = data[r0 + a]! * (1 - tx) + data[r0 + b]! * tx;
        const bottom = data[r1 + a]! * (1 - tx) + data[r1 + b]! * tx;
        out[(k * H + y) * W + x] = top * (1 - ty) + bottom * ty;
      }
    }
  }
  return out;
}

/**
 * A result image stretched for --aspect_ratio (as the official family of test scripts save them):
 * above 1 the width is multiplied by it, below 1 the height divided by it; bicubic. 1 returns it as is.
 */
export function resizeRgb(p: Picture, aspectRatio: number): Picture {
  if (!(aspectRatio > 0)) throw new Error(`--aspect_ratio must be positive, got ${aspectRatio}`);
  if (aspectRatio === 1) return p;
  const width = aspectRatio > 1 ? Math.trunc(p.width * aspectRatio) : p.width;
  const height = aspectRatio < 1 ? Math.trunc(p.height / aspectRatio) : p.height;
  return { rgb: resizeBicubic(p.rgb, p.width, p.height, 3, width, height), width, height };
}
