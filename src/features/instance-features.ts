// From E's instance-averaged feature map to one row per object, as the official
// encode_features does: each instance id gives its class (id // 1000 for ids ≥ 1000, else the
// id itself, Cityscapes' convention), its feature vector and its relative area
// (pixels / (H·W // 32)); the official clustering keeps the objects whose relative area exceeds
// 0.5, i.e. those covering more than 1/64 of the image.
//
// Difference: the official code reads the feature at one pixel of the instance (the middle of its
// nonzero() list). E's output is constant inside an instance, so the mean over the instance used
// here is the same number, and it stays right for maps that are not exactly constant (a
// feature map resized with another instance map).

/** The class of an instance id: id // 1000 for ids ≥ 1000 (class·1000 + k), else the id itself. */
export function classOfInstance(id: number): number {
  return id >= 1000 ? Math.floor(id / 1000) : id;
}

/** The relative area of the official encode_features: pixels / (H·W // 32). */
export function relativeArea(pixels: number, width: number, height: number): number {
  return pixels / Math.floor((width * height) / 32);
}

/** One object of one image: what clustering and the style bank are made from. */
export interface InstanceFeature {
  /** Instance id as in the instance map (the label id itself for label_feat runs). */
  id: number;
  /** Its class (classOfInstance(id)). */
  label: number;
  /** Its feature vector (feat_num values). */
  feature: number[];
  /** pixels / (H·W // 32), the official relative area (clustered when > 0.5 by default). */
  area: number;
  pixels: number;
  /** Mean RGB (0–255) of the instance in the real photo, when the photo was given. */
  meanRgb: [number, number, number] | null;
}

/**
 * Per instance of one image: the mean of each feature channel over its pixels, its area and,
 * with `rgb` (the photo, interleaved bytes, or CHW floats in [-1, 1]), its mean colour.
 * `features` is [feat_num, H, W] row-major, `inst` [H, W]. Instances come in ascending id order.
 */
export function extractInstanceFeatures(
  features: ArrayLike<number>, featNum: number, inst: ArrayLike<number>, width: number, height: number,
  rgb?: { interleaved: ArrayLike<number> } | { chw: ArrayLike<number> } | null,
): InstanceFeature[] {
  const hw = width * height;
  if (inst.length !== hw) throw new Error(`instance map has ${inst.length} pixels, expected ${width}×${height} = ${hw}`);
  if (features.length !== featNum * hw) throw new Error(`feature map has ${features.length} values, expected ${featNum}×${hw}`);
  const acc = new Map<number, { n: number; f: number[]; c: [number, number, number] }>();
  for (let p = 0; p < hw; p++) {
    const id = inst[p]!;
    let a = acc.get(id);
    if (!a) acc.set(id, (a = { n: 0, f: new Array<number>(featNum).fill(0), c: [0, 0, 0] }));
    a.n++;
    for (let k = 0; k < featNum; k++) a.f[k]! += features[k * hw + p]!;
    if (rgb) {
      for (let k = 0; k < 3; k++) {
        a.c[k] += 'interleaved' in rgb ? rgb.interleaved[p * 3 + k]! : ((rgb.chw[k * hw + p]! + 1) / 2) * 255;
      }
    }
  }
  return [...acc.entries()].sort(([a], [b]) => a - b).map(([id, a]) => ({
    id,
    label: classOfInstance(id),
    feature: a.f.map((v) => v / a.n),
    area: relativeArea(a.n, width, height),
    pixels: a.n,
    meanRgb: rgb ? (a.c.map((v) => v / a.n) as [number, number, number]) : null,
  }));
}

/** The distinct ids of a map, ascending. */
export function instanceIds(inst: ArrayLike<number>): number[] {
  return [...new Set(Array.from(inst))].sort((a, b) => a - b);
}
