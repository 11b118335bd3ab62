// Tiny images written straight with sharp (not through the code under test).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import sharp from 'sharp';

export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'p2phd-data-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function ensureParent(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
}

/** 8-bit greyscale PNG from a value function. */
export async function writeGrey8(file: string, w: number, h: number, f: (x: number, y: number) => number): Promise<void> {
  ensureParent(file);
  const px = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[y * w + x] = f(x, y);
  await sharp(px, { raw: { width: w, height: h, channels: 1 } }).toColourspace('b-w').png().toFile(file);
}

/** 16-bit greyscale PNG from a value function. */
export async function writeGrey16(file: string, w: number, h: number, f: (x: number, y: number) => number): Promise<void> {
  ensureParent(file);
  const px = new Uint16Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[y * w + x] = f(x, y);
  await sharp(px, { raw: { width: w, height: h, channels: 1 } }).toColourspace('grey16').png().toFile(file);
}

/** 8-bit RGB image (PNG, or JPEG when the name ends .jpg) from a colour function. */
export async function writeRgb(file: string, w: number, h: number, f: (x: number, y: number) => [number, number, number]): Promise<void> {
  ensureParent(file);
  const px = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = f(x, y);
      px.set(c, (y * w + x) * 3);
    }
  }
  const img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
  await (file.endsWith('.jpg') ? img.jpeg({ quality: 90 }) : img.png()).toFile(file);
}

/** A palette PNG built byte by byte: the stored indices are `f(x, y)` (8-bit indices). */
export function paletteIndexPng(w: number, h: number, palette: Array<[number, number, number]>, f: (x: number, y: number) => number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 3; // palette
  const rows = Buffer.alloc(h * (w + 1));
  for (let y = 0; y < h; y++) {
    rows[y * (w + 1)] = y % 2 === 0 ? 0 : 1; // filters none and sub, to exercise unfiltering
    for (let x = 0; x < w; x++) {
      const v = f(x, y);
      const left = x > 0 ? f(x - 1, y) : 0;
      rows[y * (w + 1) + 1 + x] = y % 2 === 0 ? v : (v - left) & 0xff;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('PLTE', Buffer.from(palette.flat())),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Decodes an RGB(A) or grey image file to 8-bit RGB with sharp, for checking written photos. */
export async function decodeRgb(file: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** Decodes a one-channel PNG's raw values (8- or 16-bit) with sharp. */
export async function decodeGrey(file: string): Promise<{ data: Uint16Array | Uint8Array; width: number; height: number; depth: string }> {
  const meta = await sharp(file).metadata();
  const sixteen = meta.depth === 'ushort';
  const { data, info } = await sharp(file)
    .toColourspace(sixteen ? 'grey16' : 'b-w')
    .raw({ depth: sixteen ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const arr = sixteen ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2).slice() : new Uint8Array(data);
  return { data: arr, width: info.width, height: info.height, depth: meta.depth ?? '?' };
}
