// Which segmenter scores a run: DRN-D-105 when its weights are given (Cityscapes), otherwise the
// run's compact segmenter — loaded from the run folder, or trained on the data set's training
// photos first and kept there.
import { AlignedDataset } from '../../data/dataset.js';
import { DrnSegD105 } from '../../models/drn.js';
import { compactSegmenter, drnSegmenter, type Segmenter } from './segmenter.js';
import { loadSegmenter, saveSegmenter, SEGMENTER_DEFAULTS, segmenterPaths, trainSegmenter } from './train-segmenter.js';

export interface SegmenterChoice {
  runDir: string;
  dataroot: string;
  labelNc: number;
  /** drn-d-105_ms_cityscapes.pth: score with DRN-D-105 (label maps in Cityscapes ids). */
  drnWeights?: string;
  epochs?: number;
  /** Train a missing compact segmenter only on training sets up to this size (default: any); larger ones need train-segmenter. */
  trainUpTo?: number;
  seed?: number;
  device?: string;
  log?: (line: string) => void;
}

/** The segmenter, or null when the run has none and its training set is over `trainUpTo` (logged). */
export async function openSegmenter(c: SegmenterChoice): Promise<Segmenter | null> {
  const device = c.device ?? 'cpu';
  const log = c.log ?? (() => {});
  if (c.drnWeights) {
    const net = DrnSegD105.load(c.drnWeights);
    if (device !== 'cpu') net.to(device);
    return drnSegmenter(net, device);
  }
  const cached = loadSegmenter(c.runDir, c.labelNc);
  const describe = (images: number, epochs: number) => `compact segmenter trained on ${images} training photos of ${c.dataroot} (${epochs} epochs)`;
  if (cached) {
    log(`segmenter: ${segmenterPaths(c.runDir).weights} (${describe(cached.record.images, cached.record.epochs)})\n`);
    if (device !== 'cpu') cached.net.to(device);
    return compactSegmenter(cached.net, describe(cached.record.images, cached.record.epochs), device);
  }
  const trainingImages = AlignedDataset.open({ dataroot: c.dataroot, phase: 'train', label_nc: c.labelNc, no_instance: true }).size;
  if (c.trainUpTo !== undefined && trainingImages > c.trainUpTo) {
    log(`segmentation score skipped: the run has no segmenter, and training one on ${trainingImages} photos is a job of its own: ` +
      `run \`pix2pixhd train-segmenter\` first, or give DRN-D-105's weights with --segmenter_weights (Cityscapes)\n`);
    return null;
  }
  log(`segmenter: none in the run folder yet; training one on ${c.dataroot} (train phase, ${trainingImages} photos)\n`);
  const { net, record } = await trainSegmenter(
    { ...SEGMENTER_DEFAULTS, dataroot: c.dataroot, classes: c.labelNc, epochs: c.epochs ?? SEGMENTER_DEFAULTS.epochs, seed: c.seed ?? 0 }, device,
    (epoch, loss, acc) => log(`  segmenter epoch ${epoch}: cross-entropy ${loss.toFixed(4)}, training pixel accuracy ${(100 * acc).toFixed(1)}%\n`),
  );
  saveSegmenter(c.runDir, net, record);
  net.requiresGrad_(false);
  return compactSegmenter(net, describe(record.images, record.epochs), device);
}
