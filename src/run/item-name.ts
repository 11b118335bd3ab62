// A data set item's name, as the official results name it (in its own file: synthesis through an
// exported model names its results without loading libtorch).
import { basename, extname } from 'node:path';

/** The label file's name without extension. */
export function itemName(path: string | undefined): string {
  return path ? basename(path, extname(path)) : '';
}
