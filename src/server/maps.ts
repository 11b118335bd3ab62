// Label and instance maps as the editor's API carries them, and every check on them. In JSON a map
// is base64 of width×height little-endian uint16 values, row-major (class ids in a label map,
// instance ids in an instance map: class·1000 + k for things, the class id for stuff). Uploaded
// maps are lossless PNGs (8- or 16-bit grey, or palette), decoded by the data layer's reader.
import { decodeIdMap, type IdMapRole } from '../data/index.js';
import { describeLabelIds, labelIdsOutside } from '../data/labels.js';
import { DataError } from '../data/errors.js';
import { isJpeg, readPngHeader } from '../data/png-palette.js';
import { classOfInstance } from '../features/instance-features.js';
import type { StyleBank } from '../features/style-bank.js';
import { HttpError, LIMITS } from './limits.js';

export interface MapSize {
  width: number;
  height: number;
}

export interface SizeRule {
  /** The smallest side the run takes (twice G's size multiple). */
  minSide: number;
}

/** Throws 400 unless width × height is a size the editor takes. */
export function checkSize(width: unknown, height: unknown, rule: SizeRule, what = 'the map'): MapSize {
  if (!Number.isInteger(width) || !Number.isInteger(height)) throw new HttpError(400, `width and height must be integers (got ${String(width)}, ${String(height)})`);
  const w = width as number;
  const h = height as number;
  if (w > LIMITS.maxWidth || h > LIMITS.maxHeight) {
    throw new HttpError(400, `${what} is ${w}×${h}: the editor takes at most ${LIMITS.maxWidth}×${LIMITS.maxHeight}`);
  }
  if (w < rule.minSide || h < rule.minSide) {
    throw new HttpError(400, `${what} is ${w}×${h}: this run's generator needs at least ${rule.minSide} pixels a side`);
  }
  return { width: w, height: h };
}

export function encodeIds(ids: ArrayLike<number>): string {
  const u16 = Uint16Array.from(ids);
  return Buffer.from(u16.buffer, u16.byteOffset, u16.byteLength).toString('base64');
}

/** base64 uint16 → the values, checked to be exactly width × height of them. */
export function decodeIds(b64: unknown, size: MapSize, what: string): Uint16Array {
  if (typeof b64 !== 'string') throw new HttpError(400, `${what} must be a base64 string of ${size.width}×${size.height} uint16 values`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new HttpError(400, `${what} is not base64`);
  const bytes = Buffer.from(b64, 'base64');
  const expected = size.width * size.height * 2;
  if (bytes.length !== expected) {
    throw new HttpError(400, `${what} holds ${bytes.length} bytes; ${size.width}×${size.height} uint16 values are ${expected}`);
  }
  const out = new Uint16Array(size.width * size.height);
  Buffer.from(out.buffer).set(bytes); // a copy: aligned, and ours to transfer to a worker
  return out;
}

/** Throws 400 naming the ids (and their pixel counts) when a label map holds ids ≥ label_nc. */
export function checkLabelIds(label: ArrayLike<number>, labelNc: number): void {
  const bad = labelIdsOutside(label, labelNc);
  if (bad) throw new HttpError(400, `the label map holds class ${describeLabelIds(bad, 10)}: this run has label_nc ${labelNc} (ids 0–${labelNc - 1})`);
}

/**
 * Style choices {instance id: cluster index} checked against the instance map and the style bank:
 * every instance must be in the map, its class must have styles, the index must be one of them.
 */
export function checkStyleChoices(styles: unknown, inst: Uint16Array | null, bank: StyleBank | null, className: (id: number) => string): Array<[number, number]> {
  if (styles === undefined || styles === null) return [];
  if (typeof styles !== 'object' || Array.isArray(styles)) throw new HttpError(400, 'styles must be an object {instance id: cluster index}');
  const entries = Object.entries(styles as Record<string, unknown>);
  if (entries.length === 0) return [];
  if (!bank) throw new HttpError(400, 'this run has no instance styles (it was trained without --instance_feat, or its features have not been clustered): leave styles out');
  if (!inst) throw new HttpError(400, 'styles need an instance map (inst)');
  const present = new Set<number>(inst);
  const out: Array<[number, number]> = [];
  for (const [key, value] of entries) {
    const id = Number(key);
    if (!/^\d+$/.test(key) || !present.has(id)) throw new HttpError(400, `style choice for instance ${key}, which is not in the instance map`);
    const cls = classOfInstance(id);
    const count = bank.styleCount(cls);
    if (count === 0) {
      const have = bank.classes().map((c) => className(c.classId)).join(', ');
      throw new HttpError(400, `instance ${id} (${className(cls)}) has no styles to choose from; the run has styles for: ${have}`);
    }
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) >= count) {
      throw new HttpError(400, `style ${String(value)} for instance ${id}: ${className(cls)} has styles 0–${count - 1}`);
    }
    out.push([id, value as number]);
  }
  return out;
}

/**
 * An uploaded id map: PNG only (a JPEG's ids are not classes), its size read from the header before
 * any decoding (a small file may claim a huge image), then decoded losslessly.
 */
export async function decodeUpload(bytes: Buffer, role: IdMapRole, rule: SizeRule): Promise<{ width: number; height: number; ids: Int32Array }> {
  const name = `the uploaded ${role}`;
  if (bytes.length === 0) throw new HttpError(400, `${name} is empty`);
  if (isJpeg(bytes)) throw new HttpError(415, `${name} is a JPEG: ${role}s must be lossless PNG (JPEG compression changes the ids). Export the map as PNG from its source.`);
  const header = readPngHeader(bytes);
  if (!header) throw new HttpError(415, `${name} is not a PNG image: upload the ${role} as a PNG of ids (8- or 16-bit grey, or palette)`);
  checkSize(header.width, header.height, rule, name);
  try {
    const map = await decodeIdMap(bytes, name, role);
    return { width: map.width, height: map.height, ids: map.data };
  } catch (e) {
    if (e instanceof DataError) throw new HttpError(415, e.message);
    throw new HttpError(400, `${name} could not be read: ${(e as Error).message}`);
  }
}
