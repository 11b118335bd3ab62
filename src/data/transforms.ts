// The official load-time transforms (data/base_dataset.py: get_params, get_transform), as a plan
// computed once per item and applied identically to the label map, instance map, photo and
// feature map:
//
//   1. resize   'resize' in resize_or_crop: to loadSize × loadSize;
//               'scale_width' in resize_or_crop: width loadSize, height trunc(loadSize·h/w)
//               (unchanged when the width already is loadSize);
//   2. crop     'crop' in resize_or_crop, and the image is wider or taller than fineSize: the
//               fineSize × fineSize square at a random offset; where the square passes the image's
//               edge the official code (PIL's crop) fills zeros, and so does this;
//   3. round    resize_or_crop 'none': each side to the nearest multiple of
//               base = 2^n_downsample_global (× 2^n_local_enhancers for netG local), rounding halves
//               to even as Python's round() does; resized only if a side changes;
//   4. flip     when training and not no_flip: left-right, with probability 1/2.
//
// At most one resize happens (step 1 or step 3). Maps are resized with nearest neighbour (the source
// pixel under the output pixel's centre, as PIL's NEAREST), photos bicubically (resample.ts, PIL's
// BICUBIC); crop and flip are index maps applied to either.
import type { DataOptions } from './options.js';
import type { Rng } from '../util/rng.js';
import type { Size } from './image-io.js';
import { DataError } from './errors.js';

export interface TransformParams {
  /** Crop offset: in the resized image, where the crop square's top-left corner lies. */
  cropX: number;
  cropY: number;
  flip: boolean;
}

export interface TransformPlan {
  source: Size;
  /** The resize target, or null when the image keeps its size. */
  resize: Size | null;
  /** The crop square, in resized coordinates, or null. */
  crop: { x: number; y: number; size: number } | null;
  flip: boolean;
  output: Size;
}

type TransformOptions = Pick<
  DataOptions,
  'resize_or_crop' | 'loadSize' | 'fineSize' | 'no_flip' | 'isTrain' | 'n_downsample_global' | 'netG' | 'n_local_enhancers'
>;

/**
 * Random crop offset and flip for one item (official get_params): the offset is uniform over the
 * positions that keep the crop inside the resized image (0 when it does not fit).
 */
export function drawParams(opt: TransformOptions, source: Size, rng: Rng): TransformParams {
  let w = source.width;
  let h = source.height;
  if (opt.resize_or_crop === 'resize_and_crop') {
    w = h = opt.loadSize;
  } else if (opt.resize_or_crop === 'scale_width_and_crop') {
    w = opt.loadSize;
    h = Math.floor((opt.loadSize * source.height) / source.width);
  }
  const cropX = rng.int(0, Math.max(0, w - opt.fineSize));
  const cropY = rng.int(0, Math.max(0, h - opt.fineSize));
  const flip = rng.float() > 0.5;
  return { cropX, cropY, flip };
}

/** Python 3's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The multiple G's input height and width must have, 2^(n_downsample_global + n_local_enhancers for netG local): what resize_or_crop 'none' rounds sizes to, and what synthesis pads to. */
export function sizeMultiple(opt: { n_downsample_global: number; netG: string; n_local_enhancers: number }): number {
  let base = 2 ** opt.n_downsample_global;
  if (opt.netG === 'local') base *= 2 ** opt.n_local_enhancers;
  return base;
}

type GeneratorShape = { n_downsample_global: number; netG: string; n_local_enhancers: number };

/**
 * The smallest side G can take (before synthesis pads it to sizeMultiple): G's bottleneck needs at
 * least 2 pixels for its reflection padding of 1, and G1's first layer (at 1/2^n_local_enhancers
 * of the size for netG local) at least 4 for its padding of 3. Smaller maps reach libtorch as
 * "Padding size should be less than the corresponding input dimension", naming no file.
 */
export function smallestSide(opt: GeneratorShape): number {
  const multiple = sizeMultiple(opt);
  const bottleneckPixels = opt.n_downsample_global === 0 ? 4 : 2;
  return multiple * (bottleneckPixels - 1) + 1;
}

/** Refuses a map G cannot take, naming the file, its size (and what the transforms made of it) and the minimum. */
export function checkGeneratorSize(size: Size, opt: GeneratorShape, file: string, source: Size = size): void {
  const min = smallestSide(opt);
  if (size.width >= min && size.height >= min) return;
  const transformed = source.width !== size.width || source.height !== size.height ? ` (${source.width}×${source.height} on disk, ${size.width}×${size.height} after resize_or_crop)` : ` (${size.width}×${size.height})`;
  throw new DataError(
    `${file} is too small for the generator${transformed}: with n_downsample_global ${opt.n_downsample_global}` +
      `${opt.netG === 'local' ? ` and ${opt.n_local_enhancers} local enhancer(s)` : ''} every side must be at least ${min} pixels. ` +
      'Use larger maps, or a resize_or_crop mode and loadSize that scale them up.',
    [file],
  );
}

/** Where an item's pixels come from, given its source size and drawn parameters. */
export function planTransform(opt: TransformOptions, source: Size, params: TransformParams): TransformPlan {
  const mode = opt.resize_or_crop;
  let size: Size = { ...source };
  let resize: Size | null = null;
  if (mode.includes('resize')) {
    resize = { width: opt.loadSize, height: opt.loadSize };
  } else if (mode.includes('scale_width') && source.width !== opt.loadSize) {
    resize = { width: opt.loadSize, height: Math.trunc((opt.loadSize * source.height) / source.width) };
  }
  if (resize) size = resize;

  let crop: TransformPlan['crop'] = null;
  if (mode.includes('crop') && (size.width > opt.fineSize || size.height > opt.fineSize)) {
    crop = { x: params.cropX, y: params.cropY, size: opt.fineSize };
    size = { width: opt.fineSize, height: opt.fineSize };
  }

  if (mode === 'none') {
    const base = sizeMultiple(opt);
    const w = roundHalfEven(source.width / base) * base;
    const h = roundHalfEven(source.height / base) * base;
    if (w === 0 || h === 0) {
      throw new Error(
        `an image of ${source.width}×${source.height} rounds to ${w}×${h} with resize_or_crop none (sizes become multiples of ${base}); use a larger image`,
      );
    }
    if (w !== source.width || h !== source.height) resize = size = { width: w, height: h };
  }
  if (size.width < 1 || size.height < 1) throw new Error(`an image of ${source.width}×${source.height} transforms to an empty ${size.width}×${size.height} image`);

  return { source, resize, crop, flip: opt.isTrain && !opt.no_flip && params.flip, output: size };
}

/**
 * For each output column (or row), the column in the input array it copies, or -1 outside the
 * image (zero fill). `inputIsResized` says whether the input already has the resized size (photos
 * resized bicubically) or still has the source size (maps, resized here by nearest neighbour).
 */
function axisMap(outLen: number, resized: number, source: number, cropStart: number | null, flip: boolean, inputIsResized: boolean): Int32Array {
  const map = new Int32Array(outLen);
  for (let o = 0; o < outLen; o++) {
    const c = flip ? outLen - 1 - o : o;
    const r = cropStart === null ? c : c + cropStart;
    if (r < 0 || r >= resized) {
      map[o] = -1;
      continue;
    }
    map[o] = inputIsResized || resized === source ? r : Math.min(source - 1, Math.floor(((r + 0.5) * source) / resized));
  }
  return map;
}

export type PixelArray = Uint8Array | Int32Array | Float32Array;

/**
 * Applies a plan to an interleaved (HWC) array. With `inputIsResized` false, the array has the
 * source size and the resize is nearest neighbour; with true, it already has the resized size.
 * Returns HWC data of the output size, same type as the input.
 */
export function applyPlan<T extends PixelArray>(input: T, channels: number, plan: TransformPlan, inputIsResized: boolean): T {
  const inSize = inputIsResized && plan.resize ? plan.resize : plan.source;
  if (input.length !== inSize.width * inSize.height * channels) {
    throw new Error(`applyPlan: ${input.length} values is not ${inSize.width}×${inSize.height}×${channels}`);
  }
  const resized = plan.resize ?? plan.source;
  const { width: ow, height: oh } = plan.output;
  const xs = axisMap(ow, resized.width, plan.source.width, plan.crop?.x ?? null, plan.flip, inputIsResized);
  const ys = axisMap(oh, resized.height, plan.source.height, plan.crop?.y ?? null, false, inputIsResized);
  const out = new (input.constructor as { new (n: number): T })(ow * oh * channels);
  const inW = inSize.width;
  for (let y = 0; y < oh; y++) {
    const sy = ys[y] as number;
    if (sy < 0) continue;
    const rowIn = sy * inW;
    const rowOut = y * ow;
    for (let x = 0; x < ow; x++) {
      const sx = xs[x] as number;
      if (sx < 0) continue;
      const i = (rowIn + sx) * channels;
      const o = (rowOut + x) * channels;
      for (let k = 0; k < channels; k++) out[o + k] = input[i + k] as number;
    }
  }
  return out;
}

/** HWC 8-bit RGB to CHW float32 in [-1, 1] (torchvision's ToTensor then Normalize(0.5, 0.5)). */
export function rgbToNormalizedChw(rgb: Uint8Array, size: Size, out?: Float32Array, outOffset = 0): Float32Array {
  const n = size.width * size.height;
  const dst = out ?? new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    dst[outOffset + i] = ((rgb[3 * i] as number) / 255 - 0.5) / 0.5;
    dst[outOffset + n + i] = ((rgb[3 * i + 1] as number) / 255 - 0.5) / 0.5;
    dst[outOffset + 2 * n + i] = ((rgb[3 * i + 2] as number) / 255 - 0.5) / 0.5;
  }
  return dst;
}
