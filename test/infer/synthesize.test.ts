// Synthesis at any size: the input is padded by edge replication up to G's size multiple and the
// result cropped back, so it has the label map's own size; tensor → RGB bytes as tensor2im.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GlobalGenerator, initWeights, LocalEnhancer } from '../../src/models/index.js';
import { nn, noGrad, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { sizeMultiple } from '../../src/data/index.js';
import { imageToRgb, precisionFor, synthesize } from '../../src/infer/synthesize.js';
import { rng } from '../models/helpers.js';

/** G's forward as synthesize() runs it: no autograd, instance norms in place. */
const inference = <T>(fn: () => T): T => nn.withInPlaceNorms(() => noGrad(fn));

/** [1, c, h, w] of seeded values, and its data (row-major). */
function input(c: number, h: number, w: number, seed: number): { t: Tensor; data: Float32Array } {
  const r = rng(seed);
  const data = Float32Array.from({ length: c * h * w }, () => (r() < 0.5 ? 0 : 1));
  return { t: tensor(data, [1, c, h, w]), data };
}

/** Edge replication written out by hand: row y ≥ h repeats row h − 1, column x ≥ w repeats column w − 1. */
function replicatePad(data: Float32Array, c: number, h: number, w: number, H: number, W: number): Tensor {
  const out = new Float32Array(c * H * W);
  for (let k = 0; k < c; k++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) out[(k * H + y) * W + x] = data[(k * h + Math.min(y, h - 1)) * w + Math.min(x, w - 1)]!;
    }
  }
  return tensor(out, [1, c, H, W]);
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tidy(() => a.sub(b).abs().max().item());
}

test('sizeMultiple is 2^(n_downsample_global + n_local_enhancers), the enhancers counting only for netG local', () => {
  assert.equal(sizeMultiple({ netG: 'global', n_downsample_global: 4, n_local_enhancers: 1 }), 16);
  assert.equal(sizeMultiple({ netG: 'local', n_downsample_global: 4, n_local_enhancers: 1 }), 32);
  assert.equal(sizeMultiple({ netG: 'local', n_downsample_global: 2, n_local_enhancers: 2 }), 16);
  assert.equal(sizeMultiple({ netG: 'global', n_downsample_global: 0, n_local_enhancers: 3 }), 1);
});

test('G1 on a 50×30 map (multiple 4): the result is 50×30 and equals G on the replicate-padded 52×32 input, cropped', () => {
  const G = initWeights(new GlobalGenerator({ input_nc: 5, output_nc: 3, ngf: 4, n_downsample_global: 2, n_blocks_global: 1 }), { seed: 3 }).eval();
  try {
    tidy(() => {
      const { t, data } = input(5, 30, 50, 1);
      const out = synthesize(G, t, 4);
      assert.deepEqual(out.shape, [1, 3, 30, 50]);
      const expected = inference(() => G.forward(replicatePad(data, 5, 30, 50, 32, 52)).narrow(2, 0, 30).narrow(3, 0, 50));
      assert.equal(maxAbsDiff(out, expected), 0);
      assert.equal(out.requiresGrad, false);
    });
  } finally {
    G.dispose();
  }
});

test('G2 (multiple 8) on a 21×13 map pads to 24×16; an input already a multiple goes through unpadded', () => {
  const G = initWeights(new LocalEnhancer({ input_nc: 4, output_nc: 3, ngf: 2, n_downsample_global: 2, n_blocks_global: 1, n_local_enhancers: 1, n_blocks_local: 1 }), { seed: 5 }).eval();
  try {
    tidy(() => {
      const { t, data } = input(4, 13, 21, 2);
      const out = synthesize(G, t, 8);
      assert.deepEqual(out.shape, [1, 3, 13, 21]);
      const expected = inference(() => G.forward(replicatePad(data, 4, 13, 21, 16, 24)).narrow(2, 0, 13).narrow(3, 0, 21));
      assert.equal(maxAbsDiff(out, expected), 0);

      const exact = input(4, 16, 24, 3).t;
      assert.equal(maxAbsDiff(synthesize(G, exact, 8), inference(() => G.forward(exact))), 0);
    });
  } finally {
    G.dispose();
  }
});

test('imageToRgb maps [-1, 1] to bytes as tensor2im: (x + 1) / 2 · 255, clamped, rounded down', () => {
  tidy(() => {
    // [1, 3, 1, 2]: pixel 0 = (-1, 0, 1), pixel 1 = (0.5, 2, -3).
    const t = tensor([-1, 0.5, 0, 2, 1, -3], [1, 3, 1, 2]);
    const { rgb, width, height } = imageToRgb(t, 0);
    assert.equal(width, 2);
    assert.equal(height, 1);
    // 0 → 127.5 → 127; 0.5 → 191.25 → 191; 2 and −3 clamp to 255 and 0.
    assert.deepEqual([...rgb], [0, 127, 255, 191, 255, 0]);
  });
});

test('half precision (--data_type 16): G under autocast, a float32 result near the full-precision one but not equal', () => {
  // The CPU's bfloat16 autocast stands in for CUDA's float16.
  const G = initWeights(new GlobalGenerator({ input_nc: 5, output_nc: 3, ngf: 8, n_downsample_global: 2, n_blocks_global: 1 }), { seed: 4 }).eval();
  try {
    tidy(() => {
      const { t } = input(5, 30, 50, 2);
      const full = synthesize(G, t, 4);
      const half = synthesize(G, t, 4, { halfPrecision: true });
      assert.equal(half.dtype, 'float32');
      assert.deepEqual(half.shape, full.shape);
      const d = maxAbsDiff(half, full);
      assert.ok(d > 0 && d < 0.1, `bfloat16 rounding only: largest difference ${d}`);
    });
  } finally {
    G.dispose();
  }
});

test('--data_type: 32 full precision anywhere, 16 only on CUDA, 8 refused with the reason', () => {
  assert.deepEqual(precisionFor(32, 'cpu'), { halfPrecision: false });
  assert.deepEqual(precisionFor(16, 'cuda:0'), { halfPrecision: true });
  assert.throws(() => precisionFor(16, 'cpu'), /--data_type 16: half precision runs on a CUDA device .*on the CPU/);
  assert.throws(() => precisionFor(8, 'cuda:0'), /--data_type 8: .*TensorRT/);
});
