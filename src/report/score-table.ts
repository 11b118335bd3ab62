// The segmentation score as an HTML table for results pages: `eval` records it in the run folder
// (segmentation_score.json) and `test` shows the latest one above its images.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeHtml } from './html.js';

export interface RecordedScore {
  segmenter: string;
  images: number;
  dataroot: string;
  phase: string;
  which_epoch: string;
  figures: { column: string; pixelAccuracy: number; meanIou: number }[];
}

export const SCORE_FILE = 'segmentation_score.json';

export function readRecordedScore(runDir: string): RecordedScore | null {
  const file = join(runDir, SCORE_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf-8')) as RecordedScore) : null;
}

/** The paper's Table 1 layout: pixel accuracy (%) and mean IoU, one column per image source. */
export function scoreTableHtml(s: RecordedScore): string {
  const head = s.figures.map((f) => `<th>${escapeHtml(f.column)}</th>`).join('');
  const row = (name: string, cell: (f: RecordedScore['figures'][number]) => string) => `<tr><th>${name}</th>${s.figures.map((f) => `<td>${cell(f)}</td>`).join('')}</tr>`;
  return `<h3>Segmentation score</h3>\n<p class="note">${escapeHtml(s.segmenter)}; ${s.images} images of ${escapeHtml(s.dataroot)} (${escapeHtml(s.phase)}), checkpoint ${escapeHtml(s.which_epoch)}</p>\n` +
    `<table><tr><th></th>${head}</tr>\n${row('Pixel acc (%)', (f) => (100 * f.pixelAccuracy).toFixed(2))}\n${row('Mean IoU', (f) => f.meanIou.toFixed(4))}</table>\n`;
}
