// `test --onnx` of a run with instance features: the exported G takes `feat`, which comes from the
// engine (here E on the real photos, --use_encoded_image), so the images must equal libtorch's
// `test` of the same run within a grey level, at a size that is not a multiple of G's factor.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { makeSyntheticDataset } from '../../src/data/index.js';
import { buildEncoder, buildGenerator } from '../../src/models/from-options.js';
import { saveCheckpoint } from '../../src/run/index.js';
import { cli, tempDir } from '../cli/helpers.js';
import { smallNetwork } from './helpers.js';

test('test --onnx of a feature run (E on the photos) writes the images of libtorch\'s test', async (t) => {
  const root = tempDir(t, 'p2phd-onnx-features-');
  const dataroot = join(root, 'scenes');
  // 70×38: not a multiple of G's 4.
  await makeSyntheticDataset({ out: dataroot, n: 1, nTest: 2, width: 70, height: 38, seed: 4 });
  const o = smallNetwork({ label_nc: 35, instance_feat: true, n_downsample_E: 2, nef: 8, feat_num: 3 });
  const G = buildGenerator(o, 1);
  const E = buildEncoder(o, 7)!;
  try {
    mkdirSync(join(root, 'feat'));
    saveCheckpoint(join(root, 'feat'), 'latest', { G, E });
  } finally {
    G.dispose();
    E.dispose();
  }
  const run = ['--name', 'feat', '--checkpoints_dir', root, '--netG', 'global', '--ngf', '8', '--label_nc', '35', '--n_downsample_global', '2',
    '--n_blocks_global', '1', '--instance_feat', '--nef', '8', '--n_downsample_E', '2', '--feat_num', '3', '--threads', '1'];
  const model = join(root, 'feat.onnx');
  const exported = cli(['export', ...run, '--onnx', model]);
  assert.equal(exported.status, 0, exported.stderr);
  const testArgs = ['test', ...run, '--dataroot', dataroot, '--phase', 'test', '--use_encoded_image'];
  const engine = cli([...testArgs, '--results_dir', join(root, 'engine')]);
  assert.equal(engine.status, 0, engine.stderr);
  const onnx = cli([...testArgs, '--results_dir', join(root, 'onnx'), '--onnx', model]);
  assert.equal(onnx.status, 0, onnx.stderr);
  assert.match(onnx.stdout, /features encoded from the real photos/);
  assert.match(onnx.stdout, /^2 results in /m);
  for (const name of ['scene_00000', 'scene_00001']) {
    const file = join('feat', 'test_latest', 'images', `${name}_synthesized_image.png`);
    const [a, b] = await Promise.all([join(root, 'engine', file), join(root, 'onnx', file)].map((f) => sharp(f).raw().toBuffer({ resolveWithObject: true })));
    assert.deepEqual([b!.info.width, b!.info.height], [70, 38]);
    let worst = 0;
    for (let i = 0; i < a!.data.length; i++) worst = Math.max(worst, Math.abs(a!.data[i]! - b!.data[i]!));
    assert.ok(worst <= 1, `${name}: onnxruntime and libtorch differ by ${worst} grey levels`);
  }
});
