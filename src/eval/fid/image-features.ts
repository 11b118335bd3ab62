// Inception features of a folder of images, as pytorch-fid's get_activations reads them: the
// files with its extensions (lower case, as its glob), sorted by name, decoded to RGB, scaled to
// [0, 1] (ToTensor), batched; the network resizes each to 299×299 itself. pytorch-fid's batches
// must hold images of one size; here a batch is cut wherever the size changes, which gives the
// same features (each image is resized on its own either way).
import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { readRgb, type RgbImage } from '../../data/image-io.js';
import type { FidDims, FidInceptionV3 } from '../../models/inception-fid.js';
import { cat, keep, noGrad, tensor, tidy, type Tensor } from '../../torch/index.js';

/** pytorch-fid's IMAGE_EXTENSIONS. */
export const FID_IMAGE_EXTENSIONS = ['bmp', 'jpg', 'jpeg', 'pgm', 'png', 'ppm', 'tif', 'tiff', 'webp'] as const;

/** The images pytorch-fid would read from `folder`, sorted. */
export function fidImageFiles(folder: string): string[] {
  const exts = new Set<string>(FID_IMAGE_EXTENSIONS);
  return readdirSync(folder, { withFileTypes: true })
    .filter((e) => e.isFile() && exts.has(extname(e.name).slice(1)))
    .map((e) => e.name)
    .sort()
    .map((n) => join(folder, n));
}

/** [1, 3, H, W] float32 in [0, 1] from 8-bit interleaved RGB. */
export function imageTensor(img: RgbImage): Tensor {
  return tidy(() => tensor(img.data, [img.height, img.width, 3]).permute([2, 0, 1]).unsqueeze(0).float().div(255));
}

export interface FeatureOptions {
  dims?: FidDims;
  batchSize?: number;
  device?: string;
  /** Called after each batch with the images done so far. */
  onProgress?: (done: number, total: number) => void;
}

/** Features [N, dims] (float32, on the CPU) of images given as files or decoded RGB. */
export async function inceptionFeatures(net: FidInceptionV3, images: readonly (string | RgbImage)[], opts: FeatureOptions = {}): Promise<Tensor> {
  if (images.length === 0) throw new Error('no images to compute Inception features of');
  const batchSize = Math.max(1, Math.min(opts.batchSize ?? 50, images.length));
  const device = opts.device ?? 'cpu';
  const parts: Tensor[] = [];
  try {
    let pending: RgbImage[] = [];
    let done = 0;
    const flush = () => {
      if (!pending.length) return;
      const batch = pending;
      pending = [];
      parts.push(keep(noGrad(() => tidy(() => {
        let x = cat(batch.map(imageTensor), 0);
        if (device !== 'cpu') x = x.to(device);
        return net.forward(x, opts.dims ?? 2048).to('cpu');
      }))));
      done += batch.length;
      opts.onProgress?.(done, images.length);
    };
    for (const item of images) {
      const img = typeof item === 'string' ? await readRgb(item) : item;
      const first = pending[0];
      if (first && (first.width !== img.width || first.height !== img.height)) flush();
      pending.push(img);
      if (pending.length >= batchSize) flush();
    }
    flush();
    return parts.length === 1 ? parts.pop()! : cat(parts, 0);
  } finally {
    for (const p of parts) p.dispose();
  }
}
