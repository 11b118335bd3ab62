// RGB bytes → PNG file (encoded by the data layer's one PNG encoder), written atomically.
import { encodePng } from '../data/image-io.js';
import { writeFileAtomic } from '../util/atomic-file.js';

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

/** Encodes and writes a PNG atomically (a reader never sees half a file). */
export async function savePng(path: string, rgb: Uint8Array, width: number, height: number): Promise<void> {
  checkRgb(rgb, width, height);
  await writeFileAtomic(path, await encodePng(rgb, width, height, 3));
}
