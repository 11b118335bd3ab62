// A small segmentation network for data sets without a published segmenter (the synthetic scenes,
// a user's own data): the paper's segmentation score needs *some* fixed network that reads label
// classes off photos; this one is trained here on the training photos (pix2pixhd train-segmenter).
// Shape: a full-resolution stem, two stride-2 convs, two dilated convs for context at 1/4
// resolution, class scores upsampled bilinearly and added to scores from the stem, so thin classes
// (lane marks, poles) survive the downsampling. Plain convs and ReLUs: nothing depends on batch
// statistics, so training with small batches and scoring one image at a time agree.
import { F, nn, tidy, type Tensor } from '../torch/index.js';

export interface CompactSegmenterShape {
  classes: number;
  /** Channels at 1/4 resolution (the stem has a quarter, the middle half). */
  width: number;
}

export class CompactSegmenter extends nn.Module {
  readonly stem: nn.Conv2d;
  readonly down1: nn.Conv2d;
  readonly down2: nn.Conv2d;
  readonly context1: nn.Conv2d;
  readonly context2: nn.Conv2d;
  readonly head: nn.Conv2d;
  readonly skip: nn.Conv2d;

  constructor(readonly shape: CompactSegmenterShape) {
    super();
    const { classes, width: w } = shape;
    this.stem = this.registerModule('stem', new nn.Conv2d(3, w / 4, 3, { padding: 1 }));
    this.down1 = this.registerModule('down1', new nn.Conv2d(w / 4, w / 2, 3, { stride: 2, padding: 1 }));
    this.down2 = this.registerModule('down2', new nn.Conv2d(w / 2, w, 3, { stride: 2, padding: 1 }));
    this.context1 = this.registerModule('context1', new nn.Conv2d(w, w, 3, { padding: 2, dilation: 2 }));
    this.context2 = this.registerModule('context2', new nn.Conv2d(w, w, 3, { padding: 4, dilation: 4 }));
    this.head = this.registerModule('head', new nn.Conv2d(w, classes, 1));
    this.skip = this.registerModule('skip', new nn.Conv2d(w / 4, classes, 1));
  }

  /** Class scores [N, classes, H, W] of images [N, 3, H, W] in [-1, 1]. */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const s = this.stem.forward(x).relu_();
      let h = this.down2.forward(this.down1.forward(s).relu_()).relu_();
      h = this.context2.forward(this.context1.forward(h).relu_()).relu_();
      const [height, width] = [x.size(2), x.size(3)];
      const coarse = F.interpolate(this.head.forward(h), { size: [height, width], mode: 'bilinear', alignCorners: false });
      return coarse.add(this.skip.forward(s));
    });
  }
}
