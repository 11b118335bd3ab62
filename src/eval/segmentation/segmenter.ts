// The segmenters the segmentation score can use, behind one interface: an RGB picture in, a class
// per pixel out, and the label map translated into the segmenter's classes.
import { CompactSegmenter } from '../../models/compact-segmenter.js';
import { cityscapesTrainId, DRN_CITYSCAPES_MEAN, DRN_CITYSCAPES_STD, DrnSegD105 } from '../../models/drn.js';
import { callOp, F, noGrad, tensor, tidy, type Tensor } from '../../torch/index.js';

export interface RgbPicture {
  rgb: Uint8Array;
  width: number;
  height: number;
}

export interface Segmenter {
  /** What the table says was used. */
  readonly description: string;
  readonly classes: number;
  readonly ignoreLabel: number;
  /** The class of each pixel, row-major, at the picture's size. */
  predict(picture: RgbPicture): Int32Array;
  /** The label map (data set ids) in the segmenter's classes; ignoreLabel where a pixel is not scored. */
  target(label: ArrayLike<number>): Int32Array;
  dispose(): void;
}

/** [1, 3, H, W] float32 from interleaved RGB bytes, each channel as (v/255 − mean)/std. */
export function normalisedPicture(p: RgbPicture, mean: readonly number[], std: readonly number[], device = 'cpu'): Tensor {
  return tidy(() => {
    let x = tensor(p.rgb, [p.height, p.width, 3]).permute([2, 0, 1]).unsqueeze(0).float().div(255);
    x = x.sub(tensor([...mean], [1, 3, 1, 1])).div(tensor([...std], [1, 3, 1, 1]));
    return device === 'cpu' ? x : x.to(device);
  });
}

/** Argmax over classes of scores [1, C, H, W] → Int32Array [H·W]. */
export function argmaxClasses(scores: Tensor): Int32Array {
  return tidy(() => (callOp('argmax', [scores, 1, false]) as Tensor).to('int32').to('cpu').toArray() as Int32Array);
}

/** The compact segmenter trained here: label ids are its classes (0 … label_nc−1), nothing ignored but ids ≥ label_nc. */
export function compactSegmenter(net: CompactSegmenter, description: string, device = 'cpu'): Segmenter {
  const classes = net.shape.classes;
  return {
    description, classes, ignoreLabel: 255,
    predict: (p) => noGrad(() => tidy(() => argmaxClasses(net.forward(normalisedPicture(p, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], device))))),
    target: (label) => Int32Array.from(label, (id) => (id >= 0 && id < classes ? id : 255)),
    dispose: () => net.dispose(),
  };
}

/**
 * DRN-D-105 on Cityscapes: the picture normalised with DRN's Cityscapes mean and std, padded
 * (replicate) to a multiple of 8 at the bottom and right and the scores cropped back; label ids
 * mapped to the 19 train ids, the rest ignored (255).
 */
export function drnSegmenter(net: DrnSegD105, device = 'cpu'): Segmenter {
  return {
    description: 'DRN-D-105 (drn-d-105_ms_cityscapes), 19 Cityscapes train ids',
    classes: net.classes, ignoreLabel: 255,
    predict: (p) => noGrad(() => tidy(() => {
      let x = normalisedPicture(p, DRN_CITYSCAPES_MEAN, DRN_CITYSCAPES_STD, device);
      const padH = (8 - (p.height % 8)) % 8;
      const padW = (8 - (p.width % 8)) % 8;
      if (padH || padW) x = F.pad(x, [0, padW, 0, padH], 'replicate');
      let scores = net.forward(x);
      if (padH || padW) scores = scores.narrow(2, 0, p.height).narrow(3, 0, p.width);
      return argmaxClasses(scores);
    })),
    target: (label) => Int32Array.from(label, cityscapesTrainId),
    dispose: () => net.dispose(),
  };
}
