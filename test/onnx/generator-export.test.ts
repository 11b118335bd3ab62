// The exported generator against libtorch: onnxruntime-node runs the model on the raw maps (the
// one-hot encoding, instance edges and padding happen inside the graph) and must agree within
// 1e-4 with G.forward on the engine's own input encoding, at sizes that are and are not multiples
// of G's downsampling; and against the official outputs in the reference fixtures.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { encodeInput, GlobalGenerator, LocalEnhancer } from '../../src/models/index.js';
import type { Generator, NetworkOptions } from '../../src/models/from-options.js';
import { sizeMultiple } from '../../src/data/transforms.js';
import { synthesize } from '../../src/infer/synthesize.js';
import { exportGenerator } from '../../src/onnx/index.js';
import { dispose, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { fixture, get, withFixture } from '../models/helpers.js';
import { floatMap, int64Map, maxAbsDiff, randomGenerator, runOnnx, smallNetwork } from './helpers.js';

const TOL = 1e-4;
const inputs = fixture('inputs.pth');
after(() => dispose(inputs));

/** The fixture's label and instance maps cut to h×w from the top left (ids stay ids). */
function cutMaps(h: number, w: number): { label: Tensor; inst: Tensor } {
  return {
    label: get(inputs, 'label').narrow(2, 0, h).narrow(3, 0, w).long().contiguous(),
    inst: get(inputs, 'inst').narrow(2, 0, h).narrow(3, 0, w).long().contiguous(),
  };
}

/** libtorch's synthesis (infer/synthesize.ts) and the ONNX model's, on the same maps. */
async function compare(G: Generator, o: NetworkOptions, h: number, w: number, feat?: Tensor): Promise<number> {
  const model = exportGenerator(G, o);
  const { expected, feeds } = tidy(() => {
    const { label, inst } = cutMaps(h, w);
    const x = encodeInput({ label, inst, feat: feat ?? null }, { label_nc: o.label_nc, no_instance: o.no_instance });
    const feeds = {
      label: int64Map(label.toArray() as BigInt64Array, h, w),
      ...(o.no_instance ? {} : { inst: int64Map(inst.toArray() as BigInt64Array, h, w) }),
      ...(feat ? { feat: floatMap(feat.toFloat32Array(), feat.size(1), h, w) } : {}),
    };
    return { expected: synthesize(G, x, sizeMultiple(o)).toFloat32Array(), feeds };
  });
  const got = await runOnnx(model, feeds);
  assert.deepEqual(got.dims, [1, o.output_nc, h, w], 'output shape is the input size');
  return maxAbsDiff(got.data, expected);
}

test('the exported global G reproduces the official output in global_G_out.pth from the raw label and instance maps', async () => {
  const o = smallNetwork({ netG: 'global', n_downsample_global: 3, n_blocks_global: 2 });
  const G = new GlobalGenerator({ input_nc: 8, output_nc: 3, ngf: 8, n_downsample_global: 3, n_blocks_global: 2 });
  try {
    withFixture('global_G.pth', (sd) => G.loadStateDict(sd, { strict: true }));
    G.eval();
    const model = exportGenerator(G, o);
    const got = await runOnnx(model, {
      label: int64Map(get(inputs, 'label').long().toArray() as BigInt64Array, 64, 128),
      inst: int64Map(get(inputs, 'inst').long().toArray() as BigInt64Array, 64, 128),
    });
    const official = withFixture('global_G_out.pth', (ref) => get(ref, 'fake_image').toFloat32Array());
    const err = maxAbsDiff(got.data, official);
    assert.ok(err < TOL, `max abs difference to the official output ${err}`);
  } finally {
    G.dispose();
  }
});

test('the exported local G (fixture configuration, official weights) agrees with libtorch at 64×128 and at 45×70', async () => {
  const o = smallNetwork({ netG: 'local', n_downsample_global: 2, n_blocks_global: 2, n_local_enhancers: 1, n_blocks_local: 1 });
  const G = new LocalEnhancer({ input_nc: 8, output_nc: 3, ngf: 8, n_downsample_global: 2, n_blocks_global: 2, n_local_enhancers: 1, n_blocks_local: 1 });
  try {
    withFixture('local_G.pth', (sd) => G.loadStateDict(sd, { strict: true }));
    G.eval();
    for (const [h, w] of [[64, 128], [45, 70]] as const) {
      const err = await compare(G, o, h, w);
      assert.ok(err < TOL, `${h}×${w}: max abs difference ${err}`);
    }
    const official = withFixture('local_G_out.pth', (ref) => get(ref, 'fake_image').toFloat32Array());
    const got = await runOnnx(exportGenerator(G, o), {
      label: int64Map(get(inputs, 'label').long().toArray() as BigInt64Array, 64, 128),
      inst: int64Map(get(inputs, 'inst').long().toArray() as BigInt64Array, 64, 128),
    });
    assert.ok(maxAbsDiff(got.data, official) < TOL, 'agrees with the official local_G_out.pth');
  } finally {
    G.dispose();
  }
});

test('the exported local G with 2 enhancers agrees with libtorch at 64×128 and at 37×53', async () => {
  const o = smallNetwork({ netG: 'local', n_downsample_global: 1, n_blocks_global: 1, n_local_enhancers: 2, n_blocks_local: 1 });
  const G = randomGenerator(o);
  try {
    for (const [h, w] of [[64, 128], [37, 53]] as const) {
      const err = await compare(G, o, h, w);
      assert.ok(err < TOL, `${h}×${w}: max abs difference ${err}`);
    }
  } finally {
    G.dispose();
  }
});

test('a global G with batch norm, no instance maps, agrees with libtorch at 30×41', async () => {
  const o = smallNetwork({ norm: 'batch', no_instance: true });
  const G = randomGenerator(o);
  try {
    // Running statistics other than the initial 0 and 1, so the export must carry them.
    tidy(() => {
      for (const [name, t] of G.namedBuffers()) {
        if (name.endsWith('running_mean')) t.copy_(tensor(Array.from({ length: t.numel }, (_, i) => 0.01 * i), t.shape));
        if (name.endsWith('running_var')) t.copy_(tensor(Array.from({ length: t.numel }, (_, i) => 1 + 0.02 * i), t.shape));
      }
    });
    const err = await compare(G, o, 30, 41);
    assert.ok(err < TOL, `max abs difference ${err}`);
  } finally {
    G.dispose();
  }
});

test('a feature run takes `feat` and agrees with libtorch at 33×50', async () => {
  const o = smallNetwork({ instance_feat: true, feat_num: 3 });
  const G = randomGenerator(o);
  try {
    const feat = tensor(Float32Array.from({ length: 3 * 33 * 50 }, (_, i) => Math.sin(i * 0.37)), [1, 3, 33, 50]);
    try {
      const err = await compare(G, o, 33, 50, feat);
      assert.ok(err < TOL, `max abs difference ${err}`);
    } finally {
      feat.dispose();
    }
  } finally {
    G.dispose();
  }
});

test('label_nc 0: the input is the image itself, padded and cropped as by test', async () => {
  const o = smallNetwork({ label_nc: 0, input_nc: 3, no_instance: true });
  const G = randomGenerator(o);
  try {
    const [h, w] = [22, 35];
    const image = tensor(Float32Array.from({ length: 3 * h * w }, (_, i) => Math.cos(i * 0.11)), [1, 3, h, w]);
    try {
      const expected = tidy(() => synthesize(G, image, sizeMultiple(o)).toFloat32Array());
      const got = await runOnnx(exportGenerator(G, o), { label: floatMap(image.toFloat32Array(), 3, h, w) });
      assert.deepEqual(got.dims, [1, 3, h, w]);
      const err = maxAbsDiff(got.data, expected);
      assert.ok(err < TOL, `max abs difference ${err}`);
    } finally {
      image.dispose();
    }
  } finally {
    G.dispose();
  }
});

test('a local G with --spectral_norm G exports its normalised weights (W / σ from the stored u, v) and agrees with libtorch at 40×56', async () => {
  const o = smallNetwork({ netG: 'local', spectral_norm: 'G' });
  const G = randomGenerator(o);
  try {
    // Training-mode forwards move u and v (and so σ) away from their initial draws.
    G.train();
    tidy(() => {
      const { label, inst } = cutMaps(40, 56);
      for (let i = 0; i < 2; i++) G.forward(encodeInput({ label, inst, feat: null }, { label_nc: o.label_nc, no_instance: o.no_instance }));
    });
    G.eval();
    const err = await compare(G, o, 40, 56);
    assert.ok(err < TOL, `max abs difference ${err}`);
  } finally {
    G.dispose();
  }
});
