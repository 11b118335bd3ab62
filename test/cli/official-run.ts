// What a user of NVIDIA's published pix2pixHD models has on disk, made here without downloading
// anything: a checkpoint folder as the official code writes it (latest_net_G.pth, the local
// generator's state dict under the official key names, in PyTorch's legacy pre-1.6 format, no
// opt.txt) with random weights, and a data set in Cityscapes' own folder layout.
//
// The key names, shapes and `_metadata` are derived here from the official architecture
// (models/networks.py: GlobalGenerator, LocalEnhancer, ResnetBlock), independently of
// src/models; test/cli/official-checkpoint.test.ts checks them against local_G.pth, a state dict
// written by the official code (test/fixtures/pix2pixhd-reference).
//
// Used by test/cli/official-checkpoint.test.ts and bench/label2city.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { colorizeLabel, renderScene } from '../../src/data/index.js';
import { PyDict, writePthFile, type PthFormat, type RawTensor } from '../../src/torch/pth/index.js';
import { Rng } from '../../src/util/rng.js';

/** The options of the official `define_G(..., netG='local', ...)`. */
export interface OfficialLocalG {
  /** Input channels: label_nc, plus 1 for the instance edges (unless no_instance), plus feat_num. */
  input_nc: number;
  output_nc: number;
  ngf: number;
  n_downsample_global: number;
  n_blocks_global: number;
  n_local_enhancers: number;
  n_blocks_local: number;
}

/** label2city_1024p: `--netG local --ngf 32 --label_nc 35` with the official defaults for the rest. */
export const LABEL2CITY_1024P: OfficialLocalG = {
  input_nc: 35 + 1, output_nc: 3, ngf: 32, n_downsample_global: 4, n_blocks_global: 9, n_local_enhancers: 1, n_blocks_local: 3,
};

export interface StateDictLayout {
  /** Parameter names and shapes in state_dict order. */
  params: Array<[string, number[]]>;
  /** `_metadata`: every module's prefix in state_dict order and its class's version. */
  modules: Array<[string, number]>;
}

/**
 * The state dict of the official LocalEnhancer. Module versions: InstanceNorm2d 2, all others 1.
 * Instance norm has no affine parameters (the official `get_norm_layer('instance')`), so only the
 * convolutions carry weights and biases.
 */
export function officialLocalGLayout(a: OfficialLocalG): StateDictLayout {
  const params: Array<[string, number[]]> = [];
  const modules: Array<[string, number]> = [['', 1]];
  const conv = (prefix: string, cin: number, cout: number, k: number): void => {
    modules.push([prefix, 1]);
    params.push([`${prefix}.weight`, [cout, cin, k, k]], [`${prefix}.bias`, [cout]]);
  };
  const convT = (prefix: string, cin: number, cout: number): void => {
    modules.push([prefix, 1]);
    params.push([`${prefix}.weight`, [cin, cout, 3, 3]], [`${prefix}.bias`, [cout]]);
  };
  const plain = (prefix: string): void => void modules.push([prefix, 1]); // padding, ReLU, Tanh, pooling
  const norm = (prefix: string): void => void modules.push([prefix, 2]);
  // pad, conv 3×3, norm, ReLU, pad, conv 3×3, norm
  const resBlock = (prefix: string, dim: number): void => {
    modules.push([prefix, 1], [`${prefix}.conv_block`, 1]);
    const b = `${prefix}.conv_block`;
    plain(`${b}.0`); conv(`${b}.1`, dim, dim, 3); norm(`${b}.2`); plain(`${b}.3`);
    plain(`${b}.4`); conv(`${b}.5`, dim, dim, 3); norm(`${b}.6`);
  };

  // The global generator at ngf·2^n_local_enhancers, without its last padding, conv and tanh.
  const g = a.ngf * 2 ** a.n_local_enhancers;
  modules.push(['model', 1]);
  let i = 0;
  const next = (): string => `model.${i++}`;
  plain(next()); conv(next(), a.input_nc, g, 7); norm(next()); plain(next());
  for (let d = 0; d < a.n_downsample_global; d++) {
    conv(next(), g * 2 ** d, g * 2 ** (d + 1), 3); norm(next()); plain(next());
  }
  for (let b = 0; b < a.n_blocks_global; b++) resBlock(next(), g * 2 ** a.n_downsample_global);
  for (let u = 0; u < a.n_downsample_global; u++) {
    const m = 2 ** (a.n_downsample_global - u);
    convT(next(), g * m, (g * m) / 2); norm(next()); plain(next());
  }

  for (let n = 1; n <= a.n_local_enhancers; n++) {
    const f = a.ngf * 2 ** (a.n_local_enhancers - n);
    const down = `model${n}_1`;
    modules.push([down, 1]);
    plain(`${down}.0`); conv(`${down}.1`, a.input_nc, f, 7); norm(`${down}.2`); plain(`${down}.3`);
    conv(`${down}.4`, f, 2 * f, 3); norm(`${down}.5`); plain(`${down}.6`);
    const up = `model${n}_2`;
    modules.push([up, 1]);
    let j = 0;
    for (let b = 0; b < a.n_blocks_local; b++) resBlock(`${up}.${j++}`, 2 * f);
    convT(`${up}.${j++}`, 2 * f, f); norm(`${up}.${j++}`); plain(`${up}.${j++}`);
    if (n === a.n_local_enhancers) {
      plain(`${up}.${j++}`); conv(`${up}.${j++}`, a.ngf, a.output_nc, 7); plain(`${up}.${j++}`);
    }
  }
  plain('downsample');
  return { params, modules };
}

/** Number of parameters in a layout. */
export function parameterCount(layout: StateDictLayout): number {
  return layout.params.reduce((s, [, shape]) => s + shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * Random weights as the official `weights_init` draws them (conv weights N(0, 0.02)); biases
 * uniform in ±1/√fan_in as PyTorch's default. Seeded: same layout and seed, same tensors.
 */
export function randomStateDict(layout: StateDictLayout, seed: number): PyDict {
  const rng = new Rng(seed);
  const normal = (): number => {
    // Box–Muller on two uniforms in (0, 1].
    const u = 1 - rng.float();
    const v = rng.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const sd = PyDict.ordered();
  const fanIn = new Map<string, number>();
  for (const [key, shape] of layout.params) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const module = key.slice(0, key.lastIndexOf('.'));
    if (key.endsWith('.weight')) {
      for (let k = 0; k < n; k++) data[k] = 0.02 * normal();
      // Conv2d: [out, in, k, k]; ConvTranspose2d: [in, out, k, k] — PyTorch takes fan_in from dim 1 for both.
      fanIn.set(module, (shape[1] as number) * (shape[2] as number) * (shape[3] as number));
    } else {
      const bound = 1 / Math.sqrt(fanIn.get(module) ?? 1);
      for (let k = 0; k < n; k++) data[k] = rng.uniform(-bound, bound);
    }
    sd.set(key, { kind: 'tensor', dtype: 'float32', shape, data } satisfies RawTensor);
  }
  sd.attrs = new Map([['_metadata', PyDict.ordered(layout.modules.map(([prefix, version]) => [prefix, PyDict.fromObject({ version })]))]]);
  return sd;
}

/**
 * `DIR/latest_net_G.pth` as the published model folders hold it: the official local generator's
 * state dict with random weights, legacy format by default, and nothing else in the folder.
 */
export function writeOfficialCheckpoint(dir: string, arch: OfficialLocalG, options: { seed?: number; format?: PthFormat; which?: string } = {}): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${options.which ?? 'latest'}_net_G.pth`);
  writePthFile(file, randomStateDict(officialLocalGLayout(arch), options.seed ?? 0), { format: options.format ?? 'legacy' });
  return file;
}

export interface CityscapesScene {
  city: string;
  /** `{city}_{seq}_{frame}`, e.g. frankfurt_000000_000294. */
  stem: string;
  width: number;
  height: number;
}

/**
 * A data set in Cityscapes' own layout for one phase, as the Cityscapes download unpacks:
 *   ROOT/gtFine/{phase}/{city}/{stem}_gtFine_labelIds.png      8-bit grey, class ids
 *   ROOT/gtFine/{phase}/{city}/{stem}_gtFine_instanceIds.png   16-bit grey, class·1000+k for objects
 *   ROOT/gtFine/{phase}/{city}/{stem}_gtFine_color.png         the labels in Cityscapes' colours (not read)
 *   ROOT/gtFine/{phase}/{city}/{stem}_gtFine_polygons.json     polygons (not read)
 *   ROOT/leftImg8bit/{phase}/{city}/{stem}_leftImg8bit.png     the photo
 * The scenes are this project's synthetic streets (Cityscapes ids), one per seed.
 */
export async function writeCityscapesLayout(root: string, phase: string, scenes: CityscapesScene[], seed = 0): Promise<void> {
  let k = 0;
  for (const s of scenes) {
    const scene = renderScene(s.width, s.height, seed + k++);
    const gt = join(root, 'gtFine', phase, s.city);
    const photos = join(root, 'leftImg8bit', phase, s.city);
    mkdirSync(gt, { recursive: true });
    mkdirSync(photos, { recursive: true });
    const raw = (channels: 1 | 3) => ({ raw: { width: s.width, height: s.height, channels } });
    await sharp(scene.label, raw(1)).toColourspace('b-w').png().toFile(join(gt, `${s.stem}_gtFine_labelIds.png`));
    await sharp(scene.inst, raw(1)).toColourspace('grey16').png().toFile(join(gt, `${s.stem}_gtFine_instanceIds.png`));
    await sharp(colorizeLabel(scene.label, s.width, s.height), raw(3)).png().toFile(join(gt, `${s.stem}_gtFine_color.png`));
    writeFileSync(join(gt, `${s.stem}_gtFine_polygons.json`), JSON.stringify({ imgHeight: s.height, imgWidth: s.width, objects: [] }));
    await sharp(scene.rgb, raw(3)).png().toFile(join(photos, `${s.stem}_leftImg8bit.png`));
  }
}
