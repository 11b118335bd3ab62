// Reads the palette indices of a palette ("indexed colour") PNG. Such label maps (Pascal VOC's, and
// what many paint programs write) store class ids as indices; decoders, sharp included, expand them
// to RGB, and the official code (PIL) reads the indices. This small decoder returns the indices
// themselves, losslessly, whatever colours (or duplicate colours, or ICC profile) the palette has.
import { promisify } from 'node:util';
import { inflate } from 'node:zlib';
import { DataError } from './errors.js';

const inflateAsync = promisify(inflate);
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colourType: number;
  interlace: number;
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.equals(bytes.subarray(0, 8));
}

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** The IHDR of a PNG, or null when the bytes are not a PNG with a readable header. */
export function readPngHeader(bytes: Uint8Array): PngHeader | null {
  if (!isPng(bytes) || bytes.length < 33) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return null;
  return {
    width: view.getUint32(16),
    height: view.getUint32(20),
    bitDepth: bytes[24] as number,
    colourType: bytes[25] as number,
    interlace: bytes[28] as number,
  };
}

/** Decodes a palette PNG's indices into one byte per pixel, row-major. */
export async function decodePaletteIndices(bytes: Uint8Array, file: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const header = readPngHeader(bytes);
  if (!header || header.colourType !== 3) throw new DataError(`${file}: not a palette PNG`, [file]);
  const { width, height, bitDepth, interlace } = header;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat: Uint8Array[] = [];
  let pos = 8;
  let sawEnd = false;
  while (pos + 8 <= bytes.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (pos + 12 + length > bytes.length) break;
    if (type === 'IDAT') idat.push(bytes.subarray(pos + 8, pos + 8 + length));
    if (type === 'IEND') {
      sawEnd = true;
      break;
    }
    pos += 12 + length;
  }
  if (!sawEnd) throw new DataError(`Could not read ${file}: the PNG is truncated (no IEND chunk)`, [file]);
  let raw: Buffer;
  try {
    raw = await inflateAsync(Buffer.concat(idat));
  } catch (e) {
    throw new DataError(`Could not read ${file}: its image data is corrupt (${(e as Error).message})`, [file]);
  }
  const out = new Uint8Array(width * height);
  const passes = interlace === 1 ? ADAM7 : [[0, 0, 1, 1] as const];
  let offset = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((width - x0) / dx);
    const ph = Math.ceil((height - y0) / dy);
    if (pw <= 0 || ph <= 0) continue;
    const stride = Math.ceil((pw * bitDepth) / 8);
    const need = ph * (stride + 1);
    if (offset + need > raw.length) throw new DataError(`Could not read ${file}: the PNG's image data is truncated`, [file]);
    const rows = unfilter(raw.subarray(offset, offset + need), stride, ph, file);
    offset += need;
    const mask = (1 << bitDepth) - 1;
    for (let y = 0; y < ph; y++) {
      const row = y * stride;
      const outRow = (y0 + y * dy) * width;
      for (let x = 0; x < pw; x++) {
        let v: number;
        if (bitDepth === 8) v = rows[row + x] as number;
        else {
          const bit = x * bitDepth;
          v = ((rows[row + (bit >> 3)] as number) >> (8 - bitDepth - (bit & 7))) & mask;
        }
        out[outRow + x0 + x * dx] = v;
      }
    }
  }
  return { data: out, width, height };
}

const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** Undoes PNG's per-row filters for a one-byte-per-pixel (or packed) image. */
function unfilter(data: Uint8Array, stride: number, rows: number, file: string): Uint8Array {
  const out = new Uint8Array(stride * rows);
  const bpp = 1;
  for (let y = 0; y < rows; y++) {
    const filter = data[y * (stride + 1)] as number;
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const prev = dst - stride;
    for (let x = 0; x < stride; x++) {
      const raw = data[src + x] as number;
      const a = x >= bpp ? (out[dst + x - bpp] as number) : 0;
      const b = y > 0 ? (out[prev + x] as number) : 0;
      const c = y > 0 && x >= bpp ? (out[prev + x - bpp] as number) : 0;
      let v: number;
      switch (filter) {
        case 0: v = raw; break;
        case 1: v = raw + a; break;
        case 2: v = raw + b; break;
        case 3: v = raw + ((a + b) >> 1); break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v = raw + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default:
          throw new DataError(`Could not read ${file}: unknown PNG row filter ${filter} (the file is corrupt)`, [file]);
      }
      out[dst + x] = v & 0xff;
    }
  }
  return out;
}
