import { inflateRawSync } from 'node:zlib';
import { crc32 } from './crc32.js';
import { PthError } from './errors.js';

/** One file of a zip archive, located through the central directory. */
export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

/**
 * A reader for the zip archives torch.save writes: central directory, stored (and, for
 * robustness, deflated) entries, zip64 end records and extra fields. Every offset is
 * bounds-checked, so a truncated or corrupt archive gives a PthError, never a crash.
 */
export class ZipReader {
  readonly entries: Map<string, ZipEntry> = new Map();
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.readCentralDirectory();
  }

  private fail(msg: string): never {
    throw new PthError(this.file, `corrupt or truncated zip archive: ${msg}`);
  }

  private u16(off: number): number {
    if (off < 0 || off + 2 > this.bytes.length) this.fail(`read past end at offset ${off}`);
    return this.view.getUint16(off, true);
  }
  private u32(off: number): number {
    if (off < 0 || off + 4 > this.bytes.length) this.fail(`read past end at offset ${off}`);
    return this.view.getUint32(off, true);
  }
  private u64(off: number): number {
    if (off < 0 || off + 8 > this.bytes.length) this.fail(`read past end at offset ${off}`);
    const v = this.view.getBigUint64(off, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`64-bit value too large at offset ${off}`);
    return Number(v);
  }

  private findEocd(): number {
    const min = Math.max(0, this.bytes.length - (22 + 0xffff));
    for (let off = this.bytes.length - 22; off >= min; off--) {
      if (this.view.getUint32(off, true) === SIG_EOCD) {
        const commentLen = this.view.getUint16(off + 20, true);
        if (off + 22 + commentLen <= this.bytes.length) return off;
      }
    }
    return this.fail('end of central directory record not found');
  }

  private readCentralDirectory(): void {
    if (this.bytes.length < 22) this.fail('file too short');
    const eocd = this.findEocd();
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);

    const loc = eocd - 20;
    if (loc >= 0 && this.u32(loc) === SIG_ZIP64_LOCATOR) {
      const z64 = this.u64(loc + 8);
      if (this.u32(z64) !== SIG_ZIP64_EOCD) this.fail('bad zip64 end of central directory record');
      count = this.u64(z64 + 32);
      cdSize = this.u64(z64 + 40);
      cdOffset = this.u64(z64 + 48);
    } else if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      this.fail('zip64 values without a zip64 end of central directory record');
    }
    if (cdOffset + cdSize > this.bytes.length) this.fail('central directory extends past end of file');

    const decoder = new TextDecoder('utf-8');
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      if (this.u32(p) !== SIG_CENTRAL) this.fail(`bad central directory entry #${i} at offset ${p}`);
      const method = this.u16(p + 10);
      const crc = this.u32(p + 16);
      let compressedSize = this.u32(p + 20);
      let size = this.u32(p + 24);
      const nameLen = this.u16(p + 28);
      const extraLen = this.u16(p + 30);
      const commentLen = this.u16(p + 32);
      let localHeaderOffset = this.u32(p + 42);
      const nameStart = p + 46;
      const extraStart = nameStart + nameLen;
      const end = extraStart + extraLen + commentLen;
      if (end > this.bytes.length) this.fail(`central directory entry #${i} extends past end of file`);
      const name = decoder.decode(this.bytes.subarray(nameStart, extraStart));

      // zip64 extended information: only the fields whose 32-bit value is saturated, in order.
      let q = extraStart;
      while (q + 4 <= extraStart + extraLen) {
        const id = this.u16(q);
        const len = this.u16(q + 2);
        if (q + 4 + len > extraStart + extraLen) this.fail(`bad extra field in entry ${name}`);
        if (id === 0x0001) {
          let r = q + 4;
          const take = (): number => {
            if (r + 8 > q + 4 + len) this.fail(`short zip64 extra field in entry ${name}`);
            const v = this.u64(r);
            r += 8;
            return v;
          };
          if (size === 0xffffffff) size = take();
          if (compressedSize === 0xffffffff) compressedSize = take();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
        }
        q += 4 + len;
      }
      this.entries.set(name, { name, method, crc32: crc, compressedSize, size, localHeaderOffset });
      p = end;
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Where an entry's payload starts in the file (after its local header). */
  dataOffset(entry: ZipEntry): number {
    const h = entry.localHeaderOffset;
    if (this.u32(h) !== SIG_LOCAL) this.fail(`bad local header for ${entry.name} at offset ${h}`);
    return h + 30 + this.u16(h + 26) + this.u16(h + 28);
  }

  /**
   * An entry's content. Stored entries are returned as a view into the archive bytes (no copy).
   * The CRC-32 is checked unless `verify` is false.
   */
  read(name: string, verify = true): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) throw new PthError(this.file, `zip archive has no entry '${name}'`);
    const start = this.dataOffset(entry);
    if (start + entry.compressedSize > this.bytes.length) {
      this.fail(`entry ${name} extends past end of file`);
    }
    const raw = this.bytes.subarray(start, start + entry.compressedSize);
    let out: Uint8Array;
    if (entry.method === 0) {
      out = raw;
    } else if (entry.method === 8) {
      try {
        out = inflateRawSync(raw);
      } catch (e) {
        return this.fail(`cannot inflate ${name}: ${(e as Error).message}`);
      }
    } else {
      throw new PthError(this.file, `zip entry ${name} uses unsupported compression method ${entry.method}`);
    }
    if (out.length !== entry.size) this.fail(`entry ${name} has ${out.length} bytes, expected ${entry.size}`);
    if (verify && crc32(out) !== entry.crc32) this.fail(`CRC-32 mismatch in entry ${name}`);
    return out;
  }
}
