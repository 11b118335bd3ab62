// DRN-D-105 (Yu, Koltun, Funkhouser, "Dilated Residual Networks", CVPR 2017) as the segmenter of
// fyu/drn's segment.py (DRNSeg): the DRN trunk without its pool and classifier (`base.0` …
// `base.8`), a 1×1 conv to the classes (`seg`), and a fixed bilinear 16×16 transposed conv that
// upsamples ×8 (`up`). This is the network SPADE, OASIS and GAN Compression score Cityscapes
// synthesis with; module names follow segment.py so `drn-d-105_ms_cityscapes.pth` loads by its
// own keys (a DataParallel `module.` prefix is accepted too).
import { existsSync } from 'node:fs';
import { dispose, loadTensorDict, nn, tidy, type Tensor } from '../torch/index.js';

/** fyu/drn's Bottleneck: 1×1, dilated 3×3 (carrying the stride), 1×1 to 4× the planes, plus the shortcut. */
class Bottleneck extends nn.Layer {
  static readonly expansion = 4;
  readonly conv1: nn.Conv2d; readonly bn1: nn.BatchNorm2d;
  readonly conv2: nn.Conv2d; readonly bn2: nn.BatchNorm2d;
  readonly conv3: nn.Conv2d; readonly bn3: nn.BatchNorm2d;
  readonly downsample: nn.Sequential | null;
  constructor(inplanes: number, planes: number, stride: number, dilation: number, downsample: nn.Sequential | null) {
    super();
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(inplanes, planes, 1, { bias: false }));
    this.bn1 = this.registerModule('bn1', new nn.BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', new nn.Conv2d(planes, planes, 3, { stride, padding: dilation, dilation, bias: false }));
    this.bn2 = this.registerModule('bn2', new nn.BatchNorm2d(planes));
    this.conv3 = this.registerModule('conv3', new nn.Conv2d(planes, planes * 4, 1, { bias: false }));
    this.bn3 = this.registerModule('bn3', new nn.BatchNorm2d(planes * 4));
    this.downsample = downsample ? this.registerModule('downsample', downsample) : null;
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      let out = this.bn1.forward(this.conv1.forward(x)).relu_();
      out = this.bn2.forward(this.conv2.forward(out)).relu_();
      out = this.bn3.forward(this.conv3.forward(out));
      return out.add_(this.downsample ? this.downsample.forward(x) : x).relu_();
    });
  }
}

/** DRN-D's plain conv stages: conv 3×3 (dilated), batch norm, ReLU, `convs` times. */
function convLayers(inplanes: number, channels: number, convs: number, stride = 1, dilation = 1): nn.Sequential {
  const layers: nn.Layer[] = [];
  for (let i = 0; i < convs; i++) {
    layers.push(
      new nn.Conv2d(i === 0 ? inplanes : channels, channels, 3, { stride: i === 0 ? stride : 1, padding: dilation, dilation, bias: false }),
      new nn.BatchNorm2d(channels), new nn.ReLU(true),
    );
  }
  return new nn.Sequential(...layers);
}

/** fyu/drn's _make_layer for Bottleneck blocks (every DRN-D-105 stage passes new_level=False or dilation 1). */
function bottleneckLayer(inplanes: number, planes: number, blocks: number, stride = 1, dilation = 1): nn.Sequential {
  const out = planes * Bottleneck.expansion;
  const downsample = stride !== 1 || inplanes !== out
    ? new nn.Sequential(new nn.Conv2d(inplanes, out, 1, { stride, bias: false }), new nn.BatchNorm2d(out))
    : null;
  const layers: nn.Layer[] = [new Bottleneck(inplanes, planes, stride, dilation, downsample)];
  for (let i = 1; i < blocks; i++) layers.push(new Bottleneck(out, planes, 1, dilation, null));
  return new nn.Sequential(...layers);
}

/** Cityscapes' 19 training classes (the order of the segmenter's outputs). */
export const CITYSCAPES_TRAIN_CLASSES = [
  'road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign', 'vegetation', 'terrain',
  'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle',
] as const;

/** Cityscapes label id (0…33, what label_nc 35 maps hold) → train id (0…18), 255 for the ignored ids. */
export function cityscapesTrainId(labelId: number): number {
  const table: Record<number, number> = { 7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18 };
  return table[labelId] ?? 255;
}

/** fyu/drn's Cityscapes normalisation (its datasets/cityscapes/info.json), on RGB in [0, 1]. */
export const DRN_CITYSCAPES_MEAN = [0.290101, 0.328081, 0.286964] as const;
export const DRN_CITYSCAPES_STD = [0.182954, 0.186566, 0.184475] as const;

export class DrnSegD105 extends nn.Module {
  readonly base: nn.Sequential;
  readonly seg: nn.Conv2d;
  readonly up: nn.ConvTranspose2d;

  constructor(readonly classes = 19) {
    super();
    const stem = new nn.Sequential(new nn.Conv2d(3, 16, 7, { padding: 3, bias: false }), new nn.BatchNorm2d(16), new nn.ReLU(true));
    // DRN(Bottleneck, [1, 1, 3, 4, 23, 3, 1, 1], arch='D'), channels (16, 32, 64, 128, 256, 512, 512, 512)
    this.base = this.registerModule('base', new nn.Sequential(
      stem,
      convLayers(16, 16, 1),
      convLayers(16, 32, 1, 2),
      bottleneckLayer(32, 64, 3, 2),
      bottleneckLayer(256, 128, 4, 2),
      bottleneckLayer(512, 256, 23, 1, 2),
      bottleneckLayer(1024, 512, 3, 1, 4),
      convLayers(2048, 512, 1, 1, 2),
      convLayers(512, 512, 1, 1, 1),
    ));
    this.seg = this.registerModule('seg', new nn.Conv2d(512, classes, 1));
    this.up = this.registerModule('up', new nn.ConvTranspose2d(classes, classes, 16, { stride: 8, padding: 4, groups: classes, bias: false }));
  }

  /** Loads `drn-d-105_ms_cityscapes.pth` (segment.py's DRNSeg state dict) and freezes it. */
  static load(path: string): DrnSegD105 {
    if (!existsSync(path)) {
      throw new Error(`DRN-D-105 weights not found at ${path}: give the path of drn-d-105_ms_cityscapes.pth (from fyu/drn's model zoo) with --segmenter_weights`);
    }
    const file = loadTensorDict(path);
    try {
      return DrnSegD105.fromStateDict(file, path);
    } finally {
      dispose(file);
    }
  }

  static fromStateDict(values: ReadonlyMap<string, Tensor>, source = 'a state dict'): DrnSegD105 {
    const unprefixed = new Map([...values].map(([k, v]) => [k.startsWith('module.') ? k.slice(7) : k, v]));
    const classes = unprefixed.get('seg.weight')?.size(0) ?? 19;
    const net = new DrnSegD105(classes);
    try {
      const own = net.stateDict();
      const missing = [...own.keys()].filter((k) => !unprefixed.has(k) && !k.endsWith('num_batches_tracked'));
      if (missing.length) throw new Error(`${source} is not a DRN-D-105 segmenter (segment.py's DRNSeg): it lacks ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ` and ${missing.length - 4} more` : ''}`);
      net.loadStateDict(new Map([...unprefixed].filter(([k]) => own.has(k))), { strict: false, source });
    } catch (e) {
      net.dispose();
      throw e;
    }
    return net.eval().requiresGrad_(false);
  }

  /** Class scores [N, classes, H, W] (before segment.py's LogSoftmax; the argmax is the same) of normalised images, H and W multiples of 8. */
  forward(x: Tensor): Tensor {
    return tidy(() => this.up.forward(this.seg.forward(this.base.forward(x))));
  }
}
