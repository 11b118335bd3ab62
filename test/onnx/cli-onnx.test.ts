// The ONNX commands as a user runs them on a folder of official checkpoints (label2city's layout,
// small): `export` and `test --export_onnx` write the same model; `test --onnx` synthesises the same
// images as `test` through onnxruntime-node; a model for another label layout is refused naming both.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { exportGenerator } from '../../src/onnx/index.js';
import { cli, tempDir } from '../cli/helpers.js';
import { writeCityscapesLayout, writeOfficialCheckpoint, type OfficialLocalG } from '../cli/official-run.js';
import { randomGenerator, smallNetwork } from './helpers.js';

const SMALL: OfficialLocalG = { input_nc: 35 + 1, output_nc: 3, ngf: 4, n_downsample_global: 2, n_blocks_global: 1, n_local_enhancers: 1, n_blocks_local: 1 };
const ARCH = ['--netG', 'local', '--ngf', '4', '--label_nc', '35', '--n_downsample_global', '2', '--n_blocks_global', '1', '--n_blocks_local', '1'];
// 90×46: not a multiple of G's 8.
const SCENES = [{ city: 'lindau', stem: 'lindau_000000_000019', width: 90, height: 46 }, { city: 'ulm', stem: 'ulm_000000_000019', width: 90, height: 46 }];

async function rgb(file: string): Promise<Buffer> {
  return (await sharp(file).raw().toBuffer({ resolveWithObject: true })).data;
}

test('export, test --export_onnx, test --onnx against test, and a model for another layout refused', async (t) => {
  const root = tempDir(t, 'p2phd-onnx-cli-');
  const checkpoints = join(root, 'checkpoints');
  const dataroot = join(root, 'cityscapes');
  writeOfficialCheckpoint(join(checkpoints, 'l2c'), SMALL, { seed: 1 });
  await writeCityscapesLayout(dataroot, 'val', SCENES, 3);
  const run = ['--name', 'l2c', '--checkpoints_dir', checkpoints, ...ARCH, '--threads', '1'];

  const model = join(root, 'l2c.onnx');
  const exported = cli(['export', ...run, '--onnx', model]);
  assert.equal(exported.status, 0, exported.stderr);
  assert.ok(existsSync(model));
  const viaTest = join(root, 'via-test.onnx');
  const r = cli(['test', ...run, '--export_onnx', viaTest]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(readFileSync(viaTest).equals(readFileSync(model)), 'test --export_onnx writes the model export writes');
  const half = join(root, 'half.onnx');
  assert.equal(cli(['export', ...run, '--fp16', '--onnx', half]).status, 0);
  const ratio = readFileSync(half).length / readFileSync(model).length;
  assert.ok(ratio > 0.45 && ratio < 0.6, `--fp16 halves the model (ratio ${ratio.toFixed(3)})`);

  const testArgs = ['test', ...run, '--dataroot', dataroot, '--phase', 'val', '--resize_or_crop', 'none'];
  const engine = cli([...testArgs, '--results_dir', join(root, 'engine')]);
  assert.equal(engine.status, 0, engine.stderr);
  const onnx = cli([...testArgs, '--results_dir', join(root, 'onnx'), '--onnx', model]);
  assert.equal(onnx.status, 0, onnx.stderr);
  assert.match(onnx.stdout, /^2 results in /m);
  for (const s of SCENES) {
    const file = join('l2c', 'val_latest', 'images', `${s.stem}_gtFine_labelIds_synthesized_image.png`);
    const [a, b] = [await rgb(join(root, 'engine', file)), await rgb(join(root, 'onnx', file))];
    assert.equal(a.length, b.length);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    // Both round down from float values that differ by < 1e-4: at most one grey level apart.
    assert.ok(worst <= 1, `${s.stem}: onnxruntime and libtorch differ by ${worst} grey levels`);
  }
  assert.ok(existsSync(join(root, 'onnx', 'l2c', 'val_latest', 'index.html')), 'the same results page');

  // A model exported for label_nc 7 cannot serve a label_nc 35 run.
  const G = randomGenerator(smallNetwork({ label_nc: 7 }));
  const other = join(root, 'other.onnx');
  try {
    writeFileSync(other, exportGenerator(G, smallNetwork({ label_nc: 7 })));
  } finally {
    G.dispose();
  }
  const refused = cli([...testArgs, '--results_dir', join(root, 'refused'), '--onnx', other]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /exported for label_nc 7, instance maps, no features; this run has label_nc 35, instance maps, no features/);
});
