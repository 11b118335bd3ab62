// Bicubic resizing of 8-bit images with PIL's conventions (what the official code's
// Image.BICUBIC does): pixel centres at i + 0.5 in both images, the Keys cubic with a = -0.5,
// the kernel widened by the scale factor when shrinking (antialiasing), a horizontal pass then a
// vertical one, each rounded and clipped to 8 bits.
//
// Why not sharp's resize: libvips places its samples differently (at 40→32 px its output is shifted
// by about half an output pixel against the centre convention), and the photo must stay aligned
// with the label map, which is resized by nearest neighbour with the centre convention.

const A = -0.5;

function cubic(x: number): number {
  if (x < 0) x = -x;
  if (x < 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * A;
  return 0;
}

interface Taps {
  /** First input index per output index. */
  start: Int32Array;
  /** Number of taps per output index. */
  count: Int32Array;
  /** Weights, `maxTaps` per output index. */
  weights: Float64Array;
  maxTaps: number;
}

function taps(inLen: number, outLen: number): Taps {
  const scale = inLen / outLen;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outLen);
  const count = new Int32Array(outLen);
  const weights = new Float64Array(outLen * maxTaps);
  for (let o = 0; o < outLen; o++) {
    const centre = (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const hi = Math.min(Math.trunc(centre + support + 0.5), inLen);
    let sum = 0;
    const n = hi - lo;
    for (let k = 0; k < n; k++) {
      const w = cubic((k + lo - centre + 0.5) / filterScale);
      weights[o * maxTaps + k] = w;
      sum += w;
    }
    if (sum !== 0) for (let k = 0; k < n; k++) (weights[o * maxTaps + k] as number) /= sum;
    start[o] = lo;
    count[o] = n;
  }
  return { start, count, weights, maxTaps };
}

function clip8(v: number): number {
  // Round half up, as PIL's fixed-point code does (the Uint8Array store truncates the rest).
  const r = v + 0.5;
  return r < 0 ? 0 : r >= 255 ? 255 : r;
}

/** Resizes interleaved 8-bit pixels (any channel count) bicubically to outW × outH. */
export function resizeBicubic(src: Uint8Array, inW: number, inH: number, channels: number, outW: number, outH: number): Uint8Array {
  if (src.length !== inW * inH * channels) throw new Error(`resizeBicubic: ${src.length} bytes is not ${inW}×${inH}×${channels}`);
  let cur = src;
  let curW = inW;
  if (outW !== inW) {
    const t = taps(inW, outW);
    const out = new Uint8Array(outW * inH * channels);
    const { start, count, weights, maxTaps } = t;
    for (let y = 0; y < inH; y++) {
      const rowIn = y * inW * channels;
      const rowOut = y * outW * channels;
      if (channels === 3) {
        // The common case, unrolled over channels: one pass over the taps per output pixel.
        for (let x = 0; x < outW; x++) {
          const n = count[x] as number;
          const wBase = x * maxTaps;
          let p = rowIn + (start[x] as number) * 3;
          let r = 0;
          let g = 0;
          let b = 0;
          for (let k = 0; k < n; k++, p += 3) {
            const w = weights[wBase + k] as number;
            r += w * (cur[p] as number);
            g += w * (cur[p + 1] as number);
            b += w * (cur[p + 2] as number);
          }
          const o = rowOut + x * 3;
          out[o] = clip8(r);
          out[o + 1] = clip8(g);
          out[o + 2] = clip8(b);
        }
      } else {
        for (let x = 0; x < outW; x++) {
          const s = start[x] as number;
          const n = count[x] as number;
          const wBase = x * maxTaps;
          for (let c = 0; c < channels; c++) {
            let acc = 0;
            for (let k = 0; k < n; k++) acc += (weights[wBase + k] as number) * (cur[rowIn + (s + k) * channels + c] as number);
            out[rowOut + x * channels + c] = clip8(acc);
          }
        }
      }
    }
    cur = out;
    curW = outW;
  }
  if (outH !== inH) {
    const { start, count, weights, maxTaps } = taps(inH, outH);
    const stride = curW * channels;
    const out = new Uint8Array(stride * outH);
    const acc = new Float64Array(stride);
    for (let y = 0; y < outH; y++) {
      const s = start[y] as number;
      const n = count[y] as number;
      const wBase = y * maxTaps;
      acc.fill(0);
      // Row by row: contiguous reads, and the compiler keeps the inner loop tight.
      for (let k = 0; k < n; k++) {
        const w = weights[wBase + k] as number;
        const row = (s + k) * stride;
        for (let i = 0; i < stride; i++) acc[i] += w * (cur[row + i] as number);
      }
      const rowOut = y * stride;
      for (let i = 0; i < stride; i++) out[rowOut + i] = clip8(acc[i] as number);
    }
    cur = out;
  }
  return cur === src ? src.slice() : cur;
}
