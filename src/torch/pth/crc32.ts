import * as zlib from 'node:zlib';

let table: Uint32Array | undefined;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** Portable CRC-32 (IEEE 802.3, as used by zip). `prev` continues a running checksum. */
export function crc32Js(data: Uint8Array, prev = 0): number {
  const t = (table ??= makeTable());
  let c = (prev ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

type NativeCrc = (data: Uint8Array, value?: number) => number;
const native: NativeCrc | undefined = (zlib as unknown as { crc32?: NativeCrc }).crc32;

/** CRC-32 of `data`; uses node:zlib's native crc32 where the Node version has it (≥ 20.15). */
export function crc32(data: Uint8Array, prev = 0): number {
  if (native) return native(data, prev) >>> 0;
  return crc32Js(data, prev);
}
