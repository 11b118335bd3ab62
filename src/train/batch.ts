// From the data layer's typed arrays to the tensors a training step takes.
import { encodeInput } from '../models/input-encoding.js';
import type { NetworkOptions } from '../models/from-options.js';
import { tensor, type Tensor } from '../torch/index.js';

/** One batch as the data layer gives it: row-major typed arrays. */
export interface DataBatch {
  /** Class ids [B, H, W] (label_nc > 0), or the input image [B, input_nc, H, W] in [-1, 1] (label_nc 0). */
  label: Int32Array | Float32Array;
  /** Instance ids [B, H, W], or null without instance maps. */
  inst: Int32Array | null;
  /** The photo [B, 3, H, W] in [-1, 1] (null at test time without photos). */
  image: Float32Array | null;
  /** Precomputed feature maps [B, feat_num, H, W], or null. */
  feat: Float32Array | null;
  batchSize: number;
  height: number;
  width: number;
  paths: string[];
}

export interface BatchTensors {
  /** The label encoding (one-hot ++ edges): what D is conditioned on. */
  inputLabel: Tensor;
  realImage: Tensor | null;
  /** Instance ids [B, 1, H, W] int64 (for the encoder), or null. */
  inst: Tensor | null;
  /** Label ids [B, 1, H, W] int64, or null for image inputs. */
  label: Tensor | null;
  feat: Tensor | null;
}

export function batchToTensors(b: DataBatch, o: NetworkOptions, device?: string): BatchTensors {
  const { batchSize: n, height: h, width: w } = b;
  const dev = device && device !== 'cpu' ? { device } : {};
  const label = o.label_nc === 0
    ? tensor(b.label as Float32Array, [n, o.input_nc, h, w], dev)
    : tensor(b.label as Int32Array, [n, 1, h, w], { dtype: 'int64', ...dev });
  const inst = b.inst ? tensor(b.inst, [n, 1, h, w], { dtype: 'int64', ...dev }) : null;
  // Feature maps load as RGB images: their channel count is the file's (checked against feat_num by the trainer).
  const feat = b.feat ? tensor(b.feat, [n, b.feat.length / (n * h * w), h, w], dev) : null;
  const inputLabel = encodeInput({ label, inst: o.no_instance ? null : inst }, { label_nc: o.label_nc, no_instance: o.no_instance });
  return {
    inputLabel, realImage: b.image ? tensor(b.image, [n, 3, h, w], dev) : null, inst, label: o.label_nc === 0 ? null : label, feat,
  };
}
