// The exported feature encoder against libtorch: onnxruntime-node runs E's model on a photo and
// an instance map (the padding to E's size multiple and the mean over each instance happen inside
// the graph) and must agree within 1e-4 with the project's encodeFeatures on the same inputs, at
// sizes that are and are not multiples of E's downsampling; and `pix2pixhd export` of a feature run
// writes it beside G as OUT_encoder.onnx, with the checkpoint's weights.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeFeatures } from '../../src/features/encode.js';
import { buildEncoder, buildGenerator } from '../../src/models/from-options.js';
import { exportEncoder } from '../../src/onnx/encoder-model.js';
import { saveCheckpoint } from '../../src/run/index.js';
import { tensor, tidy } from '../../src/torch/index.js';
import { cli, tempDir } from '../cli/helpers.js';
import { floatMap, int64Map, maxAbsDiff, runOnnx, smallNetwork } from './helpers.js';

const TOL = 1e-4;

/** A photo in [-1, 1] with structure in every channel (E is random; any image exercises it). */
function photo(h: number, w: number): Float32Array {
  return Float32Array.from({ length: 3 * h * w }, (_, i) => Math.sin(i * 0.37) * 0.8 + Math.cos(i * 0.011) * 0.2);
}

/** Five objects in 8×8 blocks with Cityscapes-like ids (class · 1000 + k), the first row background 0. */
function instances(h: number, w: number): Int32Array {
  return Int32Array.from({ length: h * w }, (_, i) => {
    const y = Math.floor(i / w);
    const x = i % w;
    return y < 3 ? 0 : 26000 + ((x >> 3) + 3 * (y >> 3)) % 5;
  });
}

for (const [h, w] of [[24, 40], [22, 37]] as const) {
  test(`E as ONNX equals encodeFeatures within ${TOL} at ${w}×${h} (E's multiple: 4)`, async () => {
    const o = smallNetwork({ instance_feat: true, n_downsample_E: 2, nef: 8, feat_num: 3 });
    const E = buildEncoder(o, 5)!.eval();
    try {
      const image = photo(h, w);
      const inst = instances(h, w);
      const expected = tidy(() => encodeFeatures(E, tensor(image, [1, 3, h, w]), tensor(inst, [1, 1, h, w], { dtype: 'int64' })).toFloat32Array());
      const { data, dims } = await runOnnx(exportEncoder(E, o), { image: floatMap(image, 3, h, w), inst: int64Map(inst, h, w) }, 'feat');
      assert.deepEqual([...dims], [1, 3, h, w]);
      const diff = maxAbsDiff(data, expected);
      assert.ok(diff < TOL, `max |ONNX − libtorch| = ${diff}`);
      // The mean per instance: every pixel of an object holds the same vector.
      const firstOf = new Map<number, number>();
      for (let p = 0; p < h * w; p++) {
        const q = firstOf.get(inst[p]!) ?? (firstOf.set(inst[p]!, p), p);
        for (let c = 0; c < 3; c++) assert.equal(data[c * h * w + p], data[c * h * w + q], `pixel ${p} differs from its instance's first pixel`);
      }
      assert.equal(firstOf.size, 6);
    } finally {
      E.dispose();
    }
  });
}

test('export of a feature run writes OUT_encoder.onnx, E of the checkpoint; a run without features gets none', async (t) => {
  const root = tempDir(t, 'p2phd-onnx-encoder-');
  const o = smallNetwork({ instance_feat: true, n_downsample_E: 2, nef: 8, feat_num: 3 });
  const G = buildGenerator(o, 1);
  const E = buildEncoder(o, 7)!.eval();
  try {
    mkdirSync(join(root, 'feat'));
    saveCheckpoint(join(root, 'feat'), 'latest', { G, E });
    const arch = ['--netG', 'global', '--ngf', '8', '--label_nc', '7', '--n_downsample_global', '2', '--n_blocks_global', '1',
      '--instance_feat', '--nef', '8', '--n_downsample_E', '2', '--feat_num', '3', '--threads', '1'];
    const model = join(root, 'feat.onnx');
    const r = cli(['export', '--name', 'feat', '--checkpoints_dir', root, ...arch, '--onnx', model]);
    assert.equal(r.status, 0, r.stderr);
    const encoderFile = join(root, 'feat_encoder.onnx');
    assert.ok(r.stdout.includes(`${encoderFile}: `) && /feature encoder/.test(r.stdout), r.stdout);
    const [h, w] = [21, 30];
    const image = photo(h, w);
    const inst = instances(h, w);
    const expected = tidy(() => encodeFeatures(E, tensor(image, [1, 3, h, w]), tensor(inst, [1, 1, h, w], { dtype: 'int64' })).toFloat32Array());
    const { data } = await runOnnx(new Uint8Array(readFileSync(encoderFile)), { image: floatMap(image, 3, h, w), inst: int64Map(inst, h, w) }, 'feat');
    const diff = maxAbsDiff(data, expected);
    assert.ok(diff < TOL, `max |exported E − the checkpoint's E| = ${diff}`);

    // The same G without features: no encoder file.
    const plain = smallNetwork();
    const G0 = buildGenerator(plain, 1);
    try {
      mkdirSync(join(root, 'plain'));
      saveCheckpoint(join(root, 'plain'), 'latest', { G: G0 });
    } finally {
      G0.dispose();
    }
    const plainModel = join(root, 'plain.onnx');
    const p = cli(['export', '--name', 'plain', '--checkpoints_dir', root, ...arch.slice(0, 10), '--threads', '1', '--onnx', plainModel]);
    assert.equal(p.status, 0, p.stderr);
    assert.ok(existsSync(plainModel) && !existsSync(join(root, 'plain_encoder.onnx')));
  } finally {
    G.dispose();
    E.dispose();
  }
});
