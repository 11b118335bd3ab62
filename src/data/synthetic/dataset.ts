// Writes synthetic street scenes as a data set in the official layout:
//
//   OUT/train_label/scene_00000.png   class ids (8-bit, Cityscapes ids: use label_nc 35)
//   OUT/train_inst/scene_00000.png    instance ids (16-bit: 26000 + k for cars, 24000 + k for people)
//   OUT/train_img/scene_00000.png     the photo
//   OUT/train_meta/scene_00000.json   which CAR_PALETTE entry each car got, and visible pixel counts
//   OUT/test_*                        nTest more scenes
//   OUT/synthetic.json                how the set was made
//
// Each scene's seed derives from (seed, phase, index): the same options give the same bytes.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { encodeIdPng, encodePng } from '../image-io.js';
import { deriveSeed } from '../../util/rng.js';
import { CAR_PALETTE, renderScene, SCENE_CLASSES, type SceneInstance } from './scene.js';

export interface SyntheticOptions {
  /** The folder to write (created; a previous synthetic set there is replaced). */
  out: string;
  /** Training scenes. */
  n: number;
  /** Test scenes (default max(1, round(n / 10))). */
  nTest?: number;
  width?: number;
  height?: number;
  seed?: number;
  /** Called after each scene is written. */
  onProgress?: (done: number, total: number) => void;
}

export interface SceneMeta {
  seed: number;
  width: number;
  height: number;
  /** Visible cars and people, by instance id. */
  instances: SceneInstance[];
}

export interface SyntheticSummary {
  out: string;
  train: number;
  test: number;
  width: number;
  height: number;
  seed: number;
  label_nc: number;
}

const MANIFEST = 'synthetic.json';
const FOLDERS = ['label', 'inst', 'img', 'meta'] as const;
const MAX_W = 2048;
const MAX_H = 1024;

export function sceneName(index: number): string {
  return `scene_${String(index).padStart(5, '0')}`;
}

/** Renders and writes the scenes; resolves when all files are on disk. */
export async function makeSyntheticDataset(options: SyntheticOptions): Promise<SyntheticSummary> {
  const width = options.width ?? 512;
  const height = options.height ?? 256;
  const seed = options.seed ?? 0;
  const n = options.n;
  const nTest = options.nTest ?? Math.max(1, Math.round(n / 10));
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be a positive integer; got ${n}`);
  if (!Number.isInteger(nTest) || nTest < 0) throw new Error(`nTest must be a non-negative integer; got ${nTest}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 16 || width > MAX_W || height > MAX_H) {
    throw new Error(`size must be between 16×16 and ${MAX_W}×${MAX_H}; got ${width}×${height}`);
  }
  const out = options.out;
  prepareFolder(out);

  const summary: SyntheticSummary = { out, train: n, test: nTest, width, height, seed, label_nc: 35 };
  const jobs: Array<{ phase: string; index: number }> = [];
  for (let i = 0; i < n; i++) jobs.push({ phase: 'train', index: i });
  for (let i = 0; i < nTest; i++) jobs.push({ phase: 'test', index: i });
  for (const phase of nTest > 0 ? ['train', 'test'] : ['train']) for (const f of FOLDERS) mkdirSync(path.join(out, `${phase}_${f}`), { recursive: true });

  // Rendering runs on this thread; PNG encoding and writing run on sharp's and libuv's threads,
  // so a few scenes are kept in flight while the next one renders.
  const inFlight = new Set<Promise<void>>();
  let done = 0;
  for (const job of jobs) {
    const sceneSeed = deriveSeed(seed, job.phase, job.index);
    const scene = renderScene(width, height, sceneSeed);
    const name = sceneName(job.index);
    const at = (folder: string, ext: string): string => path.join(out, `${job.phase}_${folder}`, name + ext);
    const meta: SceneMeta = { seed: sceneSeed, width, height, instances: scene.instances };
    const p = Promise.all([
      encodePng(scene.label, width, height, 1).then((b) => writeFile(at('label', '.png'), b)),
      encodeIdPng(scene.inst, width, height).then((b) => writeFile(at('inst', '.png'), b)),
      encodePng(scene.rgb, width, height, 3).then((b) => writeFile(at('img', '.png'), b)),
      writeFile(at('meta', '.json'), JSON.stringify(meta, null, 1) + '\n'),
    ]).then(() => {
      inFlight.delete(p);
      options.onProgress?.(++done, jobs.length);
    });
    inFlight.add(p);
    if (inFlight.size >= 4) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);

  writeFileSync(
    path.join(out, MANIFEST),
    JSON.stringify(
      {
        generator: 'pix2pixhd-ts synthetic streets',
        ...summary,
        out: undefined,
        classes: SCENE_CLASSES,
        car_palette: CAR_PALETTE,
        layout: 'official: {phase}_label (Cityscapes ids), {phase}_inst (class*1000+k for cars and people), {phase}_img, {phase}_meta',
      },
      null,
      1,
    ) + '\n',
  );
  return summary;
}

/** A folder we may write into: absent, empty, or a previous synthetic set (whose folders are cleared). */
function prepareFolder(out: string): void {
  if (!existsSync(out)) {
    mkdirSync(out, { recursive: true });
    return;
  }
  const names = readdirSync(out);
  if (names.length === 0) return;
  if (!names.includes(MANIFEST)) {
    throw new Error(`${out} is not empty and holds no ${MANIFEST}: refusing to write a synthetic data set over other files`);
  }
  for (const name of names) {
    if (name === MANIFEST || /^(train|test)_(label|inst|img|meta)$/.test(name)) rmSync(path.join(out, name), { recursive: true, force: true });
  }
}

/** The sidecar of one scene: which palette entry each car got, and visible pixel counts. */
export function readSyntheticMeta(dataroot: string, phase: string, name: string): SceneMeta {
  const file = path.join(dataroot, `${phase}_meta`, `${path.basename(name).replace(/\.[^.]+$/, '')}.json`);
  return JSON.parse(readFileSync(file, 'utf8')) as SceneMeta;
}

/** Instance id → CAR_PALETTE index for the cars of one scene. */
export function carPaletteIndices(meta: SceneMeta): Map<number, number> {
  const out = new Map<number, number>();
  for (const it of meta.instances) if (it.classId === SCENE_CLASSES.car && it.palette !== undefined) out.set(it.id, it.palette);
  return out;
}
