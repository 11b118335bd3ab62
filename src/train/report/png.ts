// RGB bytes → PNG file, through sharp (loaded on first use, so the rest of the reporting works
// without it).
import { writeFileAtomic } from './atomic.js';

/** Throws unless rgb holds exactly width × height × 3 bytes and the sizes are positive integers. */
export function checkRgb(rgb: Uint8Array, width: number, height: number, what = 'image'): void {
  if (!(rgb instanceof Uint8Array)) throw new TypeError(`${what}: rgb must be a Uint8Array`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`${what}: width and height must be positive integers (got ${width}×${height})`);
  }
  if (rgb.length !== width * height * 3) {
    throw new RangeError(`${what}: ${rgb.length} bytes for ${width}×${height} RGB (expected ${width * height * 3})`);
  }
}

/** Encodes interleaved RGB (row-major, 3 bytes a pixel) as PNG. */
export async function encodePng(rgb: Uint8Array, width: number, height: number): Promise<Buffer> {
  checkRgb(rgb, width, height);
  const { default: sharp } = await import('sharp');
  return sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** Encodes and writes a PNG atomically (a reader never sees half a file). */
export async function savePng(path: string, rgb: Uint8Array, width: number, height: number): Promise<void> {
  await writeFileAtomic(path, await encodePng(rgb, width, height));
}
