// Finding a data set's files and pairing each label map with its instance map, photo and feature
// map. Two layouts:
//
// official    DATAROOT/{phase}_label/   class ids, 8-bit PNG (with label_nc 0: RGB input images;
//                                       the official code names that folder {phase}_A, also found)
//             DATAROOT/{phase}_inst/    instance ids, 8- or 16-bit PNG   (unless no_instance)
//             DATAROOT/{phase}_img/     photos, PNG or JPEG ({phase}_B with label_nc 0)
//             DATAROOT/{phase}_feat/    precomputed feature maps         (with load_features)
//             Folders are searched recursively. Files pair by name: the path inside the folder
//             without its extension and without Cityscapes' suffixes (_gtFine_labelIds,
//             _gtFine_instanceIds, _leftImg8bit, …), so both `0001.png`/`0001.jpg` and the
//             official Cityscapes preparation pair. When no name matches at all but the folders
//             hold equally many files, they pair in sorted order, as the official code does.
//             A photo, instance or feature map that no label map pairs with is an error naming it.
// cityscapes  DATAROOT/gtFine/{phase}/{city}/{stem}_gtFine_labelIds.png
//             DATAROOT/gtFine/{phase}/{city}/{stem}_gtFine_instanceIds.png
//             DATAROOT/leftImg8bit/{phase}/{city}/{stem}_leftImg8bit.png
//             read as they are (no conversion); the stem is {city}_{seq}_{frame}.
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { DataError } from './errors.js';
import { IMAGE_EXTENSIONS, isImageFile } from './image-io.js';
import type { DataOptions } from './options.js';

export interface DatasetEntry {
  /** The pairing key (the label's name without extension and known suffixes). */
  key: string;
  label: string;
  inst: string | null;
  image: string | null;
  feat: string | null;
}

export interface FoundDataset {
  layout: 'official' | 'cityscapes';
  entries: DatasetEntry[];
  /** The folders the files came from, for messages. */
  dirs: { label: string; inst: string | null; image: string | null; feat: string | null };
}

type LayoutOptions = Pick<
  DataOptions,
  'dataroot' | 'phase' | 'label_nc' | 'no_instance' | 'load_features' | 'isTrain' | 'use_encoded_image' | 'max_dataset_size' | 'layout' | 'label_dir' | 'inst_dir' | 'img_dir' | 'feat_dir'
  | 'label_file' | 'inst_file'
>;

const KNOWN_SUFFIXES = ['_gtFine_labelIds', '_gtFine_instanceIds', '_gtFine_color', '_gtCoarse_labelIds', '_gtCoarse_instanceIds', '_leftImg8bit'];

/** The name two files of a pair share: relative path, no extension, no Cityscapes suffix. */
export function pairingKey(relativePath: string): string {
  let key = relativePath.replace(/\\/g, '/').replace(/\.[^./]+$/, '');
  for (const s of KNOWN_SUFFIXES) if (key.endsWith(s)) key = key.slice(0, -s.length);
  return key;
}

/** Image files under `dir`, recursively, as paths relative to it, sorted. */
export function listImages(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const entries = readdirSync(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if ((e.isFile() || e.isSymbolicLink()) && isImageFile(e.name)) out.push(r);
    }
  };
  walk('');
  return out.sort(compareNames);
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Finds the data set's files for opt.phase and pairs them; throws a DataError listing what was looked for. */
export function findDataset(opt: LayoutOptions): FoundDataset {
  if (opt.label_file !== undefined) return singleFile(opt, opt.label_file);
  const root = opt.dataroot;
  if (!isDir(root)) throw new DataError(`dataroot ${root} is not a folder`, [root]);
  const official = officialDirs(opt);
  const cityscapesLabels = path.join(root, 'gtFine', opt.phase);
  let layout = opt.layout;
  if (layout === 'auto') {
    const customNames = opt.label_dir !== undefined;
    if (isDir(official.label) || customNames) layout = 'official';
    else if (isDir(cityscapesLabels)) layout = 'cityscapes';
    else {
      throw new DataError(
        `No label maps for phase '${opt.phase}' in ${root}. Looked for:\n` +
          `  ${official.label}${path.sep}   (official layout: ${opt.phase}_label/, ${opt.phase}_inst/, ${opt.phase}_img/` +
          `${opt.label_nc === 0 ? `; with label_nc 0 also ${opt.phase}_A/, ${opt.phase}_B/` : ''})\n` +
          `  ${path.join(cityscapesLabels, '*', '*_gtFine_labelIds.png')}   (Cityscapes layout: gtFine/, leftImg8bit/)\n` +
          `Other folder names can be given with label_dir, inst_dir, img_dir.` +
          listSubfolders(root),
        [root],
      );
    }
  }
  return layout === 'official' ? findOfficial(opt, official) : findCityscapes(opt);
}

/** One label map (and instance map) given by path: a one-item data set of the files where they are. */
function singleFile(opt: LayoutOptions, label: string): FoundDataset {
  const file = (p: string, what: string): string => {
    let isFile = false;
    try {
      isFile = statSync(p).isFile();
    } catch {
      throw new DataError(`${p}: no such ${what}`, [p]);
    }
    if (!isFile) throw new DataError(`${p} is a folder, not a ${what} file (give one image; a folder of maps is --dataroot's {phase}_label/)`, [p]);
    return p;
  };
  const labelPath = file(label, 'label map');
  const inst = opt.no_instance || opt.inst_file === undefined ? null : file(opt.inst_file, 'instance map');
  if (!opt.no_instance && inst === null) throw new DataError(`${label}: the run takes an instance map too (or set no_instance)`, [label]);
  if (needImages(opt)) throw new DataError(`${label}: a label map given alone has no photo to train on or to encode`, [label]);
  return {
    layout: 'official',
    entries: [{ key: pairingKey(path.basename(labelPath)), label: labelPath, inst, image: null, feat: null }],
    dirs: { label: path.dirname(labelPath), inst: inst ? path.dirname(inst) : null, image: null, feat: null },
  };
}

function listSubfolders(root: string): string {
  try {
    const names = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    return names.length ? `\n${root} holds the folders: ${names.join(', ')}` : `\n${root} holds no folders.`;
  } catch {
    return '';
  }
}

function officialDirs(opt: LayoutOptions): { label: string; inst: string; image: string; feat: string } {
  const at = (name: string): string => path.resolve(opt.dataroot, name);
  const rgbInput = opt.label_nc === 0;
  const firstExisting = (names: string[]): string => at(names.find((n) => isDir(at(n))) ?? (names[0] as string));
  return {
    label: opt.label_dir !== undefined ? at(opt.label_dir) : firstExisting(rgbInput ? [`${opt.phase}_A`, `${opt.phase}_label`] : [`${opt.phase}_label`]),
    inst: at(opt.inst_dir ?? `${opt.phase}_inst`),
    image: opt.img_dir !== undefined ? at(opt.img_dir) : firstExisting(rgbInput ? [`${opt.phase}_B`, `${opt.phase}_img`] : [`${opt.phase}_img`]),
    feat: at(opt.feat_dir ?? `${opt.phase}_feat`),
  };
}

const needImages = (opt: LayoutOptions): boolean => opt.isTrain || opt.use_encoded_image;

function findOfficial(opt: LayoutOptions, dirs: ReturnType<typeof officialDirs>): FoundDataset {
  const labels = requireImages(dirs.label, 'label maps', opt);
  const limit = Math.min(labels.length, opt.max_dataset_size);
  const used = labels.slice(0, limit);
  const entries: DatasetEntry[] = used.map((rel) => ({ key: pairingKey(rel), label: path.join(dirs.label, rel), inst: null, image: null, feat: null }));

  const attach = (dir: string, what: string, field: 'inst' | 'image' | 'feat', why: string): void => {
    const files = requireImages(dir, what, opt, why);
    refuseUnpaired(labels, files, dirs.label, dir, what);
    const paired = pairFiles(used, files, dirs.label, dir, what, labels.length);
    paired.forEach((rel, i) => ((entries[i] as DatasetEntry)[field] = path.join(dir, rel)));
  };
  if (!opt.no_instance) attach(dirs.inst, 'instance maps', 'inst', 'instance maps are used unless no_instance is set');
  if (needImages(opt)) attach(dirs.image, 'photos', 'image', opt.isTrain ? 'training needs the real photos' : 'use_encoded_image needs the real photos');
  else if (isDir(dirs.image)) {
    // At test time photos are optional: used (e.g. for result pages) when every label has one.
    try {
      const paired = pairFiles(used, listImages(dirs.image), dirs.label, dirs.image, 'photos', labels.length);
      paired.forEach((rel, i) => ((entries[i] as DatasetEntry).image = path.join(dirs.image, rel)));
    } catch {
      /* photos that do not pair are simply not used at test time */
    }
  }
  if (opt.load_features) attach(dirs.feat, 'feature maps', 'feat', 'load_features reads precomputed feature maps');

  return {
    layout: 'official',
    entries,
    dirs: {
      label: dirs.label,
      inst: opt.no_instance ? null : dirs.inst,
      image: entries[0]?.image ? dirs.image : null,
      feat: opt.load_features ? dirs.feat : null,
    },
  };
}

function requireImages(dir: string, what: string, opt: LayoutOptions, why?: string): string[] {
  const otherLayout =
    what === 'label maps' ? `\nThe Cityscapes layout would be ${path.join(opt.dataroot, 'gtFine', opt.phase, '*', '*_gtFine_labelIds.png')}.` : '';
  if (!isDir(dir)) {
    throw new DataError(`No folder of ${what}: ${dir}${path.sep} does not exist${why ? ` (${why})` : ''}.` + otherLayout + listSubfolders(opt.dataroot), [dir]);
  }
  const files = listImages(dir);
  if (files.length === 0) {
    throw new DataError(
      `The folder of ${what} ${dir}${path.sep} holds no images (looked for ${IMAGE_EXTENSIONS.join(' ')}, in subfolders too).` + otherLayout,
      [dir],
    );
  }
  return files;
}

/**
 * A photo (instance map, feature map) that no label map pairs with is an error naming it: it
 * would be left out of training without a word, and the official loader, which pairs the folders
 * in sorted order, would pair every file after it with the wrong label map. Files that pair in
 * sorted order (no name matches at all, equal counts) are all paired and pass.
 */
export function refuseUnpaired(labels: readonly string[], others: readonly string[], labelDir: string, otherDir: string, what: string): void {
  const labelKeys = new Set(labels.map(pairingKey));
  const orphans = others.filter((rel) => !labelKeys.has(pairingKey(rel)));
  if (orphans.length === 0 || orphans.length === others.length) return; // all pair, or none by name (pairFiles decides)
  const shown = orphans.slice(0, 5).map((rel) => path.join(otherDir, rel));
  throw new DataError(
    `${orphans.length} ${orphans.length === 1 ? what.replace(/s$/, '') : what} in ${otherDir}${path.sep} ${orphans.length === 1 ? 'has' : 'have'} no label map in ${labelDir}${path.sep}: ` +
      `${shown.join(', ')}${orphans.length > shown.length ? `, … (${orphans.length - shown.length} more)` : ''} ` +
      `(looked for ${path.join(labelDir, pairingKey(orphans[0]!))}.*). Add the label maps, or move these files out of the folder.`,
    shown,
  );
}

/**
 * For each label (relative path), the matching file in `others`: by pairing key; when no key
 * matches at all and the counts agree, by sorted position (the official behaviour).
 */
export function pairFiles(
  labels: readonly string[],
  others: readonly string[],
  labelDir: string,
  otherDir: string,
  what: string,
  totalLabels = labels.length,
): string[] {
  const byKey = new Map<string, string>();
  const duplicate = new Set<string>();
  for (const rel of others) {
    const k = pairingKey(rel);
    if (byKey.has(k)) duplicate.add(k);
    byKey.set(k, rel);
  }
  const keys = labels.map(pairingKey);
  const matches = keys.filter((k) => byKey.has(k)).length;
  if (matches === 0) {
    if (others.length === totalLabels) return others.slice(0, labels.length);
    throw new DataError(
      `No ${what} in ${otherDir}${path.sep} match the label maps in ${labelDir}${path.sep} by name ` +
        `(e.g. ${labels[0]} ↔ ${others[0]}), and the folders hold ${totalLabels} and ${others.length} files, so they cannot pair in order either.`,
      [labelDir, otherDir],
    );
  }
  return labels.map((rel, i) => {
    const k = keys[i] as string;
    const hit = byKey.get(k);
    if (hit === undefined) {
      const file = path.join(labelDir, rel);
      throw new DataError(`The label map ${file} has no matching ${what.replace(/s$/, '')}: looked for ${path.join(otherDir, k)}.* in ${otherDir}${path.sep}`, [file]);
    }
    if (duplicate.has(k)) {
      throw new DataError(`Several ${what} in ${otherDir}${path.sep} match ${path.join(labelDir, rel)} (name ${k}); keep one`, [path.join(labelDir, rel)]);
    }
    return hit;
  });
}

function findCityscapes(opt: LayoutOptions): FoundDataset {
  const root = opt.dataroot;
  const labelRoot = path.join(root, 'gtFine', opt.phase);
  const imageRoot = path.join(root, 'leftImg8bit', opt.phase);
  if (!isDir(labelRoot)) {
    throw new DataError(
      `No Cityscapes label maps: ${labelRoot}${path.sep} does not exist. Looked for ${path.join(labelRoot, '*', '*_gtFine_labelIds.png')} ` +
        `(official layout: ${path.join(root, `${opt.phase}_label`)}${path.sep}).` + listSubfolders(root),
      [labelRoot],
    );
  }
  if (opt.load_features) throw new DataError('load_features reads {phase}_feat/ of the official layout; the Cityscapes layout has none', [root]);
  const labels = listImages(labelRoot).filter((r) => r.endsWith('_gtFine_labelIds.png'));
  if (labels.length === 0) {
    throw new DataError(
      `${labelRoot}${path.sep} holds no *_gtFine_labelIds.png files (looked in its city folders). ` +
        `The official layout would be ${path.join(root, `${opt.phase}_label`)}${path.sep}.`,
      [labelRoot],
    );
  }
  const used = labels.slice(0, Math.min(labels.length, opt.max_dataset_size));
  if (needImages(opt) && isDir(imageRoot)) {
    const photos = listImages(imageRoot).filter((r) => r.endsWith('_leftImg8bit.png'));
    refuseUnpaired(labels, photos, labelRoot, imageRoot, 'photos');
  }
  const entries = used.map((rel): DatasetEntry => {
    const stemRel = rel.slice(0, -'_gtFine_labelIds.png'.length);
    const label = path.join(labelRoot, rel);
    const inst = path.join(labelRoot, `${stemRel}_gtFine_instanceIds.png`);
    const image = path.join(imageRoot, `${stemRel}_leftImg8bit.png`);
    if (!opt.no_instance && !existsSync(inst)) throw new DataError(`The label map ${label} has no instance map: looked for ${inst} (or set no_instance)`, [label]);
    const haveImage = existsSync(image);
    if (needImages(opt) && !haveImage) throw new DataError(`The label map ${label} has no photo: looked for ${image}`, [label]);
    return { key: path.basename(stemRel), label, inst: opt.no_instance ? null : inst, image: haveImage ? image : null, feat: null };
  });
  const allImages = entries.every((e) => e.image !== null);
  if (!allImages) for (const e of entries) e.image = null;
  return {
    layout: 'cityscapes',
    entries,
    dirs: { label: labelRoot, inst: opt.no_instance ? null : labelRoot, image: allImages ? imageRoot : null, feat: null },
  };
}
