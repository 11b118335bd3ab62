/** Largest tensor payload we will materialize (Node 20's Buffer limit is 4 GiB). */
const MAX_BYTES = 2 ** 32;

/**
 * The elements of a strided view (`offset`, `shape`, `stride`, all in elements) of a storage's raw
 * bytes as a contiguous row-major buffer: a view of `src` when they are contiguous there, else a
 * new buffer they are copied into. Bit-exact (elements are moved as
 * unsigned integers, so NaN payloads survive). Throws on shapes, strides or offsets that reach
 * outside the storage.
 */
export function gatherStrided(
  src: Uint8Array,
  elemSize: number,
  offset: number,
  shape: readonly number[],
  stride: readonly number[],
): Uint8Array {
  if (shape.length !== stride.length) {
    throw new Error(`shape ${fmt(shape)} and stride ${fmt(stride)} have different lengths`);
  }
  checkInts('storage offset', [offset]);
  checkInts('shape', shape);
  checkInts('stride', stride);
  const storageNumel = Math.floor(src.length / elemSize);
  let numel = 1;
  for (const s of shape) numel *= s;
  if (numel * elemSize > MAX_BYTES) throw new Error(`tensor of shape ${fmt(shape)} is too large`);
  if (numel === 0) return new Uint8Array(0);

  let last = offset;
  for (let d = 0; d < shape.length; d++) last += (shape[d]! - 1) * stride[d]!;
  if (last >= storageNumel) {
    throw new Error(
      `view (offset ${offset}, shape ${fmt(shape)}, stride ${fmt(stride)}) reaches element ${last} ` +
        `of a storage of ${storageNumel} elements`,
    );
  }

  let contiguous = true;
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) contiguous = false;
    expected *= shape[d]!;
  }
  // The common case (every tensor of a state dict): a view of the storage's bytes, no copy.
  if (contiguous) return src.subarray(offset * elemSize, (offset + numel) * elemSize);

  const out = new Uint8Array(numel * elemSize);
  const unit = elemSize === 8 ? 4 : elemSize;
  const words = elemSize / unit;
  let s = src;
  if (s.byteOffset % unit !== 0) s = new Uint8Array(s); // copy (works for Buffers too)
  const view = (b: Uint8Array): Uint8Array | Uint16Array | Uint32Array => {
    const len = Math.floor(b.length / unit);
    if (unit === 1) return b;
    return unit === 2 ? new Uint16Array(b.buffer, b.byteOffset, len) : new Uint32Array(b.buffer, b.byteOffset, len);
  };
  const from = view(s);
  const to = view(out);

  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  let p = offset;
  for (let i = 0; i < numel; i++) {
    if (words === 1) {
      to[i] = from[p]!;
    } else {
      to[2 * i] = from[2 * p]!;
      to[2 * i + 1] = from[2 * p + 1]!;
    }
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]!++;
      p += stride[d]!;
      if (idx[d]! < shape[d]!) break;
      p -= stride[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** Row-major strides of a contiguous tensor of this shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = acc;
    acc *= shape[d]!;
  }
  return st;
}

function checkInts(what: string, xs: readonly number[]): void {
  for (const x of xs) {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) {
      throw new Error(`invalid ${what} ${fmt(xs)}`);
    }
  }
}

function fmt(xs: readonly unknown[]): string {
  return `(${xs.map(String).join(', ')})`;
}
