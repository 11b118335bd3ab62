// One data set item, loaded and transformed: the label map (class ids, or an RGB input image when
// label_nc is 0), instance map, photo and feature map, all cropped and flipped alike.
import { DataError } from './errors.js';
import { readIdMap, readImageSize, readRgb, type Size } from './image-io.js';
import { findDataset, type DatasetEntry } from './layout.js';
import { resizeBicubic } from './resample.js';
import { resolveDataOptions, type DataOptions } from './options.js';
import { Rng } from '../util/rng.js';
import { applyPlan, drawParams, planTransform, rgbToNormalizedChw, type TransformPlan } from './transforms.js';
import { describeLabelIds, labelIdsOutside } from './labels.js';

export interface DataItem {
  index: number;
  /** label_nc > 0: Int32Array [H, W] of class ids; label_nc 0: Float32Array [3, H, W] in [-1, 1]. */
  label: Int32Array | Float32Array;
  /** Int32Array [H, W] of instance ids as stored in the file (Cityscapes: class·1000 + k); null with no_instance. */
  inst: Int32Array | null;
  /** Float32Array [3, H, W] in [-1, 1]; null when not loaded (test phase without photos). */
  image: Float32Array | null;
  /** Float32Array [3, H, W] in [-1, 1] (load_features); else null. */
  feat: Float32Array | null;
  /** The label map's file. */
  path: string;
  imagePath: string | null;
  /** Size after the transforms. */
  width: number;
  height: number;
  /** Size of the files on disk (results are sized back to this). */
  sourceWidth: number;
  sourceHeight: number;
  plan: TransformPlan;
}

/** The official "aligned" data set: label maps paired with instance maps, photos and features. */
export class AlignedDataset {
  readonly options: DataOptions;
  readonly layout: 'official' | 'cityscapes';
  readonly entries: readonly DatasetEntry[];

  private constructor(options: DataOptions, layout: 'official' | 'cityscapes', entries: readonly DatasetEntry[]) {
    this.options = options;
    this.layout = layout;
    this.entries = entries;
  }

  /** A data set over files already found (a worker thread gets them from the main thread). */
  static fromEntries(options: DataOptions, layout: 'official' | 'cityscapes', entries: readonly DatasetEntry[]): AlignedDataset {
    return new AlignedDataset(options, layout, entries);
  }

  /** Finds and pairs the files (no pixels are read yet). Throws DataError naming what is missing. */
  static open(options: Partial<DataOptions>): AlignedDataset {
    const opt = resolveDataOptions(options);
    const found = findDataset(opt);
    return new AlignedDataset(opt, found.layout, found.entries);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Loads item `index` with crop offsets and flip drawn from `rng` (or a generator seeded with it). */
  async load(index: number, rng: Rng | number): Promise<DataItem> {
    const opt = this.options;
    if (typeof rng === 'number') rng = new Rng(rng);
    const entry = this.entries[index];
    if (!entry) throw new RangeError(`item ${index} is outside the data set (0..${this.entries.length - 1})`);
    const rgbInput = opt.label_nc === 0;

    const [labelIds, labelSize, inst, imageSize, featSize] = await Promise.all([
      rgbInput ? null : readIdMap(entry.label, 'label map'),
      rgbInput ? readImageSize(entry.label) : null,
      entry.inst ? readIdMap(entry.inst, 'instance map') : null,
      entry.image ? readImageSize(entry.image) : null,
      entry.feat ? readImageSize(entry.feat) : null,
    ]);
    const source: Size = labelIds ? { width: labelIds.width, height: labelIds.height } : (labelSize as Size);
    if (inst) sameSize(entry.label, source, entry.inst as string, inst, 'instance map');
    if (imageSize) sameSize(entry.label, source, entry.image as string, imageSize, 'photo');
    if (featSize) sameSize(entry.label, source, entry.feat as string, featSize, 'feature map');
    if (labelIds) checkLabelIds(labelIds.data, opt.label_nc, entry.label);

    let plan: TransformPlan;
    try {
      plan = planTransform(opt, source, drawParams(opt, source, rng as Rng));
    } catch (e) {
      throw new DataError(`${entry.label}: ${(e as Error).message}`, [entry.label]);
    }
    const out = plan.output;

    const photo = async (file: string): Promise<Float32Array> => {
      const rgb = await readRgb(file);
      const resized = plan.resize ? resizeBicubic(rgb.data, rgb.width, rgb.height, 3, plan.resize.width, plan.resize.height) : rgb.data;
      return rgbToNormalizedChw(applyPlan(resized, 3, plan, true), out);
    };
    const [label, image, feat] = await Promise.all([
      labelIds ? Promise.resolve(applyPlan(labelIds.data, 1, plan, false)) : photo(entry.label),
      entry.image ? photo(entry.image) : Promise.resolve(null),
      // Feature maps hold per-instance constants: nearest resampling keeps them exact.
      entry.feat ? readRgb(entry.feat).then((rgb) => rgbToNormalizedChw(applyPlan(rgb.data, 3, plan, false), out)) : Promise.resolve(null),
    ]);
    return {
      index,
      label,
      inst: inst ? applyPlan(inst.data, 1, plan, false) : null,
      image,
      feat,
      path: entry.label,
      imagePath: entry.image,
      width: out.width,
      height: out.height,
      sourceWidth: source.width,
      sourceHeight: source.height,
      plan,
    };
  }
}

function sameSize(labelFile: string, labelSize: Size, otherFile: string, otherSize: Size, what: string): void {
  if (labelSize.width !== otherSize.width || labelSize.height !== otherSize.height) {
    throw new DataError(
      `The label map and its ${what} differ in size: ${labelFile} is ${labelSize.width}×${labelSize.height}, ` +
        `${otherFile} is ${otherSize.width}×${otherSize.height}. Pairs must be pixel-aligned.`,
      [labelFile, otherFile],
    );
  }
}

/** Throws when a label map holds ids that are not classes (≥ label_nc), listing them. */
export function checkLabelIds(ids: Int32Array, labelNc: number, file: string): void {
  const bad = labelIdsOutside(ids, labelNc);
  if (!bad) return;
  let msg = `${file}: label ids must be below label_nc ${labelNc}; this map holds ${describeLabelIds(bad, 20)}.`;
  if (bad.has(255)) {
    msg +=
      ' 255 is the "unlabeled"/ignore value of Cityscapes\' trainIds maps (and of many other data sets): use the *_gtFine_labelIds.png maps ' +
      '(ids 0–33, label_nc 35), or map 255 to a class below label_nc.';
  }
  const others = [...bad.keys()].filter((v) => v !== 255);
  if (others.length > 0) msg += ` If these are real classes, set label_nc to at least ${Math.max(...others) + 1}.`;
  throw new DataError(msg, [file]);
}
