// Synthesis over a data set's phase (what `pix2pixhd test` and `eval` run): every label map (with
// its instance map) through G, the result at the label map's own size on disk.
import { basename, extname } from 'node:path';
import { colorizeLabel, openData, tensorToRgb, type DataOptions } from '../data/index.js';
import type { Generator, NetworkOptions } from '../models/from-options.js';
import { usesFeatures } from '../models/from-options.js';
import { batchToTensors } from '../train/batch.js';
import { F, tidy } from '../torch/index.js';
import { imageToRgb, sizeMultiple, synthesize } from './synthesize.js';

export interface RgbPicture {
  rgb: Uint8Array;
  width: number;
  height: number;
}

export interface SynthesisResult {
  /** The label file's name without extension (the official results' names). */
  name: string;
  labelPath: string;
  input: RgbPicture;
  synthesized: RgbPicture;
  /** The real photo at the same size, when the data set has it. */
  real: RgbPicture | null;
  /** Class ids per pixel at that size (label_nc > 0). */
  label: Int32Array | null;
}

/**
 * Yields G's result for each item of the phase, at most howMany. With resize_or_crop 'none' the
 * maps are used at their own size (G's size multiple is met by padding inside synthesize());
 * with other modes the result is resized back to the file's size.
 */
export async function* synthesizeDataset(
  G: Generator, o: NetworkOptions, data: Partial<DataOptions>, howMany: number, device = 'cpu',
): AsyncGenerator<SynthesisResult> {
  if (usesFeatures(o)) throw new Error('this run uses instance features: synthesis with feature styles needs encode-features first (not supported yet)');
  const noResize = data.resize_or_crop === 'none';
  const { loader } = openData({
    ...data, isTrain: false, serial_batches: true, batchSize: 1, no_flip: true,
    ...(noResize ? { n_downsample_global: 0, netG: 'global' as const } : {}),
  });
  const multiple = sizeMultiple(o);
  let count = 0;
  for await (const b of loader.epoch(1)) {
    if (count >= howMany) break;
    count++;
    const source = b.sourceSizes[0]!;
    const { width: w, height: h } = b;
    const pictures = tidy(() => {
      const t = batchToTensors({ ...b, batchSize: 1 }, o, device);
      let fake = synthesize(G, t.inputLabel, multiple);
      if (w !== source.width || h !== source.height) fake = F.interpolate(fake, { size: [source.height, source.width], mode: 'bilinear' });
      return imageToRgb(fake, 0);
    });
    const label = o.label_nc > 0 ? (b.label as Int32Array) : null;
    const same = w === source.width && h === source.height;
    yield {
      name: basename(b.paths[0]!, extname(b.paths[0]!)),
      labelPath: b.paths[0]!,
      input: label ? { rgb: colorizeLabel(label, w, h, o.label_nc), width: w, height: h } : { rgb: tensorToRgb(b.label as Float32Array, w, h), width: w, height: h },
      synthesized: pictures,
      real: b.image && same ? { rgb: tensorToRgb(b.image, w, h), width: w, height: h } : null,
      label: same ? label : null,
    };
  }
}
