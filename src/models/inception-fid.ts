// pytorch-fid's Inception-v3 (the network every published FID is measured with): torchvision's
// Inception3 blocks with the patches pytorch-fid applies to match the TensorFlow graph of
// 2015-12-05 — average pools that do not count padding (FIDInceptionA, C, E_1) and a max pool in
// the last E block (FIDInceptionE_2). Module names are torchvision's, so the state dict of
// `pt_inception-2015-12-05-6726825d.pth` loads by its own keys.
//
// Input: RGB in [0, 1] at any size; resized bilinearly (align_corners=False) to 299×299, mapped to
// [-1, 1], then the blocks up to the requested one, then a global average pool: 64, 192, 768 or
// 2048 features per image (pytorch-fid's --dims).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { callOp, cat, dispose, F, loadTensorDict, nn, tidy, type Tensor } from '../torch/index.js';

export const FID_INCEPTION_FILE = 'pt_inception-2015-12-05-6726825d.pth';
export const FID_INCEPTION_URL = `https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/${FID_INCEPTION_FILE}`;
/** Feature sizes pytorch-fid offers: the outputs of its four blocks, average-pooled. */
export const FID_DIMS = [64, 192, 768, 2048] as const;
export type FidDims = (typeof FID_DIMS)[number];

/** Where torch hub keeps downloaded weights: $TORCH_HOME/hub/checkpoints (~/.cache/torch by default). */
export function defaultInceptionPath(): string {
  const torchHome = process.env.TORCH_HOME ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'torch');
  return join(torchHome, 'hub', 'checkpoints', FID_INCEPTION_FILE);
}

type Pair = number | readonly [number, number];

/** torchvision's BasicConv2d: conv without bias, batch norm (eps 0.001), ReLU. */
class BasicConv2d extends nn.Layer {
  readonly conv: nn.Conv2d;
  readonly bn: nn.BatchNorm2d;
  constructor(inC: number, outC: number, kernel: Pair, opts: { stride?: Pair; padding?: Pair } = {}) {
    super();
    this.conv = this.registerModule('conv', new nn.Conv2d(inC, outC, kernel, { ...opts, bias: false }));
    this.bn = this.registerModule('bn', new nn.BatchNorm2d(outC, { eps: 0.001 }));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => this.bn.forward(this.conv.forward(x)).relu_());
  }
}

/** Runs named BasicConv2d layers in order. */
function chain(x: Tensor, ...layers: nn.Layer[]): Tensor {
  return tidy(() => layers.reduce((y, l) => l.forward(y), x));
}

/** TensorFlow's 3×3 average pool: padded zeros are not counted (pytorch-fid's patch). */
const tfAvgPool = (x: Tensor) => F.avgPool2d(x, 3, { stride: 1, padding: 1, countIncludePad: false });

class FidInceptionA extends nn.Layer {
  readonly b1: BasicConv2d; readonly b5_1: BasicConv2d; readonly b5_2: BasicConv2d;
  readonly d1: BasicConv2d; readonly d2: BasicConv2d; readonly d3: BasicConv2d; readonly pool: BasicConv2d;
  constructor(inC: number, poolFeatures: number) {
    super();
    this.b1 = this.registerModule('branch1x1', new BasicConv2d(inC, 64, 1));
    this.b5_1 = this.registerModule('branch5x5_1', new BasicConv2d(inC, 48, 1));
    this.b5_2 = this.registerModule('branch5x5_2', new BasicConv2d(48, 64, 5, { padding: 2 }));
    this.d1 = this.registerModule('branch3x3dbl_1', new BasicConv2d(inC, 64, 1));
    this.d2 = this.registerModule('branch3x3dbl_2', new BasicConv2d(64, 96, 3, { padding: 1 }));
    this.d3 = this.registerModule('branch3x3dbl_3', new BasicConv2d(96, 96, 3, { padding: 1 }));
    this.pool = this.registerModule('branch_pool', new BasicConv2d(inC, poolFeatures, 1));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => cat([this.b1.forward(x), chain(x, this.b5_1, this.b5_2), chain(x, this.d1, this.d2, this.d3), this.pool.forward(tfAvgPool(x))], 1));
  }
}

class InceptionB extends nn.Layer {
  readonly b3: BasicConv2d; readonly d1: BasicConv2d; readonly d2: BasicConv2d; readonly d3: BasicConv2d;
  constructor(inC: number) {
    super();
    this.b3 = this.registerModule('branch3x3', new BasicConv2d(inC, 384, 3, { stride: 2 }));
    this.d1 = this.registerModule('branch3x3dbl_1', new BasicConv2d(inC, 64, 1));
    this.d2 = this.registerModule('branch3x3dbl_2', new BasicConv2d(64, 96, 3, { padding: 1 }));
    this.d3 = this.registerModule('branch3x3dbl_3', new BasicConv2d(96, 96, 3, { stride: 2 }));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => cat([this.b3.forward(x), chain(x, this.d1, this.d2, this.d3), F.maxPool2d(x, 3, { stride: 2 })], 1));
  }
}

class FidInceptionC extends nn.Layer {
  readonly b1: BasicConv2d; readonly b7: BasicConv2d[]; readonly d7: BasicConv2d[]; readonly pool: BasicConv2d;
  constructor(inC: number, c7: number) {
    super();
    const row = { padding: [0, 3] as const };
    const col = { padding: [3, 0] as const };
    this.b1 = this.registerModule('branch1x1', new BasicConv2d(inC, 192, 1));
    this.b7 = [
      this.registerModule('branch7x7_1', new BasicConv2d(inC, c7, 1)),
      this.registerModule('branch7x7_2', new BasicConv2d(c7, c7, [1, 7], row)),
      this.registerModule('branch7x7_3', new BasicConv2d(c7, 192, [7, 1], col)),
    ];
    this.d7 = [
      this.registerModule('branch7x7dbl_1', new BasicConv2d(inC, c7, 1)),
      this.registerModule('branch7x7dbl_2', new BasicConv2d(c7, c7, [7, 1], col)),
      this.registerModule('branch7x7dbl_3', new BasicConv2d(c7, c7, [1, 7], row)),
      this.registerModule('branch7x7dbl_4', new BasicConv2d(c7, c7, [7, 1], col)),
      this.registerModule('branch7x7dbl_5', new BasicConv2d(c7, 192, [1, 7], row)),
    ];
    this.pool = this.registerModule('branch_pool', new BasicConv2d(inC, 192, 1));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => cat([this.b1.forward(x), chain(x, ...this.b7), chain(x, ...this.d7), this.pool.forward(tfAvgPool(x))], 1));
  }
}

class InceptionD extends nn.Layer {
  readonly b3: BasicConv2d[]; readonly b7: BasicConv2d[];
  constructor(inC: number) {
    super();
    this.b3 = [
      this.registerModule('branch3x3_1', new BasicConv2d(inC, 192, 1)),
      this.registerModule('branch3x3_2', new BasicConv2d(192, 320, 3, { stride: 2 })),
    ];
    this.b7 = [
      this.registerModule('branch7x7x3_1', new BasicConv2d(inC, 192, 1)),
      this.registerModule('branch7x7x3_2', new BasicConv2d(192, 192, [1, 7], { padding: [0, 3] })),
      this.registerModule('branch7x7x3_3', new BasicConv2d(192, 192, [7, 1], { padding: [3, 0] })),
      this.registerModule('branch7x7x3_4', new BasicConv2d(192, 192, 3, { stride: 2 })),
    ];
  }
  forward(x: Tensor): Tensor {
    return tidy(() => cat([chain(x, ...this.b3), chain(x, ...this.b7), F.maxPool2d(x, 3, { stride: 2 })], 1));
  }
}

/** FIDInceptionE_1 (average pool without padding) or FIDInceptionE_2 (max pool). */
class FidInceptionE extends nn.Layer {
  readonly b1: BasicConv2d; readonly b3_1: BasicConv2d; readonly b3_2a: BasicConv2d; readonly b3_2b: BasicConv2d;
  readonly d1: BasicConv2d; readonly d2: BasicConv2d; readonly d3a: BasicConv2d; readonly d3b: BasicConv2d; readonly pool: BasicConv2d;
  constructor(inC: number, private readonly poolKind: 'avg' | 'max') {
    super();
    this.b1 = this.registerModule('branch1x1', new BasicConv2d(inC, 320, 1));
    this.b3_1 = this.registerModule('branch3x3_1', new BasicConv2d(inC, 384, 1));
    this.b3_2a = this.registerModule('branch3x3_2a', new BasicConv2d(384, 384, [1, 3], { padding: [0, 1] }));
    this.b3_2b = this.registerModule('branch3x3_2b', new BasicConv2d(384, 384, [3, 1], { padding: [1, 0] }));
    this.d1 = this.registerModule('branch3x3dbl_1', new BasicConv2d(inC, 448, 1));
    this.d2 = this.registerModule('branch3x3dbl_2', new BasicConv2d(448, 384, 3, { padding: 1 }));
    this.d3a = this.registerModule('branch3x3dbl_3a', new BasicConv2d(384, 384, [1, 3], { padding: [0, 1] }));
    this.d3b = this.registerModule('branch3x3dbl_3b', new BasicConv2d(384, 384, [3, 1], { padding: [1, 0] }));
    this.pool = this.registerModule('branch_pool', new BasicConv2d(inC, 192, 1));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const b3 = this.b3_1.forward(x);
      const d = chain(x, this.d1, this.d2);
      const pooled = this.poolKind === 'avg' ? tfAvgPool(x) : F.maxPool2d(x, 3, { stride: 1, padding: 1 });
      return cat([
        this.b1.forward(x),
        cat([this.b3_2a.forward(b3), this.b3_2b.forward(b3)], 1),
        cat([this.d3a.forward(d), this.d3b.forward(d)], 1),
        this.pool.forward(pooled),
      ], 1);
    });
  }
}

const maxPool3s2 = (x: Tensor) => F.maxPool2d(x, 3, { stride: 2 });

export class FidInceptionV3 extends nn.Module {
  /** pytorch-fid's four blocks; the features of block b are its output average-pooled. */
  readonly blocks: ((x: Tensor) => Tensor)[][];

  /** The architecture with default initialisation; FidInceptionV3.load gives the FID weights. */
  constructor() {
    super();
    const r = <M extends nn.Module>(name: string, m: M) => this.registerModule(name, m);
    const l = (m: nn.Layer) => (x: Tensor) => m.forward(x);
    this.blocks = [
      [l(r('Conv2d_1a_3x3', new BasicConv2d(3, 32, 3, { stride: 2 }))), l(r('Conv2d_2a_3x3', new BasicConv2d(32, 32, 3))),
        l(r('Conv2d_2b_3x3', new BasicConv2d(32, 64, 3, { padding: 1 }))), maxPool3s2],
      [l(r('Conv2d_3b_1x1', new BasicConv2d(64, 80, 1))), l(r('Conv2d_4a_3x3', new BasicConv2d(80, 192, 3))), maxPool3s2],
      [l(r('Mixed_5b', new FidInceptionA(192, 32))), l(r('Mixed_5c', new FidInceptionA(256, 64))), l(r('Mixed_5d', new FidInceptionA(288, 64))),
        l(r('Mixed_6a', new InceptionB(288))), l(r('Mixed_6b', new FidInceptionC(768, 128))), l(r('Mixed_6c', new FidInceptionC(768, 160))),
        l(r('Mixed_6d', new FidInceptionC(768, 160))), l(r('Mixed_6e', new FidInceptionC(768, 192)))],
      [l(r('Mixed_7a', new InceptionD(768))), l(r('Mixed_7b', new FidInceptionE(1280, 'avg'))), l(r('Mixed_7c', new FidInceptionE(2048, 'max')))],
    ];
  }

  /**
   * Loads the FID weights (`pt_inception-2015-12-05-6726825d.pth`) by their own keys. The
   * classifier (`fc.*`) is not used; BatchNorm's `num_batches_tracked` may be present or not
   * (the published file, saved by an old PyTorch, has none). A missing file says where to get it.
   */
  static load(path: string = defaultInceptionPath()): FidInceptionV3 {
    if (!existsSync(path)) {
      throw new Error(
        `FID Inception weights not found at ${path}. FID and KID need pytorch-fid's ${FID_INCEPTION_FILE}: ` +
        `download ${FID_INCEPTION_URL} and put it there (the torch hub cache), or give its path with --inception_weights.`,
      );
    }
    const file = loadTensorDict(path);
    try {
      return FidInceptionV3.fromStateDict(file, path);
    } finally {
      dispose(file);
    }
  }

  /** The network from a state dict in pytorch-fid's layout (the caller keeps `values`). */
  static fromStateDict(values: ReadonlyMap<string, Tensor>, source = 'a state dict'): FidInceptionV3 {
    const net = new FidInceptionV3();
    try {
      const own = net.stateDict();
      const wanted = new Map<string, Tensor>();
      for (const [k, v] of values) if (own.has(k)) wanted.set(k, v);
      const missing = [...own.keys()].filter((k) => !wanted.has(k) && !k.endsWith('.num_batches_tracked'));
      if (missing.length) {
        throw new Error(`${source} is not pytorch-fid's Inception (${FID_INCEPTION_FILE}): it lacks ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
      }
      net.loadStateDict(wanted, { strict: false, source });
    } catch (e) {
      net.dispose();
      throw e;
    }
    return net.eval().requiresGrad_(false);
  }

  /** Average-pooled features [N, dims] of RGB images [N, 3, H, W] in [0, 1]. */
  forward(images: Tensor, dims: FidDims = 2048): Tensor {
    const last = FID_DIMS.indexOf(dims);
    if (last < 0) throw new Error(`FID features come in ${FID_DIMS.join(', ')} dimensions, not ${String(dims)}`);
    return tidy(() => {
      let x = F.interpolate(images, { size: [299, 299], mode: 'bilinear', alignCorners: false }).mul(2).sub(1);
      for (let b = 0; b <= last; b++) for (const step of this.blocks[b]!) x = step(x);
      return (callOp('adaptive_avg_pool2d', [x, [1, 1]]) as Tensor).flatten(1);
    });
  }
}
