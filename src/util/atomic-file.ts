// The one way this project writes a file that must never be seen half written (checkpoints,
// options, cluster files, pages, images): the bytes go to a temporary file beside the target,
// which is flushed to disk and renamed over the target; on any error the temporary file is
// removed and the target keeps what it had. A process killed mid-write leaves only a temporary
// file, named so that `removeStaleTempFiles` can tell whose it was and clear it later.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export type AtomicContent =
  | string
  | Uint8Array
  | Iterable<string | Uint8Array>
  | AsyncIterable<string | Uint8Array>;

export type AtomicContentSync = string | Uint8Array | Iterable<string | Uint8Array>;

const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** The temporary name used for `target` (same folder, so the rename stays on one filesystem). */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** True for the temporary files the writers here make (left behind only if a process died mid-write). */
export function isTempName(name: string): boolean {
  return TEMP_NAME.test(name);
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files in `dir` left by processes that are no longer running (a writer
 * that was killed); those of live processes are theirs to finish. Returns the names removed.
 */
export function removeStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    // A folder too: a checkpoint generation is staged as a temporary folder.
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Makes a rename in `dir` durable where the platform allows fsync on a folder. */
export function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}

function chunksOf(content: AtomicContentSync): Iterable<string | Uint8Array> {
  return typeof content === 'string' || content instanceof Uint8Array ? [content] : content;
}

/** A file written whole under a temporary name, not yet in place: `commit` renames it over its target. */
export interface StagedFile {
  readonly target: string;
  readonly temp: string;
  commit(): void;
  discard(): void;
}

/**
 * Writes `content` to a temporary file beside `target` and flushes it, leaving the rename to the
 * caller, so that several files can be written first and made current together (a checkpoint).
 * If writing fails the temporary file is removed and the error rethrown.
 */
export function stageFileSync(target: string, content: AtomicContentSync): StagedFile {
  const temp = tempPathFor(target);
  writeDurableFileSync(temp, content);
  return {
    target,
    temp,
    commit() {
      renameSync(temp, target);
      syncDir(dirname(target));
    },
    discard() {
      rmSync(temp, { force: true });
    },
  };
}

/**
 * Creates `path` (which must not exist), writes `content` and flushes it to disk; on failure the
 * file is removed. For files that only become visible by a later rename (of them or their folder).
 */
export function writeDurableFileSync(path: string, content: AtomicContentSync): void {
  let fd: number | undefined = openSync(path, 'wx', 0o644);
  try {
    for (const chunk of chunksOf(content)) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    rmSync(path, { force: true });
    throw e;
  }
}

/** Writes `content` to `target` atomically (synchronously); see the file's comment. */
export function writeFileAtomicSync(target: string, content: AtomicContentSync): void {
  const staged = stageFileSync(target, content);
  try {
    staged.commit();
  } catch (e) {
    staged.discard();
    throw e;
  }
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
  syncDir(dirname(target));
}
