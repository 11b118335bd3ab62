// Image-quality figures on scenes whose real photos are known: the mean absolute error per
// pixel, and per class the distance between the mean colour of the synthesised and of the real
// pixels of that class (does a road look like road, a car like a car?). RGB bytes, 0–255.

export interface ClassColourError {
  classId: number;
  pixels: number;
  /** Euclidean RGB distance between the two mean colours. */
  error: number;
}

export class ImageMetrics {
  #absSum = 0;
  #values = 0;
  readonly #sums = new Map<number, { n: number; fake: [number, number, number]; real: [number, number, number] }>();

  /** Adds one image: fake and real RGB (interleaved, same size) and its class id per pixel. */
  add(fake: Uint8Array, real: Uint8Array, label: ArrayLike<number>): void {
    if (fake.length !== real.length || fake.length !== label.length * 3) {
      throw new Error(`ImageMetrics.add: sizes differ (fake ${fake.length}, real ${real.length} bytes, ${label.length} labels)`);
    }
    for (let i = 0; i < fake.length; i++) this.#absSum += Math.abs(fake[i]! - real[i]!);
    this.#values += fake.length;
    for (let p = 0; p < label.length; p++) {
      const c = label[p]!;
      let s = this.#sums.get(c);
      if (!s) this.#sums.set(c, (s = { n: 0, fake: [0, 0, 0], real: [0, 0, 0] }));
      s.n++;
      for (let k = 0; k < 3; k++) {
        s.fake[k]! += fake[p * 3 + k]!;
        s.real[k]! += real[p * 3 + k]!;
      }
    }
  }

  /** Mean |fake − real| over every channel of every pixel. */
  get meanAbsoluteError(): number {
    return this.#values ? this.#absSum / this.#values : NaN;
  }

  /** Per class (ascending id): the distance between mean colours. */
  classColourErrors(): ClassColourError[] {
    return [...this.#sums.entries()].sort(([a], [b]) => a - b).map(([classId, s]) => {
      let d2 = 0;
      for (let k = 0; k < 3; k++) d2 += ((s.fake[k]! - s.real[k]!) / s.n) ** 2;
      return { classId, pixels: s.n, error: Math.sqrt(d2) };
    });
  }

  /** The unweighted mean of the per-class errors. */
  get meanClassColourError(): number {
    const errs = this.classColourErrors();
    return errs.length ? errs.reduce((a, e) => a + e.error, 0) / errs.length : NaN;
  }
}
