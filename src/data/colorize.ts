// Colours for showing label maps: Cityscapes' own colours for its ids, and a generic palette for
// any other number of classes.

/** Cityscapes' label ids 0..33 (and 34, the license plate the official 35-class setup counts), as in cityscapesScripts' labels.py. */
export const CITYSCAPES_LABELS: ReadonlyArray<{ id: number; name: string; color: readonly [number, number, number] }> = [
  { id: 0, name: 'unlabeled', color: [0, 0, 0] },
  { id: 1, name: 'ego vehicle', color: [0, 0, 0] },
  { id: 2, name: 'rectification border', color: [0, 0, 0] },
  { id: 3, name: 'out of roi', color: [0, 0, 0] },
  { id: 4, name: 'static', color: [0, 0, 0] },
  { id: 5, name: 'dynamic', color: [111, 74, 0] },
  { id: 6, name: 'ground', color: [81, 0, 81] },
  { id: 7, name: 'road', color: [128, 64, 128] },
  { id: 8, name: 'sidewalk', color: [244, 35, 232] },
  { id: 9, name: 'parking', color: [250, 170, 160] },
  { id: 10, name: 'rail track', color: [230, 150, 140] },
  { id: 11, name: 'building', color: [70, 70, 70] },
  { id: 12, name: 'wall', color: [102, 102, 156] },
  { id: 13, name: 'fence', color: [190, 153, 153] },
  { id: 14, name: 'guard rail', color: [180, 165, 180] },
  { id: 15, name: 'bridge', color: [150, 100, 100] },
  { id: 16, name: 'tunnel', color: [150, 120, 90] },
  { id: 17, name: 'pole', color: [153, 153, 153] },
  { id: 18, name: 'polegroup', color: [153, 153, 153] },
  { id: 19, name: 'traffic light', color: [250, 170, 30] },
  { id: 20, name: 'traffic sign', color: [220, 220, 0] },
  { id: 21, name: 'vegetation', color: [107, 142, 35] },
  { id: 22, name: 'terrain', color: [152, 251, 152] },
  { id: 23, name: 'sky', color: [70, 130, 180] },
  { id: 24, name: 'person', color: [220, 20, 60] },
  { id: 25, name: 'rider', color: [255, 0, 0] },
  { id: 26, name: 'car', color: [0, 0, 142] },
  { id: 27, name: 'truck', color: [0, 0, 70] },
  { id: 28, name: 'bus', color: [0, 60, 100] },
  { id: 29, name: 'caravan', color: [0, 0, 90] },
  { id: 30, name: 'trailer', color: [0, 0, 110] },
  { id: 31, name: 'train', color: [0, 80, 100] },
  { id: 32, name: 'motorcycle', color: [0, 0, 230] },
  { id: 33, name: 'bicycle', color: [119, 11, 32] },
  { id: 34, name: 'license plate', color: [0, 0, 142] },
];

/** Cityscapes label ids by name (the ones the synthetic scenes use, and more). */
export const CITYSCAPES_ID: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(CITYSCAPES_LABELS.map((l) => [l.name, l.id])),
);

/**
 * A palette of n RGB colours, flat [r0, g0, b0, r1, …]. n = 35 (the official Cityscapes setting)
 * or 34 gives Cityscapes' colours; any other n the classic bit-interleaved palette (id bits spread
 * over the high bits of r, g and b), which keeps neighbouring ids far apart in colour. (Cityscapes'
 * colours would paint a small data set's first classes all black.)
 */
export function labelPalette(n: number): Uint8Array {
  const out = new Uint8Array(3 * Math.max(n, 1));
  const cityscapes = n === 34 || n === 35;
  for (let id = 0; id < n; id++) {
    const c = cityscapes ? (CITYSCAPES_LABELS[id] as (typeof CITYSCAPES_LABELS)[number]).color : interleavedColour(id);
    out.set(c, 3 * id);
  }
  return out;
}

/** Colour of id i in the bit-interleaved palette: bit 3k, 3k+1, 3k+2 of i go to bit 7−k of r, g, b. */
export function interleavedColour(id: number): [number, number, number] {
  let r = 0;
  let g = 0;
  let b = 0;
  let c = id;
  for (let k = 0; k < 8 && c > 0; k++) {
    r |= (c & 1) << (7 - k);
    g |= ((c >> 1) & 1) << (7 - k);
    b |= ((c >> 2) & 1) << (7 - k);
    c >>= 3;
  }
  return [r, g, b];
}

/**
 * An RGB image of a label map (HW class ids). `labelNc` picks the palette (default: Cityscapes'
 * 35); ids outside the palette are drawn white so that they stand out.
 */
export function colorizeLabel(label: ArrayLike<number>, width: number, height: number, labelNc = 35): Uint8Array {
  const n = width * height;
  if (label.length < n) throw new Error(`colorizeLabel: ${label.length} ids for ${width}×${height}`);
  const palette = labelPalette(labelNc);
  const out = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    const id = label[i] as number;
    if (id >= 0 && id < labelNc) {
      out[3 * i] = palette[3 * id] as number;
      out[3 * i + 1] = palette[3 * id + 1] as number;
      out[3 * i + 2] = palette[3 * id + 2] as number;
    } else {
      out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = 255;
    }
  }
  return out;
}

/** An RGB image of a [3, H, W] tensor in [-1, 1] (a photo, a generated image, an RGB input map). */
export function tensorToRgb(chw: ArrayLike<number>, width: number, height: number, offset = 0): Uint8Array {
  const n = width * height;
  const out = new Uint8Array(3 * n);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) {
      const v = ((chw[offset + c * n + i] as number) + 1) * 127.5;
      out[3 * i + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }
  return out;
}
