// What a label id means, in one place for every command: class names (Cityscapes' for its
// 34/35-class setups, "class N" otherwise), which classes are "things" with instances, and the
// check that a label map holds only class ids (a lossy or wrong map holds others).
import { CITYSCAPES_LABELS } from './colorize.js';

/**
 * Whether label_nc means Cityscapes' ids: 35 (the official setting, with the license plate) or
 * 34. `null` is a label count not recorded (the official .npy cluster files), which are Cityscapes'.
 */
export function usesCityscapesClasses(labelNc: number | null): boolean {
  return labelNc === null || labelNc === 34 || labelNc === 35;
}

/** The name of class `id` under label_nc (Cityscapes' names, else "class id"). */
export function className(id: number, labelNc: number | null): string {
  return (usesCityscapesClasses(labelNc) ? CITYSCAPES_LABELS[id]?.name : undefined) ?? `class ${id}`;
}

/** Cityscapes' classes with instances (labels.py's hasInstances). */
const CITYSCAPES_THINGS: ReadonlySet<number> = new Set([24, 25, 26, 27, 28, 29, 30, 31, 32, 33]);

/** Whether class `id` has instances (objects): Cityscapes' own list, otherwise every class but 0. */
export function isThing(id: number, labelNc: number | null): boolean {
  return usesCityscapesClasses(labelNc) ? CITYSCAPES_THINGS.has(id) : id > 0;
}

/** The ids ≥ label_nc in a label map, each with its pixel count (ascending id), or null when there are none. */
export function labelIdsOutside(ids: ArrayLike<number>, labelNc: number): Map<number, number> | null {
  let bad: Map<number, number> | null = null;
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i] as number;
    if (v >= labelNc) (bad ??= new Map()).set(v, (bad.get(v) ?? 0) + 1);
  }
  return bad && new Map([...bad].sort(([a], [b]) => a - b));
}

/** "id 40 (12 px)" / "ids 35 (3 px), 40 (12 px), …" — at most `limit` of them, then how many in all. */
export function describeLabelIds(bad: ReadonlyMap<number, number>, limit: number): string {
  const ids = [...bad.keys()];
  const shown = ids.slice(0, limit).map((v) => `${v} (${bad.get(v)} px)`).join(', ');
  return `${ids.length === 1 ? 'id' : 'ids'} ${shown}${ids.length > limit ? `, … (${ids.length} in all)` : ''}`;
}
