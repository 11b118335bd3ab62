// The styles a person can choose from: per class, the cluster centres of its objects' features,
// each with a colour swatch (the mean photo colour of the objects in that cluster) to show in an
// editor. Built from a cluster file (ours or the official .npy; the official one has no swatches).
import { className } from '../data/labels.js';
import type { Random } from '../util/rng.js';
import type { FeatureClusters, Rgb } from './cluster-file.js';

export interface Style {
  /** The cluster index: what a styles file or the editor names. */
  index: number;
  /** The feature vector (feat_num values) that fills the object's pixels. */
  center: number[];
  /** Mean colour (0–255) of the training objects of this cluster, or null when unknown. */
  swatch: Rgb | null;
  /** Training objects in this cluster, or null when unknown. */
  count: number | null;
}

export interface ClassStyles {
  classId: number;
  name: string;
  styles: Style[];
}

export class StyleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StyleError';
  }
}

function defaultClassName(clusters: FeatureClusters): (id: number) => string {
  return (id) => className(id, clusters.label_nc);
}

export class StyleBank {
  readonly #classes: Map<number, ClassStyles>;

  constructor(readonly clusters: FeatureClusters, options: { className?: (id: number) => string | undefined } = {}) {
    const name = options.className ?? defaultClassName(clusters);
    this.#classes = new Map();
    for (const [classId, c] of clusters.classes) {
      this.#classes.set(classId, {
        classId,
        name: name(classId) ?? `class ${classId}`,
        styles: c.centers.map((center, index) => ({
          index, center: center.slice(), swatch: c.swatches?.[index] ?? null, count: c.counts?.[index] ?? null,
        })),
      });
    }
  }

  get featNum(): number {
    return this.clusters.feat_num;
  }

  /** Every class that has styles, ascending id, with its styles. */
  classes(): ClassStyles[] {
    return [...this.#classes.values()];
  }

  /** The styles of one class (undefined when it has none). */
  classStyles(classId: number): ClassStyles | undefined {
    return this.#classes.get(classId);
  }

  /** How many styles a class has (0 when none). */
  styleCount(classId: number): number {
    return this.#classes.get(classId)?.styles.length ?? 0;
  }

  /** Style `index` of a class; a clear error when the class has none or the index is out of range. */
  style(classId: number, index: number): Style {
    const c = this.#classes.get(classId);
    if (!c) {
      const have = [...this.#classes.keys()];
      throw new StyleError(`class ${classId} has no styles in ${this.clusters.file ?? 'the cluster file'} (classes with styles: ${have.length ? have.join(', ') : 'none'})`);
    }
    if (!Number.isInteger(index) || index < 0 || index >= c.styles.length) {
      throw new StyleError(`style ${index} does not exist for class ${classId} (${c.name}): it has ${c.styles.length} style${c.styles.length === 1 ? '' : 's'}, 0–${c.styles.length - 1}`);
    }
    return c.styles[index]!;
  }

  /** A style of the class drawn uniformly with `random`, or null when the class has none. */
  randomStyle(classId: number, random: Random): Style | null {
    const c = this.#classes.get(classId);
    if (!c) return null;
    return c.styles[Math.min(c.styles.length - 1, Math.floor(random() * c.styles.length))]!;
  }

  /** Plain data for an HTTP API: feat_num and the classes with their styles. */
  toJSON(): { feat_num: number; classes: ClassStyles[] } {
    return { feat_num: this.featNum, classes: this.classes() };
  }
}
