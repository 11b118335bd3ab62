// The segmentation score in the paper's table form (pix2pixHD, Table 1): one column per image
// source — the synthesised images of each model and the real photos (the oracle) — scored by the
// same segmenter against the same label maps.
import { ConfusionMatrix } from './confusion.js';
import type { RgbPicture, Segmenter } from './segmenter.js';

export class SegmentationScore {
  readonly columns = new Map<string, ConfusionMatrix>();

  constructor(readonly segmenter: Segmenter) {}

  /** Scores one picture of `column` against its label map (data set ids, at the picture's size). */
  add(column: string, picture: RgbPicture, label: ArrayLike<number>): void {
    if (label.length !== picture.width * picture.height) {
      throw new Error(`segmentation score: the label map has ${label.length} pixels, the picture ${picture.width}×${picture.height}`);
    }
    let m = this.columns.get(column);
    if (!m) this.columns.set(column, (m = new ConfusionMatrix(this.segmenter.classes, this.segmenter.ignoreLabel)));
    m.add(this.segmenter.predict(picture), this.segmenter.target(label));
  }

  figures(): { column: string; pixelAccuracy: number; meanIou: number; pixels: number }[] {
    return [...this.columns].map(([column, m]) => ({ column, pixelAccuracy: m.pixelAccuracy, meanIou: m.meanIou, pixels: m.pixels }));
  }
}

/** The paper's rows (pixel accuracy in %, mean IoU as a fraction) under one column per source. */
export function segmentationTable(figures: readonly { column: string; pixelAccuracy: number; meanIou: number }[]): string {
  const width = Math.max(12, ...figures.map((f) => f.column.length + 2));
  const cell = (s: string) => s.padStart(width);
  const lines = [
    `${''.padEnd(16)}${figures.map((f) => cell(f.column)).join('')}`,
    `${'Pixel acc (%)'.padEnd(16)}${figures.map((f) => cell((100 * f.pixelAccuracy).toFixed(2))).join('')}`,
    `${'Mean IoU'.padEnd(16)}${figures.map((f) => cell(f.meanIou.toFixed(4))).join('')}`,
  ];
  return `${lines.join('\n')}\n`;
}
