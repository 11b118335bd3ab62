// The segmentation score of the pix2pixHD paper (Table 1): a segmentation network's prediction on
// an image against the label map, as pixel accuracy and mean IoU. Counted as DRN's segment.py
// (fast_hist / per_class_iu) and the Cityscapes scripts do: one confusion matrix over every image
// of the set (not a mean of per-image scores); pixels whose label is the ignore label (or outside
// 0…classes−1) are not counted; a class's IoU is TP / (TP + FP + FN); classes that appear in
// neither the labels nor the predictions have no IoU and are left out of the mean (np.nanmean),
// while a class predicted but never labelled counts with IoU 0.

export class ConfusionMatrix {
  /** counts[label * classes + predicted] */
  readonly counts: Float64Array;

  constructor(readonly classes: number, readonly ignoreLabel = 255) {
    if (!Number.isInteger(classes) || classes < 1) throw new Error(`ConfusionMatrix: classes must be a positive integer, got ${classes}`);
    this.counts = new Float64Array(classes * classes);
  }

  /** Adds one image: predicted class and label per pixel, same length. */
  add(predicted: ArrayLike<number>, label: ArrayLike<number>): void {
    if (predicted.length !== label.length) throw new Error(`ConfusionMatrix.add: ${predicted.length} predictions for ${label.length} labels`);
    const n = this.classes;
    for (let i = 0; i < label.length; i++) {
      const l = label[i]!;
      if (l === this.ignoreLabel || l < 0 || l >= n) continue;
      const p = predicted[i]!;
      if (p < 0 || p >= n) throw new Error(`ConfusionMatrix.add: prediction ${p} outside 0…${n - 1}`);
      this.counts[l * n + p]! += 1;
    }
  }

  /** Pixels counted (labelled, not ignored). */
  get pixels(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }

  /** Correct pixels / counted pixels. */
  get pixelAccuracy(): number {
    let correct = 0;
    for (let c = 0; c < this.classes; c++) correct += this.counts[c * this.classes + c]!;
    const total = this.pixels;
    return total ? correct / total : NaN;
  }

  /** Per class: TP / (TP + FP + FN), NaN where the class is neither labelled nor predicted. */
  classIou(): number[] {
    const n = this.classes;
    return Array.from({ length: n }, (_, c) => {
      let labelled = 0;
      let predicted = 0;
      for (let k = 0; k < n; k++) {
        labelled += this.counts[c * n + k]!;
        predicted += this.counts[k * n + c]!;
      }
      const tp = this.counts[c * n + c]!;
      const union = labelled + predicted - tp;
      return union ? tp / union : NaN;
    });
  }

  /** The mean of classIou() over the classes that have one. */
  get meanIou(): number {
    const ious = this.classIou().filter((v) => !Number.isNaN(v));
    return ious.length ? ious.reduce((a, b) => a + b, 0) / ious.length : NaN;
  }
}
