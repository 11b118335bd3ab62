// Do a feature run's clusters separate the looks objects really have? On the synthetic scenes
// every car's body colour is one of CAR_PALETTE's. For each cluster k of the car class, the
// held-out scenes are synthesised with every car set to cluster k (other objects drawn at random,
// the same draws for every k); the mean colour of the synthesised car pixels is matched to the
// nearest palette colour. The figure is how many distinct palette colours the clusters give (at
// most min(clusters, palette size)).
//
// A car's mean colour is not its paint: windows, lights and wheels pull it towards grey. So the
// palette colours are matched as they look in the real photos of the same scenes (the mean of
// the car pixels of each palette colour, from the scenes' metadata); the match to the paint
// colours themselves is reported beside it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CAR_PALETTE, carPaletteIndices, readSyntheticMeta, SCENE_CLASSES, type DataOptions } from '../data/index.js';
import type { Rgb } from '../features/cluster-file.js';
import { classOfInstance } from '../features/instance-features.js';
import type { ClassStyles, StyleBank } from '../features/style-bank.js';
import { synthesizeDataset } from '../infer/synthesize-dataset.js';
import type { Encoder } from '../models/encoder.js';
import type { Generator, NetworkOptions } from '../models/from-options.js';

export interface ClusterFigure {
  cluster: number;
  /** Training objects in the cluster and their mean photo colour (from encode-features), if known. */
  count: number | null;
  swatch: Rgb | null;
  swatchNearest: string | null;
  /** Mean colour of the synthesised car pixels with every car set to this cluster. */
  meanColour: Rgb;
  /** The palette colour nearest to meanColour: by the reference colours (see StyleEvalReport.reference). */
  nearest: string;
  /** The one nearest by the paint colours themselves. */
  nearestPaint: string;
  distance: number;
  /** Fraction of the cars (each counted once) whose own mean colour is nearest to `nearest`. */
  carsAgreeing: number;
  cars: number;
}

export interface StyleEvalReport {
  classId: number;
  images: number;
  clusters: ClusterFigure[];
  /** Distinct palette colours among the clusters' synthesised colours. */
  recovered: string[];
  /** The same, matched to the paint colours instead of the reference colours. */
  recoveredByPaint: string[];
  /**
   * What colours are matched against: 'photos', each palette colour as its cars look in the real
   * photos of the evaluated scenes (from their metadata), or 'paint', CAR_PALETTE itself.
   */
  reference: 'photos' | 'paint';
  referenceColours: { name: string; paint: Rgb; inPhotos: Rgb | null }[];
  /**
   * With E on the real photos instead of clusters (--use_encoded_image): the fraction of the cars
   * whose synthesised mean colour is nearest to their own palette colour (null without E or metadata).
   */
  encoded: { cars: number; ownColourNearest: number } | null;
  /**
   * Clusters whose synthesised cars are nearest to the same palette colour as the cluster's
   * training cars (its swatch): does choosing cluster k give cluster k's look? Null without swatches.
   */
  clustersMatchingSwatch: { matching: number; of: number } | null;
  /** Distinct palette colours among the clusters' swatches (the clustering alone, before G). */
  swatchesRecovered: string[];
  paletteSize: number;
}

/** The index of the reference colour nearest to c (RGB distance), and the distance. */
function nearestOf(c: readonly number[], refs: readonly (readonly number[] | null)[]): { index: number; distance: number } {
  let index = 0;
  let distance = Infinity;
  refs.forEach((p, i) => {
    if (!p) return;
    const d = Math.hypot(c[0]! - p[0]!, c[1]! - p[1]!, c[2]! - p[2]!);
    if (d < distance) {
      distance = d;
      index = i;
    }
  });
  return { index, distance };
}

/** Instance id → palette index of the cars of one synthetic scene, or null without metadata. */
function paletteOf(dataroot: string, phase: string, name: string): Map<number, number> | null {
  if (!existsSync(join(dataroot, `${phase}_meta`, `${name}.json`))) return null;
  return carPaletteIndices(readSyntheticMeta(dataroot, phase, name));
}

export interface StyleEvalInput {
  G: Generator;
  network: NetworkOptions;
  /** The held-out scenes (synthesis options). */
  data: Partial<DataOptions>;
  howMany: number;
  device: string;
  precision: { halfPrecision?: boolean };
  seed: number;
  bank: StyleBank;
  /** The class whose clusters are evaluated, with its styles. */
  classId: number;
  styles: ClassStyles;
  /** Opens the run's E for the encoded pass (null when the run has none). */
  openEncoder: (() => Encoder) | null;
}

/** Synthesises the scenes once per cluster of the class (and once with E, when there is one) and matches colours. */
export async function evaluateStyles(input: StyleEvalInput): Promise<StyleEvalReport> {
  const { G, network: o, data, howMany, device, precision, seed, bank, classId, styles } = input;
  // The palette colours as cars of each colour look in the real photos of these scenes (windows,
  // lights and wheels make a car's mean colour differ from its paint), from the scenes' metadata;
  // the paint colours themselves where a scene has no metadata.
  const paint = CAR_PALETTE.map((p) => [...p.rgb]);
  const refSums = CAR_PALETTE.map(() => [0, 0, 0, 0]);
  const clusters: ClusterFigure[] = [];
  const synthesised: { mean: number[]; perCar: number[][] }[] = [];
  let images = 0;
  let withMeta = 0;
  // With E on the real photos (the upper bound of any style choice): each car's synthesised mean
  // colour and its own palette index.
  let encodedCars: { mean: number[]; palette: number }[] | null = null;
  const encodedPass = async (): Promise<typeof encodedCars> => {
    if (!input.openEncoder || classId !== SCENE_CLASSES.car) return null;
    const E = input.openEncoder();
    const cars: { mean: number[]; palette: number }[] = [];
    try {
      for await (const r of synthesizeDataset(G, o, data, howMany, device, { kind: 'encoder', E }, precision)) {
        const palette = paletteOf(String(data.dataroot), String(data.phase), r.name);
        if (!palette || !r.inst) continue;
        const sums = new Map<number, number[]>();
        for (let p = 0; p < r.inst.length; p++) {
          if (!palette.has(r.inst[p]!)) continue;
          let a = sums.get(r.inst[p]!);
          if (!a) sums.set(r.inst[p]!, (a = [0, 0, 0, 0]));
          for (let c = 0; c < 3; c++) a[c]! += r.synthesized.rgb[p * 3 + c]!;
          a[3]!++;
        }
        for (const [id, a] of sums) cars.push({ mean: [a[0]! / a[3]!, a[1]! / a[3]!, a[2]! / a[3]!], palette: palette.get(id)! });
      }
    } finally {
      E.dispose();
    }
    return cars;
  };
  {
    for (const style of styles.styles) {
      const sum = [0, 0, 0];
      let pixels = 0;
      const perCarMeans: number[][] = [];
      images = 0;
      const features = { kind: 'styles' as const, bank, seed, styles: { classes: new Map([[classId, style.index]]) } };
      for await (const r of synthesizeDataset(G, o, data, howMany, device, features, precision)) {
        if (!r.inst) throw new Error(`${r.labelPath}: style-eval needs the instance map at the synthesised size`);
        images++;
        if (style.index === styles.styles[0]!.index && r.real && classId === SCENE_CLASSES.car) {
          const palette = paletteOf(String(data.dataroot), String(data.phase), r.name);
          if (palette) {
            withMeta++;
            for (let p = 0; p < r.inst.length; p++) {
              const k = palette.get(r.inst[p]!);
              if (k === undefined) continue;
              for (let c = 0; c < 3; c++) refSums[k]![c]! += r.real.rgb[p * 3 + c]!;
              refSums[k]![3]!++;
            }
          }
        }
        const perCar = new Map<number, number[]>();
        const rgb = r.synthesized.rgb;
        for (let p = 0; p < r.inst.length; p++) {
          const id = r.inst[p]!;
          if (classOfInstance(id) !== classId) continue;
          let a = perCar.get(id);
          if (!a) perCar.set(id, (a = [0, 0, 0, 0]));
          for (let k = 0; k < 3; k++) {
            a[k]! += rgb[p * 3 + k]!;
            sum[k]! += rgb[p * 3 + k]!;
          }
          a[3]!++;
          pixels++;
        }
        for (const a of perCar.values()) perCarMeans.push([a[0]! / a[3]!, a[1]! / a[3]!, a[2]! / a[3]!]);
      }
      if (pixels === 0) throw new Error(`no pixel of class ${classId} in the ${images} images of ${String(data.dataroot)} (${String(data.phase)})`);
      synthesised.push({ mean: sum.map((x) => x / pixels), perCar: perCarMeans });
    }
    encodedCars = await encodedPass();
  }
  const seen = refSums.map((r) => (r[3]! > 0 ? r.slice(0, 3).map((x) => x / r[3]!) : null));
  // A palette colour no car of these scenes has is matched by its paint.
  const reference = withMeta > 0 ? seen.map((c, i) => c ?? paint[i]!) : paint;
  const referenceKind = withMeta > 0 ? 'photos' as const : 'paint' as const;
  const round = (c: readonly number[]) => c.map((x) => Math.round(x * 10) / 10) as Rgb;
  styles.styles.forEach((style, i) => {
    const { mean, perCar } = synthesised[i]!;
    const near = nearestOf(mean, reference);
    const votes = perCar.filter((c) => nearestOf(c, reference).index === near.index).length;
    clusters.push({
      cluster: style.index, count: style.count, swatch: style.swatch, swatchNearest: style.swatch ? CAR_PALETTE[nearestOf(style.swatch, reference).index]!.name : null,
      meanColour: round(mean), nearest: CAR_PALETTE[near.index]!.name, nearestPaint: CAR_PALETTE[nearestOf(mean, paint).index]!.name,
      distance: Math.round(near.distance * 10) / 10, carsAgreeing: perCar.length ? votes / perCar.length : 0, cars: perCar.length,
    });
  });
  const recovered = [...new Set(clusters.map((c) => c.nearest))];
  const swatchesRecovered = [...new Set(clusters.map((c) => c.swatchNearest).filter((x): x is string => x !== null))];
  const encoded = encodedCars && encodedCars.length
    ? { cars: encodedCars.length, ownColourNearest: encodedCars.filter((c) => nearestOf(c.mean, reference).index === c.palette).length / encodedCars.length }
    : null;
  const withSwatch = clusters.filter((c) => c.swatchNearest !== null);
  const matchingSwatch = withSwatch.filter((c) => c.swatchNearest === c.nearest).length;
  const report: StyleEvalReport = {
    classId, images, clusters, recovered, encoded, clustersMatchingSwatch: withSwatch.length ? { matching: matchingSwatch, of: withSwatch.length } : null, recoveredByPaint: [...new Set(clusters.map((c) => c.nearestPaint))], swatchesRecovered,
    paletteSize: CAR_PALETTE.length, reference: referenceKind,
    referenceColours: CAR_PALETTE.map((p, i) => ({ name: p.name, paint: [...p.rgb] as Rgb, inPhotos: seen[i] ? round(seen[i]!) : null })),
  };

  return report;
}

/** The report as the command prints it; `header` names the run and the clusters file. */
export function formatStyleEval(report: StyleEvalReport, header: { run: string; clusters: string; className: string; data: Partial<DataOptions> }): string {
  const { clusters, recovered, swatchesRecovered, encoded, images } = report;
  const referenceKind = report.reference;
  const lines: string[] = [];
  const out = { write: (t: string) => { lines.push(t); } };
  const rgb = (c: readonly number[] | null) => (c ? `(${c.map((x) => String(Math.round(x)).padStart(3)).join(', ')})` : '-'.padEnd(15));
  out.write(`run ${header.run}, clusters ${header.clusters}, class ${report.classId} (${header.className}): ${clusters.length} clusters, ${images} images of ${String(header.data.dataroot)} (${String(header.data.phase)})\n`);
  out.write(`cluster objects  swatch           nearest   synthesised cars  nearest   distance  cars agreeing\n`);
  for (const c of clusters) {
    out.write(
      `${String(c.cluster).padStart(7)} ${String(c.count ?? '-').padStart(7)}  ${rgb(c.swatch)}  ${(c.swatchNearest ?? '-').padEnd(8)}  ` +
        `${rgb(c.meanColour)}   ${c.nearest.padEnd(8)}  ${c.distance.toFixed(1).padStart(8)}  ${(100 * c.carsAgreeing).toFixed(0).padStart(5)}% of ${c.cars}\n`,
    );
  }
  out.write(`reference colours (${referenceKind === 'photos' ? 'each palette colour\'s cars in the real photos' : 'the paint colours'}): ` +
    `${report.referenceColours.map((r) => `${r.name} ${rgb(referenceKind === 'photos' ? r.inPhotos : r.paint).replace(/ +/g, ' ')}`).join(', ')}\n`);
  out.write(`palette colours recovered: ${recovered.length} of ${CAR_PALETTE.length} (${recovered.join(', ')}) by the synthesised cars` +
    `${referenceKind === 'photos' ? ` (${report.recoveredByPaint.length} matched to the paint colours)` : ''}; ` +
    `${swatchesRecovered.length} of ${CAR_PALETTE.length} by the clusters' swatches\n`);
  if (report.clustersMatchingSwatch) {
    out.write(`clusters whose synthesised cars match their training cars' palette colour: ${report.clustersMatchingSwatch.matching} of ${report.clustersMatchingSwatch.of}\n`);
  }
  if (encoded) {
    out.write(`with E on the real photos (--use_encoded_image): ${(100 * encoded.ownColourNearest).toFixed(0)}% of ${encoded.cars} cars come out nearest to their own palette colour ` +
      `(chance: ${(100 / CAR_PALETTE.length).toFixed(1)}%)\n`);
  }
  return lines.join('');
}
