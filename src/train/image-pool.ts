// The image buffer of Shrivastava et al. that pix2pixHD's D sees with pool_size > 0: each newly
// generated image either passes straight through, or (once the pool is full, with probability
// 1/2) is swapped for an older one, which D is then shown instead.
import { keep, stack, type Tensor } from '../torch/index.js';

export class ImagePool {
  readonly #images: Tensor[] = [];

  /** random() gives uniform numbers in [0, 1): seeded by the trainer so runs repeat exactly. */
  constructor(readonly size: number, private random: () => number) {}

  /**
   * Replaces the random source. The trainer draws each step's from the step number, so a run
   * resumed from a checkpoint (which holds the images, not a generator's state) repeats exactly.
   */
  reseed(random: () => number): void {
    this.random = random;
  }

  /** The images held, oldest slot first (owned by the pool): what a checkpoint saves. */
  images(): readonly Tensor[] {
    return this.#images;
  }

  /** Refills the pool from a checkpoint's images (taking ownership of them). */
  restore(images: Tensor[]): void {
    if (images.length > this.size) throw new Error(`the checkpoint's image pool holds ${images.length} images, more than --pool_size ${this.size}`);
    this.dispose();
    for (const t of images) this.#images.push(keep(t));
  }

  /** images: [B, C, H, W], detached. Returns a batch of the same shape (owned by the caller's scope). */
  query(images: Tensor): Tensor {
    if (this.size <= 0) return images;
    const out: Tensor[] = [];
    for (let i = 0; i < images.size(0); i++) {
      const image = images.narrow(0, i, 1);
      if (this.#images.length < this.size) {
        this.#images.push(keep(image.clone()));
        out.push(image);
      } else if (this.random() > 0.5) {
        const j = Math.floor(this.random() * this.size);
        const old = this.#images[j]!;
        this.#images[j] = keep(image.clone());
        out.push(old.clone());
        old.dispose();
      } else {
        out.push(image);
      }
    }
    return stack(out.map((t) => t.squeeze(0)), 0);
  }

  get length(): number {
    return this.#images.length;
  }

  dispose(): void {
    for (const t of this.#images) t.dispose();
    this.#images.length = 0;
  }
}
