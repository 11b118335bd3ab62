// The training page: <runDir>/web/index.html with the loss curves and the sample images (newest
// first) under web/images/. Pages accumulate: the samples already on the page are remembered in
// web/samples.json, so each call needs only the new samples' pixels.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { renderLossChart, type ChartOptions } from './chart.js';
import { escapeHtml, imageRow, renderPage } from '../../report/html.js';
import type { LossRecord } from './loss-log.js';
import { checkRgb, savePng } from '../../report/png.js';

export interface SampleImage {
  /** e.g. input_label (colourised by the caller), synthesized_image, real_image. */
  label: string;
  rgb: Uint8Array;
  width: number;
  height: number;
}

export interface Sample {
  epoch: number;
  /** total_steps when the sample was taken. */
  step: number;
  images: SampleImage[];
}

export interface TrainingPageInput {
  title: string;
  /** New samples (pixels). Earlier ones stay on the page; one with the same epoch and step is replaced. */
  samples: readonly Sample[];
  /** Loss records, e.g. readLossLog(<runDir>/loss_log.jsonl). */
  losses: readonly LossRecord[];
  /** Scores logged during training (--eval_freq), charted like the losses; none: no chart. */
  scores?: readonly LossRecord[];
  /** Forget the samples of earlier calls (default false). */
  fresh?: boolean;
  /** Auto-reload period in seconds (default 30, as the official page; 0: none). */
  refreshSeconds?: number;
  /** Largest width an image is shown at, in CSS pixels (default 512, the official display_winsize). */
  displayWidth?: number;
  chart?: ChartOptions;
}

/** What web/samples.json remembers of a sample. */
export interface SampleEntry {
  epoch: number;
  step: number;
  images: { label: string; file: string; width: number; height: number }[];
}

export const SAMPLES_MANIFEST = 'samples.json';

/** A label reduced to characters safe in a file name. */
export function fileSlug(label: string): string {
  const s = label.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 60);
  return s || 'image';
}

/** images/ file name of image `index` of a sample: epoch003_step0012000_1_synthesized_image.png. */
export function sampleFileName(epoch: number, step: number, index: number, label: string): string {
  return `epoch${String(epoch).padStart(3, '0')}_step${String(step).padStart(7, '0')}_${index}_${fileSlug(label)}.png`;
}

async function readManifest(path: string): Promise<SampleEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter(
      (e): e is SampleEntry =>
        typeof e === 'object' && e !== null && typeof e.epoch === 'number' && typeof e.step === 'number' &&
        Array.isArray(e.images) &&
        e.images.every((im: unknown) => {
          const o = im as Record<string, unknown>;
          return typeof o === 'object' && o !== null && typeof o.label === 'string' && typeof o.file === 'string' &&
            typeof o.width === 'number' && typeof o.height === 'number';
        }),
    );
  } catch {
    return [];
  }
}

/** Newest first: by step, then by epoch, both descending. */
function newestFirst(a: SampleEntry, b: SampleEntry): number {
  return b.step - a.step || b.epoch - a.epoch;
}

export interface TrainingPageResult {
  indexPath: string;
  /** The PNG files written by this call. */
  written: string[];
  /** Every sample on the page, newest first. */
  samples: SampleEntry[];
}

/**
 * Writes (or updates) <runDir>/web/index.html. Every image is checked before anything is
 * written; each PNG, the manifest and the page are written to temporary names and renamed, the
 * page last, so a reader sees either the old page or the new one with all its images.
 */
export async function writeTrainingPage(runDir: string, input: TrainingPageInput): Promise<TrainingPageResult> {
  input.samples.forEach((s, i) => {
    if (!Number.isFinite(s.epoch) || !Number.isFinite(s.step)) throw new RangeError(`sample ${i}: epoch and step must be numbers`);
    s.images.forEach((im, j) => checkRgb(im.rgb, im.width, im.height, `sample ${i} image ${j} (${im.label})`));
  });
  const webDir = join(runDir, 'web');
  const imgDir = join(webDir, 'images');
  await mkdir(imgDir, { recursive: true });
  const manifestPath = join(webDir, SAMPLES_MANIFEST);
  const earlier = input.fresh ? [] : await readManifest(manifestPath);

  const written: string[] = [];
  const fresh: SampleEntry[] = [];
  for (const s of input.samples) {
    const images: SampleEntry['images'] = [];
    for (const [j, im] of s.images.entries()) {
      const name = sampleFileName(s.epoch, s.step, j, im.label);
      const path = join(imgDir, name);
      await savePng(path, im.rgb, im.width, im.height);
      written.push(path);
      images.push({ label: im.label, file: `images/${name}`, width: im.width, height: im.height });
    }
    fresh.push({ epoch: s.epoch, step: s.step, images });
  }
  const key = (e: SampleEntry) => `${e.epoch}:${e.step}`;
  const byKey = new Map<string, SampleEntry>();
  for (const e of earlier) byKey.set(key(e), e);
  for (const e of fresh) byKey.set(key(e), e);
  const samples = [...byKey.values()].sort(newestFirst);

  await writeFileAtomic(manifestPath, JSON.stringify(samples, null, 1) + '\n');
  const indexPath = join(webDir, 'index.html');
  await writeFileAtomic(indexPath, renderTrainingPage(input.title, samples, input.losses, input));
  return { indexPath, written, samples };
}

/** The page's HTML (pure). */
export function renderTrainingPage(
  title: string,
  samples: readonly SampleEntry[],
  losses: readonly LossRecord[],
  opts: Pick<TrainingPageInput, 'refreshSeconds' | 'displayWidth' | 'chart' | 'scores'> = {},
): string {
  const displayWidth = opts.displayWidth ?? 512;
  const parts: string[] = [];
  parts.push('<h2>Losses</h2>');
  parts.push(renderLossChart(losses, opts.chart));
  const last = losses[losses.length - 1];
  if (last) {
    parts.push(
      `<p class="note">last report: epoch ${escapeHtml(String(last.epoch))}, iters ${escapeHtml(String(last.iter))}, ` +
        `total steps ${escapeHtml(String(last.total_steps))}, lr ${escapeHtml(String(last.lr))}</p>`,
    );
  }
  if (opts.scores?.length) {
    parts.push('<h2>Segmentation score on held-out images (--eval_freq)</h2>');
    parts.push(renderLossChart(opts.scores, opts.chart));
  }
  parts.push('<h2>Samples (newest first)</h2>');
  if (samples.length === 0) parts.push('<p class="note">no samples yet</p>');
  for (const s of samples) {
    parts.push(`<h3>epoch [${escapeHtml(String(s.epoch))}], step ${escapeHtml(String(s.step))}</h3>`);
    parts.push(imageRow(s.images.map((im) => ({ label: im.label, src: im.file, width: im.width, height: im.height })), displayWidth));
  }
  return renderPage({ title, body: parts.join('\n'), refreshSeconds: opts.refreshSeconds ?? 30 });
}
