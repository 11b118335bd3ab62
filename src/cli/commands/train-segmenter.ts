// `pix2pixhd train-segmenter`: trains the compact segmenter that scores a run on data without a
// published segmenter (the synthetic scenes), on the data set's training photos, and keeps it in
// the run folder for `eval`. eval trains one itself when the run has none; this retrains.
import type { OptionDef } from '../../options/definitions.js';
import { helpText } from '../../options/parse.js';
import { saveSegmenter, SEGMENTER_DEFAULTS, segmenterPaths, trainSegmenter, type SegmenterRecord } from '../../eval/segmentation/train-segmenter.js';
import { runDir } from '../../run/index.js';
import { parseRunCommand } from '../run-command.js';
import { prepareRuntime } from '../engine-runtime.js';

const EXTRA: OptionDef[] = [
  { name: 'segmenter_epochs', kind: 'int', default: SEGMENTER_DEFAULTS.epochs, help: 'training epochs over the training photos', groups: [] },
  { name: 'segmenter_width', kind: 'int', default: SEGMENTER_DEFAULTS.width, help: 'channels at quarter resolution (a multiple of 4)', groups: [] },
];
export const TRAIN_SEGMENTER_USAGE = 'pix2pixhd train-segmenter --name RUN --dataroot DIR [--segmenter_epochs 12]';
export const TRAIN_SEGMENTER_HELP = () => helpText(TRAIN_SEGMENTER_USAGE,
  'Trains a compact segmentation network on the training photos and label maps of --dataroot and saves it as\n' +
  'RUN/segmenter/compact_segmenter.pth (+ .json). `eval` scores synthesised images with it (the paper\'s\n' +
  'segmentation score) on data sets without a published segmenter, such as the synthetic scenes.',
  ['base'], EXTRA, { phase: 'train' });

export async function trainSegmenterCommand(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<SegmenterRecord> {
  const { config, values } = parseRunCommand(argv, EXTRA, {});
  prepareRuntime(config);
  const labelNc = config.network.label_nc;
  if (labelNc < 1) throw new Error('train-segmenter needs label maps (label_nc > 0)');
  const width = Number(values.segmenter_width);
  if (width < 4 || width % 4 !== 0) throw new Error(`--segmenter_width must be a positive multiple of 4, got ${width}`);
  const { net, record } = await trainSegmenter(
    { ...SEGMENTER_DEFAULTS, dataroot: String(config.data.dataroot), classes: labelNc, width, epochs: Number(values.segmenter_epochs), seed: config.seed },
    config.device,
    (epoch, loss, acc) => out.write(`epoch ${epoch}: cross-entropy ${loss.toFixed(4)}, training pixel accuracy ${(100 * acc).toFixed(1)}%\n`),
  );
  try {
    const dir = runDir(values);
    saveSegmenter(dir, net, record);
    out.write(`saved the segmenter (${record.images} photos, ${record.epochs} epochs) to ${segmenterPaths(dir).weights}\n`);
  } finally {
    net.dispose();
  }
  return record;
}
