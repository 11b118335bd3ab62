// Trains the compact segmenter on a data set's training photos and their label maps (cross-entropy,
// Adam), and keeps it in the run folder (segmenter/compact_segmenter.pth + .json) so `eval` and
// the demo reuse it: the same fixed network scores the trained, the untrained and the real photos.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openData } from '../../data/index.js';
import { CompactSegmenter } from '../../models/compact-segmenter.js';
import { Adam, callOp, dispose, loadTensorDict, manualSeed, noGrad, saveTensorDict, tensor, tidy, type Tensor } from '../../torch/index.js';
import { writeFileAtomicSync } from '../../util/atomic-file.js';

export interface SegmenterTraining {
  dataroot: string;
  phase: string;
  classes: number;
  width: number;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** Use at most this many images. */
  maxImages: number;
}

export const SEGMENTER_DEFAULTS: Omit<SegmenterTraining, 'dataroot' | 'classes'> = {
  phase: 'train', width: 64, epochs: 12, batchSize: 4, lr: 0.002, seed: 0, maxImages: Number.POSITIVE_INFINITY,
};

export interface SegmenterRecord extends SegmenterTraining {
  images: number;
  /** Mean cross-entropy of the last epoch. */
  finalLoss: number;
  /** Pixel accuracy on the training batches of the last epoch (while training). */
  finalTrainAccuracy: number;
}

export function segmenterPaths(runDir: string): { weights: string; record: string } {
  const dir = join(runDir, 'segmenter');
  return { weights: join(dir, 'compact_segmenter.pth'), record: join(dir, 'compact_segmenter.json') };
}

export async function trainSegmenter(
  t: SegmenterTraining, device = 'cpu', onEpoch?: (epoch: number, loss: number, accuracy: number) => void,
): Promise<{ net: CompactSegmenter; record: SegmenterRecord }> {
  manualSeed(t.seed);
  const net = new CompactSegmenter({ classes: t.classes, width: t.width });
  if (device !== 'cpu') net.to(device);
  const optimizer = new Adam(net.parameters(), { lr: t.lr });
  const { dataset, loader, close } = openData({
    dataroot: t.dataroot, phase: t.phase, label_nc: t.classes, resize_or_crop: 'none', isTrain: true, batchSize: t.batchSize,
    no_instance: true, seed: t.seed, max_dataset_size: t.maxImages, n_downsample_global: 2, netG: 'global', nThreads: 1,
  });
  let loss = NaN;
  let accuracy = NaN;
  try {
    for (let epoch = 1; epoch <= t.epochs; epoch++) {
      let lossSum = 0;
      let batches = 0;
      let correct = 0;
      let pixels = 0;
      for await (const b of loader.epoch(epoch)) {
        if (!b.image) throw new Error(`${t.dataroot}: training the segmenter needs the photos of phase ${t.phase}`);
        const stats = tidy(() => {
          let x = tensor(b.image!, [b.size, 3, b.height, b.width]);
          let y = tensor(Int32Array.from(b.label as Int32Array), [b.size, b.height, b.width]).to('int64');
          if (device !== 'cpu') { x = x.to(device); y = y.to(device); }
          optimizer.zeroGrad(true);
          const scores = net.forward(x);
          const l = callOp('cross_entropy_loss', [scores, y, null, 1, 255, 0]) as Tensor;
          l.backward();
          optimizer.step();
          const hits = noGrad(() => (callOp('argmax', [scores, 1, false]) as Tensor).eq(y).sum().item());
          return { loss: l.item(), hits, n: y.numel };
        });
        lossSum += stats.loss;
        batches++;
        correct += stats.hits;
        pixels += stats.n;
      }
      loss = lossSum / batches;
      accuracy = correct / pixels;
      onEpoch?.(epoch, loss, accuracy);
    }
  } catch (e) {
    net.dispose();
    throw e;
  } finally {
    optimizer.dispose();
    await close();
  }
  return { net: net.eval(), record: { ...t, images: dataset.size, finalLoss: loss, finalTrainAccuracy: accuracy } };
}

export function saveSegmenter(runDir: string, net: CompactSegmenter, record: SegmenterRecord): void {
  const paths = segmenterPaths(runDir);
  mkdirSync(join(runDir, 'segmenter'), { recursive: true });
  saveTensorDict(paths.weights, net.stateDict());
  writeFileAtomicSync(paths.record, `${JSON.stringify(record, (_k, v: unknown) => (v === Number.POSITIVE_INFINITY ? 'inf' : v), 2)}\n`);
}

/** The run's trained segmenter, or null when it has none (or one for another number of classes). */
export function loadSegmenter(runDir: string, classes: number): { net: CompactSegmenter; record: SegmenterRecord } | null {
  const paths = segmenterPaths(runDir);
  if (!existsSync(paths.weights) || !existsSync(paths.record)) return null;
  const record = JSON.parse(readFileSync(paths.record, 'utf-8')) as SegmenterRecord;
  if (record.classes !== classes) return null;
  const net = new CompactSegmenter({ classes: record.classes, width: record.width });
  const values = loadTensorDict(paths.weights);
  try {
    net.loadStateDict(values, { source: paths.weights });
  } catch (e) {
    net.dispose();
    throw e;
  } finally {
    dispose(values);
  }
  return { net: net.eval().requiresGrad_(false), record };
}
