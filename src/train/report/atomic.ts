// Whole-file writes that a concurrent reader never sees half done: write a temporary file next
// to the target, flush it, rename it over the target; on any error remove the temporary file and
// leave the target as it was.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export type AtomicContent =
  | string
  | Uint8Array
  | Iterable<string | Uint8Array>
  | AsyncIterable<string | Uint8Array>;

/** The temporary name used for `target` (same folder, so the rename stays on one filesystem). */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** True for the temporary files writeFileAtomic makes (left only if the process dies mid-write). */
export function isTempName(name: string): boolean {
  return /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/.test(name);
}

/**
 * Writes `content` (a string, bytes, or chunks produced as it goes) to `target` atomically.
 * If producing or writing the content throws, the temporary file is removed and the error
 * rethrown; `target` keeps its old content (or stays absent).
 */
export async function writeFileAtomic(target: string, content: AtomicContent): Promise<void> {
  const tmp = tempPathFor(target);
  const fh = await open(tmp, 'wx');
  let closed = false;
  try {
    if (typeof content === 'string' || content instanceof Uint8Array) {
      await fh.writeFile(content);
    } else {
      for await (const chunk of content as AsyncIterable<string | Uint8Array>) {
        if (typeof chunk === 'string') await fh.write(chunk, null, 'utf8');
        else await fh.write(chunk);
      }
    }
    await fh.sync();
    await fh.close();
    closed = true;
    await rename(tmp, target);
  } catch (err) {
    if (!closed) await fh.close().catch(() => {});
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
}
