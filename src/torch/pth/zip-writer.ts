import { crc32 } from './crc32.js';

export interface ZipInput {
  name: string;
  data: Uint8Array;
}

export interface ZipWriteOptions {
  /** Align each entry's payload to this many bytes from the start of the file (PyTorch: 64). */
  align?: number;
  /** Write zip64 records even when the archive is small (for tests). */
  forceZip64?: boolean;
}

const U32_MAX = 0xffffffff;
const VERSION_STORED = 20;
const VERSION_ZIP64 = 45;
const DOS_DATE_1980_01_01 = 0x0021;
const MADE_BY_UNIX = 3 << 8;
const EXTERNAL_ATTR_FILE_0644 = (0o100644 << 16) >>> 0;

/**
 * Lays out a zip archive of stored (uncompressed) entries as a list of chunks to be written in
 * order; payloads are passed through as-is (no copy). Like PyTorch's writer, each local header
 * carries an extra field `FB` + padding so that every payload starts on an `align`-byte boundary.
 * Sizes and CRC-32 go in the local headers (no data descriptors); zip64 records are written when
 * a size or offset needs them.
 */
export function zipStoredChunks(inputs: ZipInput[], options: ZipWriteOptions = {}): Uint8Array[] {
  const align = options.align ?? 64;
  const force = options.forceZip64 ?? false;
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  let anyZip64 = force || inputs.length >= 0xffff;

  for (const input of inputs) {
    const name = enc.encode(input.name);
    const size = input.data.length;
    const crc = crc32(input.data);
    const bigSize = force || size >= U32_MAX;
    const bigOffset = force || offset >= U32_MAX;
    if (bigSize || bigOffset) anyZip64 = true;

    const z64LocalLen = bigSize ? 20 : 0;
    const base = offset + 30 + name.length + z64LocalLen + 4;
    const pad = align > 1 ? (align - (base % align)) % align : 0;
    const extraLen = z64LocalLen + 4 + pad;

    const local = new Uint8Array(30 + name.length + extraLen);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, bigSize ? VERSION_ZIP64 : VERSION_STORED, true);
    lv.setUint16(6, 0, true); // flags
    lv.setUint16(8, 0, true); // stored
    lv.setUint16(10, 0, true); // time
    lv.setUint16(12, DOS_DATE_1980_01_01, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, bigSize ? U32_MAX : size, true);
    lv.setUint32(22, bigSize ? U32_MAX : size, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, extraLen, true);
    local.set(name, 30);
    let e = 30 + name.length;
    if (bigSize) {
      lv.setUint16(e, 0x0001, true);
      lv.setUint16(e + 2, 16, true);
      lv.setBigUint64(e + 4, BigInt(size), true);
      lv.setBigUint64(e + 12, BigInt(size), true);
      e += 20;
    }
    lv.setUint16(e, 0x4246, true); // 'F','B'
    lv.setUint16(e + 2, pad, true);
    local.fill(0x5a, e + 4, e + 4 + pad); // 'Z'

    // central directory record
    const z64Fields: number[] = [];
    if (bigSize) z64Fields.push(size, size);
    if (bigOffset) z64Fields.push(offset);
    const cExtraLen = z64Fields.length ? 4 + 8 * z64Fields.length : 0;
    const cen = new Uint8Array(46 + name.length + cExtraLen);
    const cv = new DataView(cen.buffer);
    const needed = bigSize || bigOffset ? VERSION_ZIP64 : VERSION_STORED;
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, MADE_BY_UNIX | needed, true);
    cv.setUint16(6, needed, true);
    cv.setUint16(8, 0, true);
    cv.setUint16(10, 0, true);
    cv.setUint16(12, 0, true);
    cv.setUint16(14, DOS_DATE_1980_01_01, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, bigSize ? U32_MAX : size, true);
    cv.setUint32(24, bigSize ? U32_MAX : size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, cExtraLen, true);
    cv.setUint16(32, 0, true); // comment
    cv.setUint16(34, 0, true); // disk
    cv.setUint16(36, 0, true); // internal attributes
    cv.setUint32(38, EXTERNAL_ATTR_FILE_0644, true);
    cv.setUint32(42, bigOffset ? U32_MAX : offset, true);
    cen.set(name, 46);
    if (cExtraLen) {
      let c = 46 + name.length;
      cv.setUint16(c, 0x0001, true);
      cv.setUint16(c + 2, 8 * z64Fields.length, true);
      c += 4;
      for (const f of z64Fields) {
        cv.setBigUint64(c, BigInt(f), true);
        c += 8;
      }
    }
    central.push(cen);

    chunks.push(local);
    if (input.data.length) chunks.push(input.data);
    offset += local.length + size;
  }

  const cdOffset = offset;
  let cdSize = 0;
  for (const c of central) {
    chunks.push(c);
    cdSize += c.length;
  }
  offset += cdSize;
  if (cdOffset >= U32_MAX || cdSize >= U32_MAX) anyZip64 = true;

  if (anyZip64) {
    const rec = new Uint8Array(56 + 20);
    const v = new DataView(rec.buffer);
    v.setUint32(0, 0x06064b50, true);
    v.setBigUint64(4, 44n, true);
    v.setUint16(12, MADE_BY_UNIX | VERSION_ZIP64, true);
    v.setUint16(14, VERSION_ZIP64, true);
    v.setUint32(16, 0, true);
    v.setUint32(20, 0, true);
    v.setBigUint64(24, BigInt(inputs.length), true);
    v.setBigUint64(32, BigInt(inputs.length), true);
    v.setBigUint64(40, BigInt(cdSize), true);
    v.setBigUint64(48, BigInt(cdOffset), true);
    // locator
    v.setUint32(56, 0x07064b50, true);
    v.setUint32(60, 0, true);
    v.setBigUint64(64, BigInt(offset), true);
    v.setUint32(72, 1, true);
    chunks.push(rec);
  }

  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  const n16 = anyZip64 && (force || inputs.length >= 0xffff) ? 0xffff : inputs.length;
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(4, 0, true);
  ev.setUint16(6, 0, true);
  ev.setUint16(8, n16, true);
  ev.setUint16(10, n16, true);
  ev.setUint32(12, anyZip64 && (force || cdSize >= U32_MAX) ? U32_MAX : cdSize, true);
  ev.setUint32(16, anyZip64 && (force || cdOffset >= U32_MAX) ? U32_MAX : cdOffset, true);
  ev.setUint16(20, 0, true);
  chunks.push(eocd);
  return chunks;
}

export function concatChunks(chunks: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}
