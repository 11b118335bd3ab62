// A tiny trained-looking run for the editor's tests: a small synthetic data set (test scenes to
// open), a small generator saved as the run's checkpoint with its opt.json, and, for the style
// picker, a style table with distinct cluster centres for cars.
//
// The generator uses batch norm (evaluated with its running statistics) and weights drawn with a
// variance-keeping scale, so each output pixel depends only on the input within G's receptive
// field, and strongly: an edit changes the image near it and leaves far pixels bit-for-bit equal.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { makeSyntheticDataset } from '../../src/data/index.js';
import { buildGenerator, type NetworkOptions } from '../../src/models/from-options.js';
import { saveRunOptions } from '../../src/run/options-file.js';
import { startEditorServer, type EditorServer, type EditorServerOptions } from '../../src/server/app.js';
import type { FeatureClusters } from '../../src/features/cluster-file.js';
import { manualSeed, noGrad } from '../../src/torch/index.js';
import { saveCheckpoint } from '../../src/run/checkpoint.js';

export const WIDTH = 256;
export const HEIGHT = 128;
export const CAR = 26;

export interface TinyRun {
  root: string;
  checkpoints: string;
  name: string;
  runDir: string;
  dataroot: string;
  network: NetworkOptions;
  styles: FeatureClusters | null;
  cleanup: () => void;
}

export function tinyNetwork(instanceFeat: boolean): NetworkOptions {
  return {
    label_nc: 35, input_nc: 3, output_nc: 3, netG: 'global', ngf: 8, n_downsample_global: 2, n_blocks_global: 1,
    n_blocks_local: 1, n_local_enhancers: 1, norm: 'batch', no_instance: false, instance_feat: instanceFeat, label_feat: false,
    feat_num: 3, nef: 8, n_downsample_E: 2, load_features: false,
  };
}

/** Cars get three styles far apart in feature space, with their swatch colours (as encode-features writes them). */
export function carStyles(): FeatureClusters {
  return {
    feat_num: 3, label_nc: 35, n_clusters: 3, grouping: 'instance', min_area: 0.5, seed: 0,
    classes: new Map([[CAR, {
      centers: [[-2, -2, -2], [2, 2, 2], [2, -2, 0]],
      counts: [4, 3, 2],
      swatches: [[190, 30, 35], [35, 70, 175], [228, 228, 224]],
    }]]),
  };
}

export async function makeTinyRun(opts: { instanceFeat?: boolean; scenes?: boolean } = {}): Promise<TinyRun> {
  const root = mkdtempSync(join(tmpdir(), 'pix2pixhd-serve-'));
  const checkpoints = join(root, 'checkpoints');
  const name = 'tiny';
  const runDir = join(checkpoints, name);
  const dataroot = join(root, 'data');
  if (opts.scenes !== false) await makeSyntheticDataset({ out: dataroot, n: 1, nTest: 2, width: WIDTH, height: HEIGHT, seed: 3 });
  const network = tinyNetwork(opts.instanceFeat ?? false);
  const G = buildGenerator(network, 1);
  manualSeed(7);
  noGrad(() => {
    for (const [key, p] of G.namedParameters()) {
      if (p.ndim === 4 && key.endsWith('weight')) {
        const fanIn = p.shape.slice(1).reduce((a, b) => a * b, 1);
        p.normal_(0, Math.sqrt(3 / fanIn));
      }
    }
  });
  mkdirSync(runDir, { recursive: true });
  saveCheckpoint(runDir, 'latest', { G });
  G.dispose();
  saveRunOptions(runDir, { ...network, name, checkpoints_dir: checkpoints, dataroot } as Record<string, number | string | boolean>);
  return {
    root, checkpoints, name, runDir, dataroot, network, styles: opts.instanceFeat ? carStyles() : null,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export async function startTinyServer(run: TinyRun, extra: Partial<EditorServerOptions> = {}): Promise<EditorServer> {
  return startEditorServer({
    runDir: run.runDir, name: run.name, which: 'latest', network: run.network, dataroot: run.dataroot, phase: 'test',
    styles: run.styles, threads: 1, pool: { workers: 1, queue: 4 }, port: 0, ...extra,
  });
}

export function encodeIds(ids: ArrayLike<number>): string {
  const u16 = Uint16Array.from(ids);
  return Buffer.from(u16.buffer).toString('base64');
}

export function decodeIds(b64: string): Uint16Array {
  const b = Buffer.from(b64, 'base64');
  const out = new Uint16Array(b.length / 2);
  Buffer.from(out.buffer).set(b);
  return out;
}

/** RGB bytes of a PNG. */
export async function pngPixels(png: Buffer | Uint8Array): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** A scene's maps from the server. */
export async function fetchScene(base: string, name?: string): Promise<{ name: string; width: number; height: number; label: Uint16Array; inst: Uint16Array }> {
  const scenes = (await (await fetch(new URL('api/scenes', base))).json()) as { scenes: string[] };
  const n = name ?? scenes.scenes[0]!;
  const s = (await (await fetch(new URL(`api/scenes/${n}`, base))).json()) as { width: number; height: number; label: string; inst: string };
  return { name: n, width: s.width, height: s.height, label: decodeIds(s.label), inst: decodeIds(s.inst) };
}

export async function synthesizeRequest(base: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(new URL('api/synthesize', base), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}
