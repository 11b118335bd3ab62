// `pix2pixhd eval`: on held-out scenes with known photos, the mean absolute error and the
// per-class mean-colour error of a trained run, next to the same network untrained.
import { className } from '../../data/labels.js';
import { evaluateGenerator, untrainedGenerator, type EvaluationFigures } from '../../eval/evaluate.js';
import { precisionFor } from '../../infer/synthesize.js';
import { buildEncoder, usesFeatures } from '../../models/from-options.js';
import { helpText } from '../../options/parse.js';
import { loadGenerator, openFeatureSource, synthesisData } from '../../run/index.js';
import { parseRunCommand } from '../run-command.js';
import { prepareRuntime } from '../engine-runtime.js';
import type { OptionDef } from '../../options/definitions.js';
import { openSegmenter } from '../../eval/segmentation/run-segmenter.js';
import { SegmentationScore, segmentationTable } from '../../eval/segmentation/score.js';
import { runDir } from '../../run/options-file.js';
import { SCORE_FILE, type RecordedScore } from '../../report/score-table.js';
import { writeFileAtomicSync } from '../../util/atomic-file.js';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { RgbImage } from '../../data/image-io.js';
import { activationStatistics, frechetDistance, inceptionFeatures } from '../../eval/fid/index.js';
import { defaultInceptionPath, FidInceptionV3 } from '../../models/inception-fid.js';
import type { RgbPicture } from '../../infer/synthesize-dataset.js';

const rgbImage = (p: RgbPicture): RgbImage => ({ data: p.rgb, width: p.width, height: p.height });

export const SEGMENTATION_OPTIONS: OptionDef[] = [
  { name: 'segmenter_weights', kind: 'string', default: '', help: 'drn-d-105_ms_cityscapes.pth: the segmentation score with DRN-D-105 (Cityscapes label maps); default: the run\'s compact segmenter, trained on the training photos when the run has none', groups: [] },
  { name: 'segmenter_epochs', kind: 'int', default: 12, help: 'epochs when the compact segmenter has to be trained', groups: [] },
  { name: 'inception_weights', kind: 'string', default: '', help: 'pytorch-fid\'s pt_inception-2015-12-05-6726825d.pth: also the FID of the synthesised images against the real photos (the torch hub cache is tried when not given)', groups: [] },
  { name: 'no_segmentation_score', kind: 'flag', default: false, help: 'skip the paper\'s segmentation score (pixel accuracy, mean IoU)', groups: [] },
];

const explicitClusters = (argv: string[]) => argv.some((a) => /^--(cluster_path|styles)(=|$)/.test(a));

const DEFAULTS = { phase: 'test', resize_or_crop: 'none' };
export const EVAL_USAGE = 'pix2pixhd eval --name RUN --dataroot DIR [--phase test] [--how_many N]';
export const EVAL_HELP = () => helpText(EVAL_USAGE,
  'Synthesises a phase whose real photos are known (e.g. the synthetic scenes\' test set) and prints the\n' +
  'mean absolute error (0–255 per channel) and, per class, the RGB distance between the mean colours of\n' +
  'the synthesised and the real pixels — for the trained run and for the same network untrained.\n' +
  'Runs with instance features use E on the real photos (each object keeps its look), or with --cluster_path\n' +
  'the clusters of encode-features (objects drawn at random with --seed).\n' +
  'Then the paper\'s segmentation score: a segmenter\'s pixel accuracy and mean IoU on the synthesised images\n' +
  '(trained and untrained) and on the real photos (the oracle), against the label maps.',
  ['base', 'test'], SEGMENTATION_OPTIONS, DEFAULTS);

export interface EvalReport {
  trained: EvaluationFigures;
  untrained: EvaluationFigures;
  /** The paper's table: one entry per column (pix2pixHD, untrained, oracle). */
  segmentation?: { column: string; pixelAccuracy: number; meanIou: number; pixels: number }[];
}

export async function evalCommand(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<EvalReport> {
  const { config: parsedConfig, values } = parseRunCommand(argv, SEGMENTATION_OPTIONS, DEFAULTS);
  const o = parsedConfig.network;
  // Feature runs: the clusters with --cluster_path/--styles when given, else E on the real photos
  // (the untrained network then gets a fresh E, or the same clusters).
  const useClusters = usesFeatures(o) && (explicitClusters(argv) || o.load_features);
  const config = { ...parsedConfig, synthesis: { ...parsedConfig.synthesis, use_encoded_image: usesFeatures(o) && !useClusters } };
  prepareRuntime(config);
  const { device, seed } = config;
  const precision = precisionFor(config.synthesis.data_type, device);
  const data = synthesisData(config);
  const howMany = config.synthesis.how_many;
  const G = loadGenerator(o, config.dir, config.which_epoch, device, { ema: config.synthesis.use_ema });
  const features = openFeatureSource(config);
  if (features.description) out.write(`${features.description}\n`);
  const scoring = !values.no_segmentation_score && o.label_nc > 0;
  const segmenter = scoring
    ? await openSegmenter({
      runDir: runDir(values), dataroot: String(config.data.dataroot), labelNc: o.label_nc, drnWeights: String(values.segmenter_weights) || undefined,
      epochs: Number(values.segmenter_epochs), seed, device, log: (line) => out.write(line), trainUpTo: 1000,
    })
    : null;
  const score = segmenter ? new SegmentationScore(segmenter) : null;
  // FID where the Inception weights are at hand: given, or in the torch hub cache.
  const inceptionPath = String(values.inception_weights) || (existsSync(defaultInceptionPath()) ? defaultInceptionPath() : '');
  const inception = inceptionPath ? FidInceptionV3.load(inceptionPath) : null;
  const pictures = { trained: [] as RgbImage[], untrained: [] as RgbImage[], real: [] as RgbImage[] };
  let trained: EvaluationFigures;
  try {
    trained = await evaluateGenerator(G, o, data, howMany, device, features.source, precision, (r) => {
      score?.add('pix2pixHD', r.synthesized, r.label!);
      score?.add('oracle', r.real!, r.label!);
      if (inception) { pictures.trained.push(rgbImage(r.synthesized)); pictures.real.push(rgbImage(r.real!)); }
    });
  } catch (e) {
    segmenter?.dispose();
    throw e;
  } finally {
    G.dispose();
  }
  const G0 = untrainedGenerator(o, seed, device);
  const E0 = features.source?.kind === 'encoder' ? buildEncoder(o, seed)! : null;
  if (E0 && device !== 'cpu') E0.to(device);
  let untrained: EvaluationFigures;
  try {
    untrained = await evaluateGenerator(G0, o, data, howMany, device, E0 ? { kind: 'encoder', E: E0.eval() } : features.source, precision,
      (r) => {
        score?.add('untrained', r.synthesized, r.label!);
        if (inception) pictures.untrained.push(rgbImage(r.synthesized));
      });
  } finally {
    segmenter?.dispose();
    G0.dispose();
    E0?.dispose();
    features.dispose();
  }

  const f = (x: number) => x.toFixed(1).padStart(9);
  out.write(`${trained.images} images of ${String(data.dataroot)} (${String(data.phase)}), run ${config.name} (${config.which_epoch})\n`);
  out.write(`${''.padEnd(34)}  trained  untrained\n`);
  out.write(`${'mean absolute error'.padEnd(34)}${f(trained.meanAbsoluteError)}${f(untrained.meanAbsoluteError)}\n`);
  out.write(`${'mean per-class colour error'.padEnd(34)}${f(trained.meanClassColourError)}${f(untrained.meanClassColourError)}\n`);
  if (inception) {
    try {
      if (pictures.real.length < 2) throw new Error('FID needs at least 2 images (raise --how_many)');
      const fid = async (fake: RgbImage[]) => {
        const [a, b] = [await inceptionFeatures(inception, fake, { device }), await inceptionFeatures(inception, pictures.real, { device })];
        try { return frechetDistance(activationStatistics(a), activationStatistics(b)); } finally { a.dispose(); b.dispose(); }
      };
      out.write(`${`FID (pytorch-fid, ${pictures.real.length} images)`.padEnd(34)}${f(await fid(pictures.trained))}${f(await fid(pictures.untrained))}\n`);
    } finally {
      inception.dispose();
    }
  }
  for (const c of trained.classes) {
    const u = untrained.classes.find((x) => x.classId === c.classId);
    out.write(`  ${className(c.classId, o.label_nc).padEnd(32)}${f(c.error)}${f(u?.error ?? NaN)}\n`);
  }
  if (!score) return { trained, untrained };
  const byColumn = new Map(score.figures().map((f) => [f.column, f]));
  const segmentation = ['pix2pixHD', 'untrained', 'oracle'].map((c) => byColumn.get(c)!);
  out.write(`\nsegmentation score (the paper's Table 1): ${score.segmenter.description}, ${trained.images} images\n`);
  out.write(segmentationTable(segmentation));
  const recorded: RecordedScore = {
    segmenter: score.segmenter.description, images: trained.images, dataroot: String(data.dataroot), phase: String(data.phase), which_epoch: config.which_epoch,
    figures: segmentation,
  };
  writeFileAtomicSync(join(config.dir, SCORE_FILE), `${JSON.stringify(recorded, null, 2)}\n`);
  return { trained, untrained, segmentation };
}
