// Synthetic street scenes: a label map (Cityscapes ids), an instance map (Cityscapes style) and a
// photo rendered from them, for tests, demos and quick experiments without downloading Cityscapes.
//
// The scene is a street seen from a car: a pinhole camera 1.6 m above the road looking down the
// street. Every object is placed in metres (lateral X, height v, depth z) and projected, so the
// content scales with any image size. The perspective scale at a point is s = Z_REF / z; a ground
// point at scale s lies (CAM_H · ppm · s) pixels below the horizon, where ppm is pixels per metre at
// s = 1 (the bottom image row). Stuff is drawn per pixel (sky, facades, road, sidewalk); objects
// (trees, poles, cars, people) are sprites drawn far to near.
//
// Cars' body colours come from CAR_PALETTE, one entry per car, so instance styles are real and
// measurable: the scene reports which entry each car got.
import { Rng } from '../../util/rng.js';
import { fbm2, hash2, valueNoise } from './noise.js';

/** The Cityscapes label ids the scenes use. */
export const SCENE_CLASSES = Object.freeze({
  road: 7,
  sidewalk: 8,
  building: 11,
  pole: 17,
  trafficLight: 19,
  trafficSign: 20,
  vegetation: 21,
  sky: 23,
  person: 24,
  car: 26,
});
export const SCENE_LABEL_IDS: readonly number[] = Object.freeze(Object.values(SCENE_CLASSES).sort((a, b) => a - b));

export type Rgb = readonly [number, number, number];

/** Car body colours: each car's colour is one of these (its index is in the scene's instances). */
export const CAR_PALETTE: ReadonlyArray<{ name: string; rgb: Rgb }> = Object.freeze([
  { name: 'red', rgb: [190, 30, 35] },
  { name: 'blue', rgb: [35, 70, 175] },
  { name: 'white', rgb: [228, 228, 224] },
  { name: 'black', rgb: [28, 28, 32] },
  { name: 'yellow', rgb: [235, 190, 30] },
  { name: 'green', rgb: [40, 135, 65] },
  { name: 'silver', rgb: [145, 150, 158] },
  { name: 'orange', rgb: [225, 110, 25] },
] as const);

export interface SceneInstance {
  /** Instance id as in the instance map: class·1000 + k. */
  id: number;
  classId: number;
  /** Cars: index into CAR_PALETTE. */
  palette?: number;
  /** Visible pixels. */
  pixels: number;
}

export interface Scene {
  width: number;
  height: number;
  /** Class ids, row-major. */
  label: Uint8Array;
  /** Instance ids (class id for stuff, class·1000 + k for cars and people), row-major. */
  inst: Uint16Array;
  /** The photo, interleaved RGB. */
  rgb: Uint8Array;
  /** Cars and people that are visible, in id order. */
  instances: SceneInstance[];
}

const CAM_H = 1.6; // camera height, metres
const Z_REF = 4; // depth (m) of the ground point at the bottom image row

interface Facade {
  z0: number;
  z1: number;
  height: number;
  trees: boolean;
  colour: Rgb;
  floorH: number;
  colW: number;
  winW: number;
  winH: number;
  seed: number;
}

interface Sprite {
  z: number;
  draw: () => void;
}

const C = SCENE_CLASSES;

const WALL_COLOURS: Rgb[] = [
  [196, 180, 158], [170, 160, 150], [150, 92, 70], [205, 200, 190], [120, 118, 122],
  [188, 150, 110], [162, 170, 176], [214, 196, 150], [140, 110, 96], [178, 186, 170],
];
const SHIRTS: Rgb[] = [[200, 40, 40], [40, 60, 150], [230, 230, 230], [30, 30, 30], [60, 130, 80], [200, 160, 40], [120, 60, 140], [90, 90, 100]];
const TROUSERS: Rgb[] = [[40, 45, 70], [30, 30, 32], [90, 80, 70], [70, 75, 85], [150, 140, 120]];
const SKIN: Rgb[] = [[236, 192, 160], [198, 150, 112], [141, 95, 65], [95, 63, 45]];

/** Renders one scene. Same (width, height, seed) → same pixels. */
export function renderScene(width: number, height: number, seed: number): Scene {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 16) {
    throw new Error(`scene size must be integers of at least 16×16; got ${width}×${height}`);
  }
  const W = width;
  const H = height;
  const n = W * H;
  const label = new Uint8Array(n);
  const inst = new Uint16Array(n);
  const rgb = new Uint8Array(3 * n);
  const rng = new Rng(seed);
  const texSeed = rng.uint32() | 0;

  // --- the street -------------------------------------------------------------------------
  const yh = H * rng.uniform(0.36, 0.47); // horizon row
  const ppm = (H - yh) / CAM_H; // pixels per metre at s = 1
  const vx = W * rng.uniform(0.42, 0.58); // vanishing column
  const roadHalf = rng.uniform(4.5, 7.5);
  const roadOff = rng.uniform(-1.2, 1.2);
  const roadL = roadOff - roadHalf;
  const roadR = roadOff + roadHalf;
  const swL = rng.uniform(2.5, 4.5);
  const swR = rng.uniform(2.5, 4.5);
  const XL = roadL - swL; // facade lines
  const XR = roadR + swR;
  const zEnd = rng.uniform(55, 110);
  const sMin = Z_REF / zEnd;
  const twoLanes = roadHalf > 5.8;
  const light = rng.uniform(0.85, 1.1); // time of day
  const skyTop: Rgb = [rng.uniform(40, 80), rng.uniform(95, 135), rng.uniform(175, 215)];
  const cloudiness = rng.uniform(0.45, 0.7);

  const makeFacades = (): Facade[] => {
    const out: Facade[] = [];
    let z = 0;
    while (z < zEnd) {
      const len = rng.uniform(9, 26);
      const trees = out.length > 0 && rng.chance(0.15);
      out.push({
        z0: z,
        z1: Math.min(zEnd, z + len),
        height: trees ? rng.uniform(4, 8) : rng.uniform(7, 22),
        trees,
        colour: rng.pick(WALL_COLOURS),
        floorH: rng.uniform(3.0, 3.6),
        colW: rng.uniform(2.4, 3.6),
        winW: rng.uniform(0.4, 0.62),
        winH: rng.uniform(0.4, 0.58),
        seed: rng.uint32() | 0,
      });
      z += len;
    }
    return out;
  };
  const left = makeFacades();
  const right = makeFacades();
  const far: Facade = {
    z0: XL,
    z1: XR,
    height: rng.uniform(9, 24),
    trees: false,
    colour: rng.pick(WALL_COLOURS),
    floorH: rng.uniform(3.0, 3.6),
    colW: rng.uniform(2.4, 3.6),
    winW: rng.uniform(0.4, 0.62),
    winH: rng.uniform(0.4, 0.58),
    seed: rng.uint32() | 0,
  };

  // --- stuff, per pixel ----------------------------------------------------------------------
  const xFarL = vx + XL * ppm * sMin;
  const xFarR = vx + XR * ppm * sMin;
  const put = (i: number, lab: number, id: number, r: number, g: number, b: number): void => {
    label[i] = lab;
    inst[i] = id;
    rgb[3 * i] = r <= 0 ? 0 : r >= 255 ? 255 : r + 0.5;
    rgb[3 * i + 1] = g <= 0 ? 0 : g >= 255 ? 255 : g + 0.5;
    rgb[3 * i + 2] = b <= 0 ? 0 : b >= 255 ? 255 : b + 0.5;
  };

  for (let y = 0; y < H; y++) {
    const py = y + 0.5;
    for (let x = 0; x < W; x++) {
      const px = x + 0.5;
      const i = y * W + x;
      // Which facade is behind this column, and at what scale.
      let s: number;
      let fac: Facade | undefined;
      let u: number; // position along the facade, metres
      let shade: number;
      if (px < xFarL) {
        s = (px - vx) / (XL * ppm);
        u = Z_REF / s;
        fac = findFacade(left, u);
        shade = 1.0;
      } else if (px > xFarR) {
        s = (px - vx) / (XR * ppm);
        u = Z_REF / s;
        fac = findFacade(right, u);
        shade = 0.78;
      } else {
        s = sMin;
        u = (px - vx) / (ppm * s);
        fac = far;
        shade = 0.9;
      }
      const yGround = yh + CAM_H * ppm * s;
      const v = CAM_H - (py - yh) / (ppm * s); // height above ground on the facade
      if (fac && py <= yGround) {
        const top = fac.trees ? fac.height + 1.5 * (valueNoise(u * 0.5, 0, fac.seed) - 0.5) : fac.height;
        if (v <= top) {
          if (fac.trees) {
            const t = fbm2(u * 1.3, v * 1.3, fac.seed);
            const k = light * (0.55 + 0.6 * t) * shade;
            put(i, C.vegetation, C.vegetation, 55 * k, 95 * k, 40 * k);
          } else {
            const c = facadeColour(fac, u, v, shade * light, texSeed);
            put(i, C.building, C.building, c[0], c[1], c[2]);
          }
          continue;
        }
      }
      if (py > yh && py > yGround) {
        // Ground: road or sidewalk at depth z, lateral X.
        const sg = (py - yh) / (CAM_H * ppm);
        const X = (px - vx) / (ppm * sg);
        const z = Z_REF / sg;
        const grain = (hash2(x, y, texSeed) - 0.5) * 10;
        if (X >= roadL && X <= roadR) {
          const t = fbm2(X * 0.8, z * 0.25, texSeed + 7);
          let g = (78 + 22 * t) * light + grain;
          const dx = X - roadOff;
          const dashed = (z % 9) < 4.5;
          const mark =
            (Math.abs(dx) < 0.08 && dashed) ||
            (twoLanes && Math.abs(Math.abs(dx) - roadHalf / 2) < 0.07 && dashed) ||
            Math.abs(X - (roadL + 0.35)) < 0.07 ||
            Math.abs(X - (roadR - 0.35)) < 0.07;
          if (mark) g = 210 * light + grain;
          put(i, C.road, C.road, g, g, g + 4);
        } else {
          const fromRoad = X < roadL ? roadL - X : X - roadR;
          const t = fbm2(X * 1.5, z * 0.6, texSeed + 11);
          let g = (140 + 25 * t) * light;
          if (fromRoad < 0.25) g = 175 * light;
          else if (frac(X + 0.5) < 0.05 || frac(z * 0.8) < 0.06) g *= 0.82;
          g += grain;
          put(i, C.sidewalk, C.sidewalk, g * 1.02, g, g * 0.95);
        }
        continue;
      }
      // Sky with clouds.
      const a = Math.min(1, py / Math.max(1, yh));
      let r = skyTop[0] + (178 - skyTop[0]) * a;
      let g = skyTop[1] + (202 - skyTop[1]) * a;
      let b = skyTop[2] + (226 - skyTop[2]) * a;
      const cloud = fbm2((px / H) * 3.2, (py / H) * 7, texSeed + 3) - cloudiness;
      if (cloud > 0) {
        const m = Math.min(1, cloud * 5);
        r += (242 - r) * m;
        g += (242 - g) * m;
        b += (246 - b) * m;
      }
      put(i, C.sky, C.sky, r * light, g * light, b * light);
    }
  }

  // --- objects, far to near ------------------------------------------------------------------
  const sprites: Sprite[] = [];
  const instances: SceneInstance[] = [];
  /** Visits the pixels of a sprite's box: (i, X, v) with X lateral and v height in metres. */
  const box = (z: number, X0: number, X1: number, v0: number, v1: number, f: (i: number, X: number, v: number, x: number, y: number) => void): void => {
    const s = Z_REF / z;
    const k = ppm * s;
    const xa = Math.max(0, Math.floor(vx + X0 * k));
    const xb = Math.min(W - 1, Math.ceil(vx + X1 * k));
    const ya = Math.max(0, Math.floor(yh + (CAM_H - v1) * k));
    const yb = Math.min(H - 1, Math.ceil(yh + (CAM_H - v0) * k));
    for (let y = ya; y <= yb; y++) {
      const v = CAM_H - (y + 0.5 - yh) / k;
      if (v < v0 || v > v1) continue;
      for (let x = xa; x <= xb; x++) {
        const X = (x + 0.5 - vx) / k;
        if (X < X0 || X > X1) continue;
        f(y * W + x, X, v, x, y);
      }
    }
  };

  // Trees on the sidewalks.
  for (const side of [-1, 1]) {
    const count = rng.int(0, 4);
    for (let t = 0; t < count; t++) {
      const z = rng.uniform(6, zEnd * 0.8);
      const X = side < 0 ? roadL - swL * rng.uniform(0.45, 0.75) : roadR + swR * rng.uniform(0.45, 0.75);
      const r = rng.uniform(1.6, 2.8);
      const cy = rng.uniform(4.2, 5.5);
      const sd = rng.uint32() | 0;
      sprites.push({
        z,
        draw: () =>
          box(z, X - r * 1.3, X + r * 1.3, 0, cy + r * 1.3, (i, px, v) => {
            const dx = (px - X) / r;
            const dy = (v - cy) / (r * 0.85);
            const d = dx * dx + dy * dy;
            const edge = 1 + 0.6 * (fbm2(px * 2.5, v * 2.5, sd) - 0.5);
            if (d < edge) {
              const t2 = fbm2(px * 3, v * 3, sd + 1);
              const k = light * (0.5 + 0.55 * t2) * (1.1 - 0.25 * dx - 0.15 * dy);
              put(i, C.vegetation, C.vegetation, 50 * k, 105 * k, 38 * k);
            } else if (Math.abs(px - X) < 0.16 && v < cy) {
              const k = light * (0.8 + 0.3 * (px - X) / 0.16);
              put(i, C.vegetation, C.vegetation, 85 * k, 62 * k, 44 * k);
            }
          }),
      });
    }
  }

  // Poles (street lights), some with a traffic sign or light.
  for (const side of [-1, 1]) {
    const count = rng.int(1, 4);
    for (let p = 0; p < count; p++) {
      const z = rng.uniform(5, zEnd * 0.85);
      const X = side < 0 ? roadL - 0.5 : roadR + 0.5;
      const h = rng.uniform(6, 8);
      const arm = 1.6 * -side; // towards the road
      const extra = rng.float();
      const signColour: Rgb = rng.pick<Rgb>([[30, 80, 170], [200, 30, 30], [240, 240, 235]]);
      const lit = rng.chance(0.5);
      sprites.push({
        z,
        draw: () =>
          box(z, Math.min(X, X + arm) - 0.5, Math.max(X, X + arm) + 0.5, 0, h + 0.3, (i, px, v) => {
            const d = px - X;
            if (extra < 0.35 && v > 2.2 && v < 2.85 && Math.abs(d + 0.32 * side) < 0.32) {
              put(i, C.trafficSign, C.trafficSign, signColour[0] * light, signColour[1] * light, signColour[2] * light);
            } else if (extra > 0.75 && v > 2.9 && v < 3.8 && Math.abs(d + 0.25 * side) < 0.18) {
              const lamp = v > 3.5 ? (lit ? [220, 40, 30] : [60, 20, 20]) : v < 3.2 ? (lit ? [30, 60, 30] : [40, 210, 90]) : [40, 40, 30];
              put(i, C.trafficLight, C.trafficLight, lamp[0] as number, lamp[1] as number, lamp[2] as number);
            } else if (Math.abs(d) < 0.08 && v < h) {
              const k = light * (0.75 + 0.5 * (0.08 - d) / 0.16);
              put(i, C.pole, C.pole, 120 * k, 122 * k, 126 * k);
            } else if (v > h - 0.12 && v < h && (arm > 0 ? d >= 0 && d < arm : d <= 0 && d > arm)) {
              put(i, C.pole, C.pole, 110 * light, 112 * light, 116 * light);
            } else if (v > h - 0.3 && v < h && Math.abs(d - arm) < 0.3) {
              put(i, C.pole, C.pole, 200 * light, 200 * light, 185 * light);
            }
          }),
      });
    }
  }

  // Cars: in the lanes and parked at the curbs; each gets a palette colour.
  const lanes = twoLanes ? [roadOff - 0.75 * roadHalf, roadOff - 0.25 * roadHalf, roadOff + 0.25 * roadHalf, roadOff + 0.75 * roadHalf] : [roadOff - 0.5 * roadHalf, roadOff + 0.5 * roadHalf];
  lanes.push(roadL + 1.15, roadR - 1.15);
  const nCars = rng.int(2, 7);
  for (let k = 0; k < nCars; k++) {
    const id = C.car * 1000 + k;
    const palette = rng.int(0, CAR_PALETTE.length - 1);
    const body = (CAR_PALETTE[palette] as (typeof CAR_PALETTE)[number]).rgb;
    const X = rng.pick(lanes) + rng.uniform(-0.2, 0.2);
    const z = rng.uniform(7, zEnd * 0.75);
    const w = rng.uniform(1.7, 1.9) / 2;
    const h = rng.uniform(1.4, 1.6);
    instances.push({ id, classId: C.car, palette, pixels: 0 });
    sprites.push({ z, draw: () => drawCar(box, put, rgb, label, X, z, w, h, body, id) });
  }

  // People on the sidewalks.
  const nPeople = rng.int(1, 5);
  for (let k = 0; k < nPeople; k++) {
    const id = C.person * 1000 + k;
    const side = rng.chance(0.5) ? -1 : 1;
    const X = side < 0 ? roadL - swL * rng.uniform(0.2, 0.85) : roadR + swR * rng.uniform(0.2, 0.85);
    const z = rng.uniform(5, zEnd * 0.6);
    const h = rng.uniform(1.6, 1.9);
    const shirt = rng.pick(SHIRTS);
    const trousers = rng.pick(TROUSERS);
    const skin = rng.pick(SKIN);
    const stride = rng.uniform(0, 0.12);
    instances.push({ id, classId: C.person, pixels: 0 });
    sprites.push({
      z,
      draw: () =>
        box(z, X - 0.35, X + 0.35, 0, h, (i, px, v) => {
          const d = px - X;
          const hv = v / h; // 0 feet … 1 top of head
          let c: Rgb | null = null;
          if (hv > 0.87) {
            const dy = (hv - 0.935) / 0.065;
            if ((d / 0.11) ** 2 + dy * dy < 1) c = hv > 0.96 ? [50, 35, 25] : skin;
          } else if (hv > 0.5) {
            if (Math.abs(d) < 0.21) c = shirt;
            else if (Math.abs(d) < 0.27 && hv > 0.56) c = hv > 0.6 ? shirt : skin; // arms and hands
          } else if (Math.abs(Math.abs(d) - 0.1 - stride * (0.5 - hv)) < 0.085) {
            c = hv < 0.04 ? [25, 25, 25] : trousers;
          }
          if (c) {
            const k2 = light * (1.05 - 0.3 * (d + 0.27) / 0.54);
            put(i, C.person, id, c[0] * k2, c[1] * k2, c[2] * k2);
          }
        }),
    });
  }

  sprites.sort((a, b) => b.z - a.z);
  for (const sp of sprites) sp.draw();

  const byId = new Map(instances.map((it) => [it.id, it]));
  for (let i = 0; i < n; i++) {
    const it = byId.get(inst[i] as number);
    if (it) it.pixels++;
  }
  return { width: W, height: H, label, inst, rgb, instances: instances.filter((it) => it.pixels > 0).sort((a, b) => a.id - b.id) };
}

function frac(x: number): number {
  return x - Math.floor(x);
}

function findFacade(list: Facade[], z: number): Facade | undefined {
  for (const f of list) if (z >= f.z0 && z < f.z1) return f;
  return undefined;
}

/** A facade's colour at (u along it, v up): wall texture, floors of windows, a shop front at street level. */
function facadeColour(f: Facade, u: number, v: number, light: number, texSeed: number): Rgb {
  const [wr, wg, wb] = f.colour;
  const tex = 0.9 + 0.2 * fbm2(u * 0.9, v * 0.9, f.seed ^ texSeed);
  let k = light * tex * (0.82 + 0.18 * Math.min(1, v / f.height));
  if (v > f.height - 0.35) k *= 0.8; // cornice
  const du = u - f.z0;
  const inside = du > 0.9 && f.z1 - u > 0.9;
  if (inside && v < f.height - 1) {
    const floor = Math.floor(v / f.floorH);
    const fv = v / f.floorH - floor;
    const col = Math.floor(du / f.colW);
    const fu = du / f.colW - col;
    const halfW = f.winW / 2;
    if (floor === 0) {
      // Shop windows at street level.
      if (fv > 0.15 && fv < 0.8 && Math.abs(fu - 0.5) < 0.4) {
        const g = 40 + 30 * fv;
        return [g * light, (g + 8) * light, (g + 18) * light];
      }
    } else if (fv > 0.3 && fv < 0.3 + f.winH && Math.abs(fu - 0.5) < halfW) {
      const edge = Math.min(fv - 0.3, 0.3 + f.winH - fv, halfW - Math.abs(fu - 0.5));
      if (edge < 0.04) return [225 * light, 222 * light, 215 * light]; // frame
      const litWindow = hash2(floor, col, f.seed) < 0.12;
      if (litWindow) return [200 * light, 170 * light, 110 * light];
      const refl = 30 + 60 * (fv - 0.3) / f.winH;
      return [(45 + refl * 0.6) * light, (58 + refl * 0.8) * light, (75 + refl) * light];
    } else if (fv > 0.25 && fv < 0.3 && Math.abs(fu - 0.5) < halfW + 0.05) {
      k *= 0.7; // window sill shadow
    }
  }
  return [wr * k, wg * k, wb * k];
}

type BoxFn = (z: number, X0: number, X1: number, v0: number, v1: number, f: (i: number, X: number, v: number, x: number, y: number) => void) => void;
type PutFn = (i: number, lab: number, id: number, r: number, g: number, b: number) => void;

/**
 * A car seen from behind: body in its palette colour, rear window, lights, wheels. The paint is not
 * dimmed by the scene's light and its shading averages to 1, so a car's mean colour stays close to
 * its palette entry (the style it was given is measurable in the photo).
 */
function drawCar(box: BoxFn, put: PutFn, rgb: Uint8Array, label: Uint8Array, X: number, z: number, w: number, h: number, body: Rgb, id: number): void {
  const light = 1;
  const cabin = 0.62 * h; // body top
  box(z, X - w, X + w, 0, h, (i, px, v) => {
    const d = (px - X) / w; // -1 … 1
    const ad = Math.abs(d);
    if (v < 0.17) {
      if (ad > 0.66 && ad < 0.9) put(i, C.car, id, 22, 22, 24); // wheels
      else if (ad <= 0.66 && label[i] === C.road) {
        // The shadow under the car falls on the road.
        for (let c = 0; c < 3; c++) rgb[3 * i + c] = Math.round((rgb[3 * i + c] as number) * 0.4);
      }
      return;
    }
    if (v < cabin) {
      // Body, rounded at the top corners.
      const corner = v > cabin - 0.12 && ad > 0.93;
      if (corner) return;
      let k = light * (1.06 - 0.12 * (v - 0.17) / (cabin - 0.17)) * (1.04 - 0.08 * ad);
      let c: Rgb = body;
      if (v > cabin - 0.28 && v < cabin - 0.14 && ad > 0.66 && ad < 0.9) {
        c = [Math.min(255, body[0] * 0.5 + 110), body[1] * 0.5 + 10, body[2] * 0.5 + 10]; // tail lights
        k = light;
      }
      put(i, C.car, id, c[0] * k, c[1] * k, c[2] * k);
      return;
    }
    // Cabin: narrower towards the roof.
    const t = (v - cabin) / (h - cabin);
    const half = 0.92 - 0.22 * t;
    if (ad > half) return;
    const glass = t > 0.15 && t < 0.8 && ad < half - 0.14;
    if (glass) {
      const m = 0.3; // tinted glass: mostly the body colour seen through it
      put(i, C.car, id, (body[0] * (1 - m) + 40 * m) * light, (body[1] * (1 - m) + 50 * m) * light, (body[2] * (1 - m) + 65 * m) * light);
    } else {
      const k = light * 0.97;
      put(i, C.car, id, body[0] * k, body[1] * k, body[2] * k);
    }
  });
}
