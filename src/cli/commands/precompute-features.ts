// `pix2pixhd precompute-features`: the official precompute_feature_maps.py. Writes E's feature
// map of every image of a phase as an RGB PNG into DATAROOT/{phase}_feat/ (the label file's name),
// so that a run at a higher resolution can train on them with --load_features --instance_feat
// (its G then takes these maps instead of training an encoder of its own).
import { precomputeFeatureMaps } from '../../features/encode.js';
import { usesFeatures } from '../../models/from-options.js';
import type { OptionDef } from '../../options/definitions.js';
import { helpText, OptionError } from '../../options/parse.js';
import { loadEncoder, synthesisData } from '../../run/index.js';
import { parseFeatureCommand } from '../run-command.js';
import { prepareRuntime } from '../engine-runtime.js';

const EXTRA: OptionDef[] = [];
export const PRECOMPUTE_FEATURES_USAGE = 'pix2pixhd precompute-features --name RUN [--dataroot DIR] [--phase train] [options]';
export const PRECOMPUTE_FEATURES_HELP = () => helpText(PRECOMPUTE_FEATURES_USAGE,
  'The official precompute_feature_maps.py: E (the run\'s {which_epoch}_net_E.pth, feat_num 3) over every image\n' +
  'of --phase, written as DATAROOT/{phase}_feat/NAME.png at the label file\'s own size: each object one colour,\n' +
  'floor((feature + 1) / 2 · 255). The official script encodes at the loaded size and doubles it; here the map\n' +
  'is resized to the file\'s size and averaged again per object. Train on the maps with --load_features.',
  ['base', 'features'], EXTRA);

export async function precomputeFeaturesCommand(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<{ dir: string; files: string[] }> {
  const { config } = parseFeatureCommand(argv, EXTRA);
  prepareRuntime(config);
  const { network: o, dir, device } = config;
  if (!usesFeatures(o)) throw new OptionError(`the run ${dir} was not trained with --instance_feat or --label_feat: it has no encoder`);
  const E = loadEncoder(o, dir, config.which_epoch, device);
  try {
    const result = await precomputeFeatureMaps(E, o, synthesisData(config), device, (done, total) => {
      if (done % 25 === 0 || done === total) out.write(`${done} / ${total} images\n`);
    });
    out.write(`${result.files.length} feature maps in ${result.dir}\n`);
    return result;
  } finally {
    E.dispose();
  }
}
