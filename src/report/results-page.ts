// The results page of `pix2pixhd test`: results_dir/<name>/<phase>_<epoch>/index.html, one
// heading per input with its images (written by the caller, e.g. with savePng, under images/).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';
import { escapeHtml, imageRow, renderPage } from './html.js';

export interface ResultRow {
  /** The input's name (the official uses the file name without extension). */
  name: string;
  /** `file` is relative to `dir`, e.g. "images/frankfurt_000000_synthesized_image.png". */
  images: { label: string; file: string; width?: number; height?: number }[];
}

export interface ResultsPageOptions {
  /** Largest width an image is shown at (default 512). */
  displayWidth?: number;
  /** HTML shown above the images (e.g. the run's segmentation score). */
  summaryHtml?: string;
}

/** The page's HTML (pure). */
export function renderResultsPage(title: string, rows: readonly ResultRow[], opts: ResultsPageOptions = {}): string {
  const displayWidth = opts.displayWidth ?? 512;
  const body = rows
    .map((r) => `<h3>${escapeHtml(r.name)}</h3>\n` + imageRow(r.images.map((im) => ({ ...im, src: im.file })), displayWidth))
    .join('\n');
  return renderPage({ title, body: (opts.summaryHtml ?? '') + (body || '<p class="note">no results</p>') });
}

/** Writes <dir>/index.html atomically; returns its path. */
export async function resultsPage(dir: string, title: string, rows: readonly ResultRow[], opts: ResultsPageOptions = {}): Promise<string> {
  const html = renderResultsPage(title, rows, opts); // validates every file path before touching the disk
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'index.html');
  await writeFileAtomic(path, html);
  return path;
}
