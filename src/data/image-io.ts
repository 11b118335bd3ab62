// Decoding and encoding images with sharp (libvips). sharp does its work on libuv's thread pool, so
// decoding the next batch runs while the main thread computes.
//
// Two kinds of reads:
// - photos (and RGB input maps, feature maps): 8-bit sRGB, three channels, alpha dropped, grey
//   expanded, as PIL's convert('RGB') does (resizing is resample.ts's job);
// - id maps (label and instance maps): the raw sample values, losslessly, 8- or 16-bit. A JPEG
//   id map is refused: its ids would not be classes any more.
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { DataError } from './errors.js';
import { decodePaletteIndices, isJpeg, isPng, readPngHeader } from './png-palette.js';

export interface Size {
  width: number;
  height: number;
}

/** Interleaved 8-bit RGB, row-major. */
export interface RgbImage extends Size {
  data: Uint8Array;
}

/** One id per pixel, row-major. */
export interface IdMap extends Size {
  data: Int32Array;
}

export type IdMapRole = 'label map' | 'instance map';

export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.ppm', '.bmp', '.tif', '.tiff', '.webp'];

export function isImageFile(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

function unreadable(file: string, e: unknown): DataError {
  const msg = e instanceof Error ? e.message : String(e);
  if (msg.startsWith(file)) return new DataError(msg, [file]);
  return new DataError(`Could not read image ${file}: ${msg.trim()} (is the file truncated or not an image?)`, [file]);
}

async function readBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new DataError(`Could not read ${file}: ${(e as Error).message}`, [file]);
  }
}

/** Width and height from the file's header (cheap: no pixel decoding). */
export async function readImageSize(file: string): Promise<Size> {
  try {
    const m = await sharp(file).metadata();
    if (!m.width || !m.height) throw new Error('no size in its header');
    return { width: m.width, height: m.height };
  } catch (e) {
    throw unreadable(file, e);
  }
}

/** An image as 8-bit RGB (alpha dropped, grey expanded, 16-bit scaled down), at its own size. */
export async function readRgb(file: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(file, { failOn: 'truncated' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    throw unreadable(file, e);
  }
}

/**
 * A label or instance map's raw values, losslessly: 8- or 16-bit greyscale PNG (or TIFF), palette
 * PNG (the palette indices are the ids), or an RGB PNG whose three channels are equal.
 */
export async function readIdMap(file: string, role: IdMapRole): Promise<IdMap> {
  return decodeIdMap(await readBytes(file), file, role);
}

/** readIdMap on bytes already in memory (an upload); `file` names them in messages. */
export async function decodeIdMap(bytes: Buffer, file: string, role: IdMapRole): Promise<IdMap> {
  if (isJpeg(bytes) || /\.jpe?g$/i.test(file)) {
    throw new DataError(
      `${file}: ${role}s must be lossless PNG: JPEG changes class ids (its compression blends neighbouring values). ` +
        'Re-export the map as PNG from its source, not from the JPEG.',
      [file],
    );
  }
  const header = readPngHeader(bytes);
  if (header && header.colourType === 3) {
    const { data, width, height } = await decodePaletteIndices(bytes, file);
    return { data: Int32Array.from(data), width, height };
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (e) {
    throw unreadable(file, e);
  }
  if (!isPng(bytes) && meta.format !== 'tiff') {
    throw new DataError(`${file}: ${role}s must be lossless PNG (this file is ${meta.format ?? 'not an image'})`, [file]);
  }
  const sixteen = meta.depth === 'ushort' || meta.depth === 'short';
  if (meta.depth !== 'uchar' && !sixteen) {
    throw new DataError(`${file}: ${role}s must hold 8- or 16-bit integers; this one has '${meta.depth}' samples`, [file]);
  }
  const colour = (meta.channels ?? 1) >= 3;
  // Asking for the colourspace the file already has makes libvips pass the samples through untouched.
  const space = colour ? (sixteen ? 'rgb16' : 'srgb') : sixteen ? 'grey16' : 'b-w';
  let data: Buffer;
  let info: OutputInfo;
  try {
    ({ data, info } = await sharp(bytes, { failOn: 'truncated' })
      .toColourspace(space)
      .raw({ depth: sixteen ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw unreadable(file, e);
  }
  const n = info.width * info.height;
  const c = info.channels;
  const samples = sixteen ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2) : new Uint8Array(data.buffer, data.byteOffset, data.length);
  const out = new Int32Array(n);
  const used = colour ? 3 : 1;
  for (let i = 0; i < n; i++) {
    const v = samples[i * c] as number;
    for (let k = 1; k < used; k++) {
      if (samples[i * c + k] !== v) {
        throw new DataError(
          `${file}: this ${role} is an RGB image with different values in its channels (pixel ${i % info.width},${Math.floor(i / info.width)}). ` +
            `${role === 'label map' ? 'Label maps with label_nc > 0 must be single-channel class ids (use label_nc 0 to feed RGB maps as images)' : 'Instance maps must be single-channel ids'}.`,
          [file],
        );
      }
    }
    out[i] = v;
  }
  return { data: out, width: info.width, height: info.height };
}

/** PNG bytes of an interleaved 8-bit image (3 channels RGB by default; 1 grey; 4 RGBA). */
export async function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3 | 4 = 3): Promise<Buffer> {
  if (pixels.length !== width * height * channels) {
    throw new Error(`encodePng: ${pixels.length} bytes is not ${width}×${height}×${channels}`);
  }
  let p = sharp(pixels, { raw: { width, height, channels } });
  if (channels === 1) p = p.toColourspace('b-w');
  return p.png({ compressionLevel: 6, adaptiveFiltering: false }).toBuffer();
}

/** PNG bytes of a one-channel id map: 8-bit when every id fits, else 16-bit (ids up to 65535). */
export async function encodeIdPng(ids: ArrayLike<number>, width: number, height: number): Promise<Buffer> {
  const n = width * height;
  if (ids.length !== n) throw new Error(`encodeIdPng: ${ids.length} values is not ${width}×${height}`);
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = ids[i] as number;
    if (v < 0 || v > 65535 || !Number.isInteger(v)) throw new Error(`encodeIdPng: id ${v} does not fit a 16-bit PNG`);
    if (v > max) max = v;
  }
  if (max <= 255) return encodePng(Uint8Array.from(ids), width, height, 1);
  return sharp(Uint16Array.from(ids), { raw: { width, height, channels: 1 } })
    .toColourspace('grey16')
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
}
