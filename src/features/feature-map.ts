// Choosing a feature vector for every object of a map and filling G's feature channels with them.
//
// A styles file (`--styles styles.json`) says what to choose; everything it does not name is drawn
// at random (seeded) among its class's clusters, as the official sample_features does:
//
//   {
//     "26001": 3,                       // instance id → cluster index of its class
//     "26002": [0.12, -0.4, 0.9],       // instance id → a feature vector (feat_num numbers)
//     "classes": { "26": 0 },           // every object of class 26 → cluster 0 (or a vector)
//     "images": { "scene_00003": { "26001": 5 } }   // choices for one image (by file name)
//   }
//
// Instance ids at the top level (or under "instances") must be in the map they are applied to:
// for a data set of many maps give them per image under "images", or per class. A cluster
// index beyond its class's clusters, a vector of the wrong length, a class with no clusters or
// an id that is not in the map are errors naming what is there.
import { readFileSync } from 'node:fs';
import { deriveSeed, randomSource } from '../util/rng.js';
import { classOfInstance, instanceIds } from './instance-features.js';
import { StyleError, type StyleBank } from './style-bank.js';

/** A cluster index of the object's class, or an explicit feature vector. */
export type StyleSpec = number | number[];

export interface StyleChoices {
  /** Instance id → choice (the id must be in the map). */
  instances?: Map<number, StyleSpec>;
  /** Class id → choice for every object of that class in the map. */
  classes?: Map<number, StyleSpec>;
}

export interface StylesFile extends StyleChoices {
  /** Image name (label file name without extension) → choices for that image only. */
  images?: Map<string, StyleChoices>;
}

/** What was chosen for one object. */
export interface ChosenFeature {
  id: number;
  label: number;
  vector: number[];
  /** The cluster index, or null for an explicit vector or a class without clusters (zeros). */
  cluster: number | null;
  /** How it was chosen. */
  how: 'instance' | 'class' | 'random' | 'none';
}

function parseSpec(v: unknown, where: string): StyleSpec {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) return v as number[];
  throw new StyleError(`${where}: expected a cluster index (integer) or a feature vector (array of numbers), got ${JSON.stringify(v)}`);
}

function parseIdMap(obj: unknown, where: string): Map<number, StyleSpec> {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new StyleError(`${where}: expected an object of id → style`);
  const out = new Map<number, StyleSpec>();
  for (const [k, v] of Object.entries(obj)) {
    if (!/^\d+$/.test(k)) throw new StyleError(`${where}: '${k}' is not an id (a non-negative integer)`);
    out.set(Number(k), parseSpec(v, `${where} "${k}"`));
  }
  return out;
}

function parseChoices(obj: Record<string, unknown>, where: string, allowImages: boolean): StylesFile {
  const instances = new Map<number, StyleSpec>();
  const out: StylesFile = { instances };
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'instances') for (const [id, s] of parseIdMap(v, `${where} "instances"`)) instances.set(id, s);
    else if (k === 'classes') out.classes = parseIdMap(v, `${where} "classes"`);
    else if (k === 'images' && allowImages) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new StyleError(`${where} "images": expected an object of image name → choices`);
      out.images = new Map(Object.entries(v).map(([name, c]) => {
        if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new StyleError(`${where} "images" "${name}": expected an object of id → style`);
        return [name, parseChoices(c as Record<string, unknown>, `${where} "images" "${name}"`, false)];
      }));
    } else if (/^\d+$/.test(k)) instances.set(Number(k), parseSpec(v, `${where} "${k}"`));
    else throw new StyleError(`${where}: unknown key '${k}' (expected instance ids, "instances", "classes"${allowImages ? ' or "images"' : ''})`);
  }
  return out;
}

/** Parses the JSON of a styles file (see the module comment). */
export function parseStyles(json: unknown, file = 'styles'): StylesFile {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new StyleError(`${file}: expected a JSON object of instance id → style`);
  return parseChoices(json as Record<string, unknown>, file, true);
}

export function readStylesFile(path: string): StylesFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new StyleError(`--styles ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON (${(e as Error).message})`}`);
  }
  return parseStyles(json, path);
}

/** The choices that apply to one image: the file's own, with the image's entries over them. */
export function choicesForImage(file: StylesFile | null | undefined, name: string): StyleChoices {
  if (!file) return {};
  const img = file.images?.get(name);
  return {
    instances: new Map([...(file.instances ?? []), ...(img?.instances ?? [])]),
    classes: new Map([...(file.classes ?? []), ...(img?.classes ?? [])]),
  };
}

/**
 * A feature vector for each id of a map: the explicit choice for the instance, else for its
 * class, else a cluster of its class drawn with `random`; zeros for classes without clusters.
 * `where` names the map in errors.
 */
export function chooseFeatures(
  ids: readonly number[], bank: StyleBank, choices: StyleChoices, random: () => number, where = 'the instance map',
): ChosenFeature[] {
  const present = new Set(ids);
  for (const id of choices.instances?.keys() ?? []) {
    if (!present.has(id)) {
      const shown = ids.length > 24 ? `${ids.slice(0, 24).join(', ')}, …` : ids.join(', ');
      throw new StyleError(`instance id ${id} is not in ${where} (its ids: ${shown})`);
    }
  }
  const resolve = (spec: StyleSpec, label: number, what: string): { vector: number[]; cluster: number | null } => {
    if (Array.isArray(spec)) {
      if (spec.length !== bank.featNum) throw new StyleError(`${what}: the feature vector has ${spec.length} values, the run's feat_num is ${bank.featNum}`);
      return { vector: spec.slice(), cluster: null };
    }
    try {
      return { vector: bank.style(label, spec).center.slice(), cluster: spec };
    } catch (e) {
      throw new StyleError(`${what}: ${(e as Error).message}`);
    }
  };
  // Ascending ids, one draw per id that is drawn: the same map and seed give the same choices.
  return [...ids].sort((a, b) => a - b).map((id) => {
    const label = classOfInstance(id);
    const own = choices.instances?.get(id);
    if (own !== undefined) return { id, label, ...resolve(own, label, `instance ${id}`), how: 'instance' as const };
    const byClass = choices.classes?.get(label);
    if (byClass !== undefined) return { id, label, ...resolve(byClass, label, `instance ${id} (class ${label})`), how: 'class' as const };
    const s = bank.randomStyle(label, random);
    if (s) return { id, label, vector: s.center.slice(), cluster: s.index, how: 'random' as const };
    return { id, label, vector: new Array<number>(bank.featNum).fill(0), cluster: null, how: 'none' as const };
  });
}

/** [feat_num, H, W] row-major: every pixel gets its id's vector (zeros for ids not given). */
export function fillFeatureMap(inst: ArrayLike<number>, width: number, height: number, chosen: readonly { id: number; vector: ArrayLike<number> }[], featNum: number): Float32Array {
  const hw = width * height;
  if (inst.length !== hw) throw new Error(`instance map has ${inst.length} pixels, expected ${width}×${height}`);
  const byId = new Map(chosen.map((c) => [c.id, c.vector]));
  const out = new Float32Array(featNum * hw);
  for (let p = 0; p < hw; p++) {
    const v = byId.get(inst[p]!);
    if (!v) continue;
    for (let k = 0; k < featNum; k++) out[k * hw + p] = v[k]!;
  }
  return out;
}

/**
 * The feature map of one image from a style bank: styles file choices, the rest drawn with a
 * generator seeded by (seed, image name), so each image's draws do not depend on the others.
 */
export function sampleFeatureMap(
  inst: ArrayLike<number>, width: number, height: number, bank: StyleBank,
  options: { choices?: StyleChoices; seed?: number; name?: string } = {},
): { map: Float32Array; chosen: ChosenFeature[] } {
  const random = randomSource(deriveSeed(options.seed ?? 0, 'styles', options.name ?? ''));
  const chosen = chooseFeatures(instanceIds(inst), bank, options.choices ?? {}, random, options.name ? `the instance map of ${options.name}` : 'the instance map');
  return { map: fillFeatureMap(inst, width, height, chosen, bank.featNum), chosen };
}
