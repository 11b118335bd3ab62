// `pix2pixhd style-eval`: the evaluation of src/eval/style-eval.ts on a trained, clustered run. On
// the synthetic scenes every car's body colour is one of CAR_PALETTE's. For each cluster k of the
// car class, the held-out scenes are synthesised with every car set to cluster k (other objects
// drawn at random, the same draws for every k); the mean colour of the synthesised car pixels is
// matched to the nearest palette colour. The figure is how many distinct palette colours the
// clusters give (at most min(clusters, palette size)).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCENE_CLASSES } from '../../data/index.js';
import { evaluateStyles, formatStyleEval, type StyleEvalReport } from '../../eval/style-eval.js';
import { precisionFor } from '../../infer/synthesize.js';
import { usesFeatures } from '../../models/from-options.js';
import type { OptionDef } from '../../options/definitions.js';
import { helpText, OptionError } from '../../options/parse.js';
import { loadEncoder, loadGenerator, netPath, openStyleBank, synthesisData } from '../../run/index.js';
import { existsSync } from 'node:fs';
import { parseRunCommand } from '../run-command.js';
import { prepareRuntime } from '../engine-runtime.js';

const EXTRA: OptionDef[] = [
  { name: 'class_id', kind: 'int', default: SCENE_CLASSES.car, help: 'the class whose clusters are evaluated (default: car, 26)', groups: [] },
];
const DEFAULTS = { phase: 'test', resize_or_crop: 'none' };
export const STYLE_EVAL_USAGE = 'pix2pixhd style-eval --name RUN --dataroot SYNTHETIC_DIR [--phase test] [--cluster_path FILE]';
export const STYLE_EVAL_HELP = () => helpText(STYLE_EVAL_USAGE,
  'For a run trained with --instance_feat on the synthetic scenes (make-dataset synthetic) and clustered with\n' +
  'encode-features: for each car cluster k, synthesises the held-out scenes with every car set to cluster k and\n' +
  'reports the palette colour nearest to the mean colour of the synthesised cars (palette colours as their cars\n' +
  'look in the real photos of those scenes), and how many distinct palette colours the clusters recover.\n' +
  'Also writes style_eval.json to the run folder.',
  ['base', 'test'], EXTRA, DEFAULTS);

export type { StyleEvalReport };

export async function styleEvalCommand(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<StyleEvalReport> {
  const { config, values } = parseRunCommand(argv, EXTRA, DEFAULTS);
  prepareRuntime(config);
  const { network: o, dir, device } = config;
  const precision = precisionFor(config.synthesis.data_type, device);
  if (!usesFeatures(o)) throw new OptionError(`the run ${dir} was not trained with --instance_feat: it has no feature styles to evaluate`);
  const classId = Number(values.class_id);
  const { bank, path } = openStyleBank(config);
  const styles = bank.classStyles(classId);
  if (!styles) throw new OptionError(`${path} has no clusters for class ${classId} (classes with styles: ${bank.classes().map((c) => c.classId).join(', ') || 'none'}); lower encode-features' --min_area for small images`);
  const data = synthesisData(config);
  const G = loadGenerator(o, dir, config.which_epoch, device, { ema: config.synthesis.use_ema });
  let report: StyleEvalReport;
  try {
    const hasE = !o.load_features && existsSync(netPath(dir, config.which_epoch, 'E'));
    report = await evaluateStyles({
      G, network: o, data, howMany: config.synthesis.how_many, device, precision, seed: config.seed, bank, classId, styles,
      openEncoder: hasE ? () => loadEncoder(o, dir, config.which_epoch, device) : null,
    });
  } finally {
    G.dispose();
  }
  out.write(formatStyleEval(report, { run: `${config.name} (${config.which_epoch})`, clusters: path, className: styles.name, data }));
  writeFileSync(join(dir, 'style_eval.json'), JSON.stringify(report, null, 1) + '\n');
  return report;
}
