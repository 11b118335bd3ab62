// `pix2pixhd test --onnx` where libtorch cannot be loaded: PIX2PIXHD_TORCH_ADDON points the
// binding's loader at a file that does not exist, so any import of src/torch/native.ts fails the
// command. The results page and images must still come out, equal to those of libtorch's `test`
// within a grey level — at the maps' own size and with maps resized for G (the result resized back).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { cli, tempDir } from '../cli/helpers.js';
import { writeCityscapesLayout, writeOfficialCheckpoint, type OfficialLocalG } from '../cli/official-run.js';

const SMALL: OfficialLocalG = { input_nc: 35 + 1, output_nc: 3, ngf: 4, n_downsample_global: 2, n_blocks_global: 1, n_local_enhancers: 1, n_blocks_local: 1 };
const ARCH = ['--netG', 'local', '--ngf', '4', '--label_nc', '35', '--n_downsample_global', '2', '--n_blocks_global', '1', '--n_blocks_local', '1'];
// 90×46: not a multiple of G's 8.
const SCENES = [{ city: 'lindau', stem: 'lindau_000000_000019', width: 90, height: 46 }];
const NO_LIBTORCH = { PIX2PIXHD_TORCH_ADDON: '/nonexistent/torch_addon.node' };

async function rgb(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

test('test --onnx writes the results of libtorch\'s test with the libtorch binding unloadable', async (t) => {
  const root = tempDir(t, 'p2phd-onnx-nolibtorch-');
  const checkpoints = join(root, 'checkpoints');
  const dataroot = join(root, 'cityscapes');
  writeOfficialCheckpoint(join(checkpoints, 'l2c'), SMALL, { seed: 2 });
  await writeCityscapesLayout(dataroot, 'val', SCENES, 3);
  const run = ['--name', 'l2c', '--checkpoints_dir', checkpoints, ...ARCH, '--threads', '1'];
  const model = join(root, 'l2c.onnx');
  const exported = cli(['export', ...run, '--onnx', model]);
  assert.equal(exported.status, 0, exported.stderr);

  // The variable does make libtorch unloadable: the engine's test fails, naming it.
  const testArgs = ['test', ...run, '--dataroot', dataroot, '--phase', 'val'];
  const engineRefused = cli([...testArgs, '--resize_or_crop', 'none', '--results_dir', join(root, 'refused')], NO_LIBTORCH);
  assert.equal(engineRefused.status, 1);
  assert.match(engineRefused.stderr, /PIX2PIXHD_TORCH_ADDON names \(\/nonexistent\/torch_addon\.node\) does not exist/);

  // Half precision is the engine's; an exported model computes in float32 and says so.
  const half = cli([...testArgs, '--resize_or_crop', 'none', '--results_dir', join(root, 'half'), '--onnx', model, '--data_type', '16'], NO_LIBTORCH);
  assert.equal(half.status, 2);
  assert.match(half.stderr, /--data_type 16 with --onnx: an exported model computes in float32/);

  // 'none': the maps' own size; scale_width 64: maps resized for G, results resized back to 90×46.
  for (const resize of [['--resize_or_crop', 'none'], ['--resize_or_crop', 'scale_width', '--loadSize', '64']]) {
    const tag = resize[1]!;
    const engine = cli([...testArgs, ...resize, '--results_dir', join(root, `engine-${tag}`)]);
    assert.equal(engine.status, 0, engine.stderr);
    const onnx = cli([...testArgs, ...resize, '--results_dir', join(root, `onnx-${tag}`), '--onnx', model], NO_LIBTORCH);
    assert.equal(onnx.status, 0, onnx.stderr);
    assert.match(onnx.stdout, /^1 results in /m);
    const page = join(root, `onnx-${tag}`, 'l2c', 'val_latest', 'index.html');
    assert.ok(existsSync(page), 'the results page');
    for (const s of SCENES) {
      for (const kind of ['synthesized_image', 'input_label']) {
        const file = join('l2c', 'val_latest', 'images', `${s.stem}_gtFine_labelIds_${kind}.png`);
        assert.ok(readFileSync(page, 'utf-8').includes(`${s.stem}_gtFine_labelIds_${kind}.png`), `the page shows ${kind}`);
        const [a, b] = [await rgb(join(root, `engine-${tag}`, file)), await rgb(join(root, `onnx-${tag}`, file))];
        assert.deepEqual([b.width, b.height], [a.width, a.height]);
        if (kind === 'synthesized_image') assert.deepEqual([b.width, b.height], [s.width, s.height], 'the label file\'s own size');
        let worst = 0;
        for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i]! - b.data[i]!));
        // Both round down from float values that differ by < 1e-4: at most one grey level apart.
        assert.ok(worst <= 1, `${tag} ${kind}: onnxruntime without libtorch and libtorch differ by ${worst} grey levels`);
      }
    }
  }
});
