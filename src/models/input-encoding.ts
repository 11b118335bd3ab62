// What the generator and discriminator see: the label map as one-hot channels (or, with
// label_nc 0, the input image as is), then the instance boundary map, then encoded features.
import { cat, F, type Tensor, zeros } from '../torch/index.js';

/**
 * The boundary map of instance ids [N, 1, H, W]: 1 where a 4-neighbour (left, right, up, down)
 * has another id, else 0 (float32). Both pixels of a differing pair are edges.
 */
export function instanceEdges(inst: Tensor): Tensor {
  if (inst.ndim !== 4) throw new Error(`instance map must be [N, 1, H, W], got [${inst.shape.join(', ')}]`);
  const w = inst.size(3);
  const h = inst.size(2);
  // Differences between horizontal and vertical neighbours, each marking both of its pixels.
  const dx = inst.slice(3, 1, w).ne(inst.slice(3, 0, w - 1)).float();
  const dy = inst.slice(2, 1, h).ne(inst.slice(2, 0, h - 1)).float();
  return F.pad(dx, [1, 0])
    .maximum(F.pad(dx, [0, 1]))
    .maximum(F.pad(dy, [0, 0, 1, 0]))
    .maximum(F.pad(dy, [0, 0, 0, 1]));
}

/** The distinct values of t that fail `bad`, at most `limit` of them, for error messages. */
function offending(t: Tensor, bad: Tensor, limit = 8): number[] {
  return t.maskedSelect(bad).unique().values.toNumbers().slice(0, limit);
}

/**
 * One-hot channels of a label map [N, 1, H, W] holding class ids in [0, labelNc): [N, labelNc, H, W]
 * float32. Ids outside the range, or not whole numbers, are an error naming them.
 */
export function oneHotLabels(label: Tensor, labelNc: number): Tensor {
  if (label.ndim !== 4 || label.size(1) !== 1) throw new Error(`label map must be [N, 1, H, W], got [${label.shape.join(', ')}]`);
  if (!Number.isInteger(labelNc) || labelNc < 1) throw new Error(`label_nc must be a positive integer, got ${labelNc}`);
  const outside = label.lt(0).logicalOr(label.ge(labelNc));
  if (outside.any().item()) {
    const ids = offending(label, outside);
    throw new Error(
      `label map holds id${ids.length > 1 ? 's' : ''} ${ids.join(', ')} outside [0, ${labelNc}) (label_nc ${labelNc}): ` +
      'set --label_nc to the number of classes, or check that the label maps are lossless (PNG, not JPEG) class-id images',
    );
  }
  const ids = label.long();
  if (label.dtype === 'float32' || label.dtype === 'float64' || label.dtype === 'float16' || label.dtype === 'bfloat16') {
    const fractional = label.ne(ids.to(label.dtype));
    if (fractional.any().item()) {
      throw new Error(`label map holds values that are not class ids: ${offending(label, fractional).join(', ')}`);
    }
  }
  const [n, , h, w] = label.shape as [number, number, number, number];
  return zeros([n, labelNc, h, w], { device: label.device }).scatter(1, ids, 1);
}

export interface InputEncodingOptions {
  /** Classes of the label map; 0 means the input is an image passed through as is. */
  label_nc: number;
  /** Leave out the instance boundary map. Default false. */
  no_instance?: boolean;
}

/**
 * The conditioning input: one-hot(label) (or the image, label_nc 0) ++ instanceEdges(inst) (unless
 * no_instance) ++ feat (when given), along the channels. The discriminator sees this without
 * feat, with the image appended.
 */
export function encodeInput(
  maps: { label: Tensor; inst?: Tensor | null; feat?: Tensor | null },
  opts: InputEncodingOptions,
): Tensor {
  const parts: Tensor[] = [opts.label_nc === 0 ? maps.label.float() : oneHotLabels(maps.label, opts.label_nc)];
  if (!opts.no_instance) {
    if (!maps.inst) throw new Error('an instance map is needed (or set no_instance)');
    parts.push(instanceEdges(maps.inst));
  }
  if (maps.feat) parts.push(maps.feat);
  return parts.length === 1 ? parts[0]! : cat(parts, 1);
}
