// --eval_freq: the segmentation score of the generator being trained, on a held-out phase, every N
// epochs (as OASIS tracks FID while training). Each score is appended to RUN/eval_log.jsonl; the
// caller keeps the best generator (by mean IoU) as the 'best' checkpoint beside 'latest'.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataOptions } from '../data/index.js';
import type { Generator, NetworkOptions } from '../models/from-options.js';
import { evaluateGenerator } from './evaluate.js';
import { openSegmenter } from './segmentation/run-segmenter.js';
import { SegmentationScore } from './segmentation/score.js';
import type { Segmenter } from './segmentation/segmenter.js';

export interface TrainingScore {
  epoch: number;
  /** Iterations (images) trained so far: the x of the training page's charts. */
  total_steps: number;
  images: number;
  pixelAccuracy: number;
  meanIou: number;
  /** The highest mean IoU so far. */
  best: boolean;
}

export class TrainingEvaluator {
  #segmenter: Segmenter | null = null;
  #bestIou = -Infinity;

  constructor(
    readonly runDir: string, readonly network: NetworkOptions, readonly data: Partial<DataOptions>, readonly howMany: number,
    readonly opts: { device?: string; seed?: number; segmenterEpochs?: number; log?: (line: string) => void } = {},
  ) {
    if (network.label_nc < 1) throw new Error('--eval_freq scores label maps: it needs label_nc > 0');
    if (network.instance_feat || network.label_feat) throw new Error('--eval_freq does not support runs with instance features yet');
  }

  /** Scores G (put in eval mode by the caller) and logs the figures. */
  async evaluate(G: Generator, epoch: number, totalSteps: number): Promise<TrainingScore> {
    // Always a segmenter here (trained on any training set): --eval_freq asked for the score.
    this.#segmenter ??= (await openSegmenter({
      runDir: this.runDir, dataroot: String(this.data.dataroot), labelNc: this.network.label_nc, epochs: this.opts.segmenterEpochs,
      seed: this.opts.seed, device: this.opts.device, log: this.opts.log,
    }))!;
    const score = new SegmentationScore(this.#segmenter);
    const figures = await evaluateGenerator(G, this.network, this.data, this.howMany, this.opts.device ?? 'cpu', null, {},
      (r) => score.add('pix2pixHD', r.synthesized, r.label!));
    const [f] = score.figures();
    const best = f!.meanIou > this.#bestIou;
    if (best) this.#bestIou = f!.meanIou;
    const result = { epoch, total_steps: totalSteps, images: figures.images, pixelAccuracy: f!.pixelAccuracy, meanIou: f!.meanIou, best };
    appendFileSync(join(this.runDir, 'eval_log.jsonl'), `${JSON.stringify(result)}\n`);
    return result;
  }

  dispose(): void {
    this.#segmenter?.dispose();
  }
}

/** The scores of RUN/eval_log.jsonl as chart records (pixel accuracy and mean IoU against total_steps). */
export function readTrainingScores(runDir: string): { epoch: number; iter: number; total_steps: number; time: number; lr: number; losses: Record<string, number> }[] {
  const file = join(runDir, 'eval_log.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf-8').split('\n').filter((l) => l.trim()).map((l) => {
    const s = JSON.parse(l) as TrainingScore;
    return { epoch: s.epoch, iter: 0, total_steps: s.total_steps, time: 0, lr: 0, losses: { pixel_accuracy: s.pixelAccuracy, mean_IoU: s.meanIou } };
  });
}
