// Synthesis from a label encoding at any size. G only takes sizes that are multiples of its total
// downsampling (2^(n_downsample_global + n_local_enhancers)); the official code silently rounds
// the image size, so 620×460 comes back as 624×464. Here the input is padded (edge replication)
// up to the next multiple and the output cropped back: the result has the input's own size and
// every pixel stays aligned with its label.
import type { Generator, NetworkOptions } from '../models/from-options.js';
import { padLayout, type OnehotLayout } from '../models/onehot-input.js';
import { autocast, deviceTypeOf, F, nn, noGrad, type Tensor } from '../torch/index.js';

/**
 * G(input) for an [N, C, H, W] input of any H, W: output [N, output_nc, H, W], float32. With
 * `halfPrecision` (--data_type 16) G runs under autocast: float16 on CUDA, bfloat16 on the CPU.
 * `layout` (generatorInput's) lets G's opening conv read the one-hot labels as ids.
 */
export function synthesize(G: Generator, input: Tensor, multiple: number, opts: { halfPrecision?: boolean; layout?: OnehotLayout | null } = {}): Tensor {
  // Instance norms in place (nn.withInPlaceNorms): nothing here back-propagates.
  return nn.withInPlaceNorms(() => noGrad(() => {
    const [, , h, w] = input.shape as [number, number, number, number];
    const padH = (multiple - (h % multiple)) % multiple;
    const padW = (multiple - (w % multiple)) % multiple;
    const run = (x: Tensor, layout: OnehotLayout | null) =>
      (opts.halfPrecision ? autocast(deviceTypeOf(x), () => G.forward(x)).to('float32') : G.forward(x, layout));
    const layout = opts.layout ?? null;
    if (padH === 0 && padW === 0) return run(input, layout);
    const padded = F.pad(input, [0, padW, 0, padH], 'replicate');
    return run(padded, layout && padLayout(layout, padW, padH)).narrow(2, 0, h).narrow(3, 0, w);
  }));
}

/**
 * What --data_type asks of synthesis: 32 full precision; 16 half precision, which needs CUDA (the
 * official code then casts G to float16); 8 only feeds the official code's TensorRT engines.
 */
export function precisionFor(dataType: number, device: string): { halfPrecision: boolean } {
  if (dataType === 32) return { halfPrecision: false };
  if (dataType === 16) {
    if (!device.startsWith('cuda')) throw new Error('--data_type 16: half precision runs on a CUDA device (--gpu_ids 0), and this run is on the CPU');
    return { halfPrecision: true };
  }
  throw new Error(`--data_type ${dataType}: 8-bit data is for the official code's TensorRT engines, which this project does not run; use 32 or, on CUDA, 16`);
}

/** [N, 3, H, W] in [-1, 1] → RGB bytes of item n, as the official tensor2im does (round down). */
export function imageToRgb(image: Tensor, n = 0): { rgb: Uint8Array; width: number; height: number } {
  return noGrad(() => {
    const [, c, h, w] = image.shape as [number, number, number, number];
    const hwc = image.select(0, n).add(1).div(2).mul(255).clamp(0, 255).permute([1, 2, 0]).contiguous();
    const data = hwc.toFloat32Array();
    hwc.dispose();
    const rgb = new Uint8Array(h * w * 3);
    for (let i = 0; i < h * w; i++) {
      for (let k = 0; k < 3; k++) rgb[i * 3 + k] = Math.floor(data[i * c + (c === 1 ? 0 : k)]!);
    }
    return { rgb, width: w, height: h };
  });
}

export { resizeRgb } from './pictures.js';
