// NVIDIA's published Cityscapes model as a user runs it (docs/cityscapes-pretrained.md): a folder
// checkpoints/label2city_1024p/ holding only latest_net_G.pth — the official local generator's
// state dict in PyTorch's legacy pre-1.6 format, no opt.txt — and Cityscapes' own folder layout
// (gtFine/val/{city}/…, leftImg8bit/val/{city}/…). The network is the official architecture at a
// small size with random weights (test/cli/official-run.ts); the commands are those of the page
// with the architecture options scaled down.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { isRawTensor, PyDict, readPthFile, writePthFile, type RawTensor } from '../../src/torch/pth/index.js';
import { cli, cliAsync, ROOT, tempDir } from './helpers.js';
import { officialLocalGLayout, writeCityscapesLayout, writeOfficialCheckpoint, type CityscapesScene, type OfficialLocalG } from './official-run.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'pix2pixhd-reference');

/**
 * label2city_1024p's architecture, smaller: --ngf 4 (the page: 32) and, where the page relies on
 * the defaults 4, 9 and 3, these.
 */
const SMALL: OfficialLocalG = { input_nc: 35 + 1, output_nc: 3, ngf: 4, n_downsample_global: 2, n_blocks_global: 1, n_local_enhancers: 1, n_blocks_local: 1 };
const SMALLER = ['--n_downsample_global', '2', '--n_blocks_global', '1', '--n_blocks_local', '1'];

// 196×98: Cityscapes' 2:1, and not a multiple of G's 8, so the maps are padded and cropped back.
const W = 196;
const H = 98;
const SCENES: CityscapesScene[] = [
  { city: 'frankfurt', stem: 'frankfurt_000000_000294', width: W, height: H },
  { city: 'frankfurt', stem: 'frankfurt_000000_000576', width: W, height: H },
  { city: 'lindau', stem: 'lindau_000000_000019', width: W, height: H },
];

interface Pixels {
  width: number;
  height: number;
  channels: number;
  data: Buffer;
}

async function pixels(file: string | Buffer): Promise<Pixels> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, data };
}

function maxDiff(a: Pixels, b: Pixels): number {
  assert.equal(a.data.length, b.data.length, 'same size');
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

function stdDev(p: Pixels): number {
  let s = 0;
  let s2 = 0;
  for (const v of p.data) {
    s += v;
    s2 += v * v;
  }
  const n = p.data.length;
  return Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2));
}

test('the official local generator\'s key names, shapes and _metadata: ours match a state dict the official code wrote', () => {
  // local_G.pth: define_G(8, 3, 8, 'local', n_downsample_global=2, n_blocks_global=2, n_local_enhancers=1, n_blocks_local=1).
  const official = readPthFile(join(FIXTURES, 'local_G.pth')) as PyDict;
  const layout = officialLocalGLayout({ input_nc: 8, output_nc: 3, ngf: 8, n_downsample_global: 2, n_blocks_global: 2, n_local_enhancers: 1, n_blocks_local: 1 });
  assert.deepEqual([...official].map(([k, v]) => [k, (v as RawTensor).shape]), layout.params);
  const meta = official.attrs?.get('_metadata') as PyDict;
  assert.deepEqual([...meta].map(([k, v]) => [k, (v as PyDict).get('version')]), layout.modules);
});

test('label2city_1024p layout (legacy, no opt.txt) on Cityscapes\' folders: test, then serve', async (t) => {
  const root = tempDir(t, 'p2phd-label2city-');
  const checkpoints = join(root, 'checkpoints');
  const dataroot = join(root, 'datasets', 'cityscapes');
  const results = join(root, 'results');
  const runDir = join(checkpoints, 'label2city_1024p');
  writeOfficialCheckpoint(runDir, SMALL, { seed: 1 });
  assert.deepEqual(readdirSync(runDir), ['latest_net_G.pth'], 'the published folder holds only G');
  await writeCityscapesLayout(dataroot, 'val', SCENES, 10);

  // The page's test command.
  const testArgs = ['test', '--name', 'label2city_1024p', '--checkpoints_dir', checkpoints, '--dataroot', dataroot, '--phase', 'val',
    '--netG', 'local', '--ngf', '4', '--label_nc', '35', '--resize_or_crop', 'none', ...SMALLER, '--results_dir', results, '--threads', '1'];
  const tested = cli(testArgs);
  assert.equal(tested.status, 0, tested.stderr);
  assert.match(tested.stdout, /^3 results in /m);
  const out = join(results, 'label2city_1024p', 'val_latest');
  assert.ok(existsSync(join(out, 'index.html')), 'index.html');
  const synthesized: Pixels[] = [];
  for (const s of SCENES) {
    // Named after the label file, as the official test.py names them.
    const base = join(out, 'images', `${s.stem}_gtFine_labelIds`);
    for (const kind of ['input_label', 'synthesized_image', 'real_image']) assert.ok(existsSync(`${base}_${kind}.png`), `${base}_${kind}.png`);
    const p = await pixels(`${base}_synthesized_image.png`);
    assert.deepEqual([p.width, p.height], [W, H], 'the result has the label map\'s own size');
    assert.ok(stdDev(p) > 2, `${s.stem}: an image, not a flat colour (std ${stdDev(p).toFixed(2)})`);
    synthesized.push(p);
  }
  assert.ok(maxDiff(synthesized[0]!, synthesized[1]!) > 16, 'different label maps give different images');
  // Nothing was written into the checkpoint folder.
  assert.deepEqual(readdirSync(runDir), ['latest_net_G.pth']);

  // The same weights in the zip format give the same pixels; other weights give other pixels.
  const sd = readPthFile(join(runDir, 'latest_net_G.pth'), { wrapFloats: true });
  mkdirSync(join(checkpoints, 'as_zip'));
  writePthFile(join(checkpoints, 'as_zip', 'latest_net_G.pth'), sd);
  writeOfficialCheckpoint(join(checkpoints, 'other_weights'), SMALL, { seed: 2 });
  for (const [name, same] of [['as_zip', true], ['other_weights', false]] as const) {
    const r = cli(testArgs.map((a) => (a === 'label2city_1024p' ? name : a)));
    assert.equal(r.status, 0, r.stderr);
    const p = await pixels(join(results, name, 'val_latest', 'images', `${SCENES[0]!.stem}_gtFine_labelIds_synthesized_image.png`));
    if (same) assert.equal(maxDiff(p, synthesized[0]!), 0, 'legacy and zip checkpoints synthesise the same image');
    else assert.ok(maxDiff(p, synthesized[0]!) > 16, 'the weights are used');
  }

  // Without the architecture options the published folder cannot be loaded, and says so.
  const bare = cli(['test', '--name', 'label2city_1024p', '--checkpoints_dir', checkpoints, '--dataroot', dataroot, '--phase', 'val', '--results_dir', join(root, 'bare'), '--threads', '1']);
  assert.notEqual(bare.status, 0);
  assert.match(bare.stderr, /latest_net_G\.pth/);

  // The page's serve command, in the background on a free port.
  const serve = cliAsync(['serve', '--name', 'label2city_1024p', '--checkpoints_dir', checkpoints, '--dataroot', dataroot, '--phase', 'val',
    '--netG', 'local', '--ngf', '4', '--label_nc', '35', ...SMALLER, '--port', '0', '--threads', '1']);
  t.after(() => { if (serve.child.exitCode === null) serve.child.kill('SIGKILL'); });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start in 120 s:\n${seen}`)), 120_000);
    serve.child.stdout!.on('data', (d: string) => {
      seen += d;
      const m = /editor: (http:\/\/\S+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!.replace(/\/$/, ''));
      }
    });
    serve.done.then((r) => reject(new Error(`serve exited (${r.status}):\n${r.stderr}`)), reject);
  });

  const info = await (await fetch(`${url}/api/info`)).json() as {
    name: string; label_nc: number; netG: string; no_instance: boolean; styles: unknown; stylesNote: string;
    classes: Array<{ id: number; name: string; color: number[]; thing: boolean }>;
  };
  assert.equal(info.name, 'label2city_1024p');
  assert.equal(info.label_nc, 35);
  assert.equal(info.netG, 'local');
  assert.equal(info.no_instance, false);
  assert.equal(info.classes.length, 35);
  assert.deepEqual(info.classes[7], { id: 7, name: 'road', color: [128, 64, 128], thing: false });
  assert.deepEqual(info.classes[26], { id: 26, name: 'car', color: [0, 0, 142], thing: true });
  assert.equal(info.styles, null, 'label2city_1024p has no instance features: no styles');
  assert.match(info.stylesNote, /instance_feat/);

  const scenes = await (await fetch(`${url}/api/scenes`)).json() as { scenes: string[]; note: string };
  assert.deepEqual(scenes.scenes, SCENES.map((s) => s.stem));
  assert.match(scenes.note, /3 scenes from .*gtFine.val/);

  // One scene's maps, synthesised by the editor: the very image `test` wrote.
  const scene = await (await fetch(`${url}/api/scenes/${SCENES[0]!.stem}`)).json() as { width: number; height: number; label: string; inst: string };
  assert.deepEqual([scene.width, scene.height], [W, H]);
  const inst = new Uint16Array(Buffer.from(scene.inst, 'base64').buffer.slice(0));
  assert.ok(inst.some((v) => v >= 1000), 'the instance map keeps Cityscapes\' 16-bit object ids');
  const res = await fetch(`${url}/api/synthesize`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ width: scene.width, height: scene.height, label: scene.label, inst: scene.inst }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('content-type'), 'image/png');
  const edited = await pixels(Buffer.from(await res.arrayBuffer()));
  assert.deepEqual([edited.width, edited.height], [W, H]);
  assert.equal(maxDiff(edited, synthesized[0]!), 0, 'the editor synthesises exactly what test wrote');

  serve.child.kill('SIGTERM');
  const stopped = await serve.done;
  assert.equal(stopped.status, 0, stopped.stderr);
  assert.match(stopped.stdout, /stopping/);
});

test('the official network\'s own weights and output: test on a legacy checkpoint reproduces the official code\'s image', async (t) => {
  // local_G.pth and local_G_out.pth were written by the official code (label_nc 7 + edges = 8
  // inputs); the label and instance maps of inputs.pth become a Cityscapes-layout scene.
  const root = tempDir(t, 'p2phd-official-out-');
  const weights = readPthFile(join(FIXTURES, 'local_G.pth'), { wrapFloats: true });
  mkdirSync(join(root, 'checkpoints', 'official'), { recursive: true });
  writePthFile(join(root, 'checkpoints', 'official', 'latest_net_G.pth'), weights, { format: 'legacy' });
  const inputs = readPthFile(join(FIXTURES, 'inputs.pth')) as PyDict;
  const ids = (k: string): Int32Array => Int32Array.from((inputs.get(k) as RawTensor).data as BigInt64Array, Number);
  const [, , h, w] = (inputs.get('label') as RawTensor).shape as [number, number, number, number];
  const gt = join(root, 'cityscapes', 'gtFine', 'val', 'bremen');
  mkdirSync(gt, { recursive: true });
  await sharp(Uint8Array.from(ids('label')), { raw: { width: w, height: h, channels: 1 } }).toColourspace('b-w').png().toFile(join(gt, 'bremen_000000_000019_gtFine_labelIds.png'));
  await sharp(Uint16Array.from(ids('inst')), { raw: { width: w, height: h, channels: 1 } }).toColourspace('grey16').png().toFile(join(gt, 'bremen_000000_000019_gtFine_instanceIds.png'));

  const r = cli(['test', '--name', 'official', '--checkpoints_dir', join(root, 'checkpoints'), '--dataroot', join(root, 'cityscapes'), '--phase', 'val',
    '--netG', 'local', '--ngf', '8', '--label_nc', '7', '--n_downsample_global', '2', '--n_blocks_global', '2', '--n_blocks_local', '1',
    '--resize_or_crop', 'none', '--results_dir', join(root, 'results'), '--threads', '1']);
  assert.equal(r.status, 0, r.stderr);
  const ours = await pixels(join(root, 'results', 'official', 'val_latest', 'images', 'bremen_000000_000019_gtFine_labelIds_synthesized_image.png'));
  assert.deepEqual([ours.width, ours.height], [w, h]);

  const fake = (readPthFile(join(FIXTURES, 'local_G_out.pth')) as PyDict).get('fake_image');
  assert.ok(isRawTensor(fake));
  const f = fake.data as Float32Array;
  const n = w * h;
  let worst = 0;
  let exact = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      // The official tensor2im: (x + 1) / 2 * 255 in float32, then astype(uint8), i.e. rounded down.
      const v = Math.fround(Math.fround(Math.fround(f[c * n + i]! + 1) / 2) * 255);
      const expected = Math.min(255, Math.max(0, Math.floor(v)));
      const d = Math.abs(ours.data[i * ours.channels + c]! - expected);
      worst = Math.max(worst, d);
      if (d === 0) exact++;
    }
  }
  assert.ok(worst <= 1, `within one grey level of the official output (worst ${worst})`);
  assert.ok(exact / (3 * n) > 0.99, `${((100 * exact) / (3 * n)).toFixed(2)}% of the values exactly`);
});
