// `pix2pixhd eval`: on held-out scenes with known photos, the mean absolute error and the
// per-class mean-colour error of a trained run, next to the same network untrained.
import { CITYSCAPES_LABELS } from '../../data/index.js';
import { evaluateGenerator, untrainedGenerator, type EvaluationFigures } from '../../infer/evaluate.js';
import { loadGenerator } from '../../infer/load-generator.js';
import { helpText } from '../../options/parse.js';
import { runDir } from '../../options/run-folder.js';
import { applyRuntimeOptions, dataOptions, trainOptions } from '../run-options.js';
import { buildEncoder, usesFeatures } from '../../models/from-options.js';
import { openFeatureSource } from '../feature-source.js';
import { parseRunCommand } from './test.js';
import { precisionFor } from '../../infer/synthesize.js';

const explicitClusters = (argv: string[]) => argv.some((a) => /^--(cluster_path|styles)(=|$)/.test(a));

const DEFAULTS = { phase: 'test', resize_or_crop: 'none' };
export const EVAL_USAGE = 'pix2pixhd eval --name RUN --dataroot DIR [--phase test] [--how_many N]';
export const EVAL_HELP = () => helpText(EVAL_USAGE,
  'Synthesises a phase whose real photos are known (e.g. the synthetic scenes\' test set) and prints the\n' +
  'mean absolute error (0–255 per channel) and, per class, the RGB distance between the mean colours of\n' +
  'the synthesised and the real pixels — for the trained run and for the same network untrained.\n' +
  'Runs with instance features use E on the real photos (each object keeps its look), or with --cluster_path\n' +
  'the clusters of encode-features (objects drawn at random with --seed).',
  ['base', 'test'], [], DEFAULTS);

export interface EvalReport {
  trained: EvaluationFigures;
  untrained: EvaluationFigures;
}

const className = (id: number, labelNc: number) => (labelNc === 35 ? CITYSCAPES_LABELS.find((l) => l.id === id)?.name : undefined) ?? `class ${id}`;

export async function evalCommand(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<EvalReport> {
  const v = parseRunCommand(argv, [], DEFAULTS);
  const { device } = applyRuntimeOptions(v);
  const precision = precisionFor(Number(v.data_type), device);
  const o = trainOptions(v);
  const data = dataOptions(v, false);
  const howMany = Number(v.how_many);
  const G = loadGenerator(o, runDir(v), String(v.which_epoch), device);
  // Feature runs: the clusters with --cluster_path/--styles when given, else E on the real photos
  // (the untrained network then gets a fresh E, or the same clusters).
  const useClusters = usesFeatures(o) && (explicitClusters(argv) || o.load_features);
  const features = openFeatureSource({ ...v, use_encoded_image: usesFeatures(o) && !useClusters }, o, runDir(v), device);
  if (features.description) out.write(`${features.description}\n`);
  let trained: EvaluationFigures;
  try {
    trained = await evaluateGenerator(G, o, data, howMany, device, features.source, precision);
  } finally {
    G.dispose();
  }
  const G0 = untrainedGenerator(o, Number(v.seed), device);
  const E0 = features.source?.kind === 'encoder' ? buildEncoder(o, Number(v.seed))! : null;
  if (E0 && device !== 'cpu') E0.to(device);
  let untrained: EvaluationFigures;
  try {
    untrained = await evaluateGenerator(G0, o, data, howMany, device, E0 ? { kind: 'encoder', E: E0.eval() } : features.source, precision);
  } finally {
    G0.dispose();
    E0?.dispose();
    features.dispose();
  }

  const f = (x: number) => x.toFixed(1).padStart(9);
  out.write(`${trained.images} images of ${String(data.dataroot)} (${String(data.phase)}), run ${String(v.name)} (${String(v.which_epoch)})\n`);
  out.write(`${''.padEnd(34)}  trained  untrained\n`);
  out.write(`${'mean absolute error'.padEnd(34)}${f(trained.meanAbsoluteError)}${f(untrained.meanAbsoluteError)}\n`);
  out.write(`${'mean per-class colour error'.padEnd(34)}${f(trained.meanClassColourError)}${f(untrained.meanClassColourError)}\n`);
  for (const c of trained.classes) {
    const u = untrained.classes.find((x) => x.classId === c.classId);
    out.write(`  ${className(c.classId, o.label_nc).padEnd(32)}${f(c.error)}${f(u?.error ?? NaN)}\n`);
  }
  return { trained, untrained };
}
