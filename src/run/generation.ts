// A training checkpoint is one generation: every file of one save (networks, optimizers, the
// image pool) is written whole into a temporary folder, the folder is renamed to
// `generations/step-<S>`, and then `latest_state.json` (where training stands, naming that folder
// and the size of each file in it) is renamed into place. That last rename is the commit: before
// it the previous generation is current and complete, after it the new one is. Nothing a crash can
// leave (a temporary folder, a complete folder no state names) is ever loaded, and both are
// removed when training starts again.
//
// The official names stay readable by the official code: after the commit, `latest_net_G.pth`,
// `{epoch}_net_G.pth` (…D, …E) become hard links to the generation's files (copies where the file
// system has no links) and `iter.txt` is rewritten. They are derived from the committed state, so
// a crash halfway through them is repaired at the next start (`settleRunFolder`).
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  removeStaleTempFiles, stageFileSync, syncDir, tempPathFor, writeDurableFileSync, writeFileAtomicSync, type AtomicContentSync,
} from '../util/atomic-file.js';
import { saveOpDone } from '../util/fault-injection.js';

export const GENERATIONS_DIR = 'generations';
export const STATE_FILE = 'latest_state.json';

export interface TrainingState {
  /** The epoch to continue in (1-based) and the items of it already done. */
  epoch: number;
  epochIter: number;
  totalSteps: number;
  /** True once G1 has joined training after niter_fix_global epochs. */
  globalUnfrozen: boolean;
}

/** The files a generation may hold (`<name>.pth`). */
export type GenerationFile = 'net_G' | 'net_D' | 'net_E' | 'net_G_ema' | 'optim_G' | 'optim_D' | 'pool';

/** What `latest_state.json` holds: the training state and the generation it belongs to. */
export interface GenerationRecord extends TrainingState {
  /** The folder under generations/ holding this save's files. */
  generation: string;
  /** Each file of the generation and its size in bytes, checked before anything is loaded. */
  files: Partial<Record<GenerationFile, number>>;
  /** Checkpoint names ('latest', '5') whose official files (`{name}_net_G.pth`, …) are this generation's networks. */
  names: string[];
}

const NETS = ['G', 'D', 'E', 'G_ema'] as const;

export function isGenerationRecord(v: TrainingState): v is GenerationRecord {
  return typeof (v as Partial<GenerationRecord>).generation === 'string';
}

/** The state file's content, whatever its age (a record of this layout, or the plain state of earlier versions). */
export function readStateFile(dir: string): TrainingState | undefined {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: unreadable training state (${(e as Error).message})`);
  }
  const s = value as Partial<GenerationRecord>;
  for (const k of ['epoch', 'epochIter', 'totalSteps'] as const) {
    if (!Number.isInteger(s[k])) throw new Error(`${path}: '${k}' is not an integer: not a training state`);
  }
  return s as TrainingState;
}

export function generationPath(dir: string, record: GenerationRecord, file: GenerationFile): string {
  return join(dir, GENERATIONS_DIR, record.generation, `${file}.pth`);
}

/**
 * Checks that every file the record names is there with its recorded size; the error says which
 * file of which step is missing and the way back (a numbered checkpoint).
 */
export function checkGeneration(dir: string, record: GenerationRecord): void {
  for (const [file, size] of Object.entries(record.files) as [GenerationFile, number][]) {
    const path = generationPath(dir, record, file);
    const problem = !existsSync(path) ? 'is missing' : statSync(path).size !== size ? `has ${statSync(path).size} bytes, not the ${size} written` : null;
    if (!problem) continue;
    const epochs = existsSync(dir) ? readdirSync(dir).map((f) => /^(\d+)_net_G\.pth$/.exec(f)?.[1]).filter(Boolean).map(Number).sort((a, b) => a - b) : [];
    throw new Error(
      `${join(dir, STATE_FILE)} names the checkpoint of step ${record.totalSteps}, but ${path} ${problem}: that checkpoint cannot be resumed. ` +
      (epochs.length ? `Resume from a numbered one with --continue_train --which_epoch N (this run has epochs ${epochs.join(', ')}).` : 'This run has no numbered checkpoint to resume from.'),
    );
  }
}

/** One generation to write: each file's bytes, produced when it is written (one at a time). */
export type GenerationContent = Partial<Record<GenerationFile, () => AtomicContentSync>>;

function freshName(gens: string, totalSteps: number, current: string | undefined): string {
  const base = `step-${String(totalSteps).padStart(8, '0')}`;
  let name = base;
  for (let k = 1; name === current; k++) name = `${base}.${k}`;
  // A folder of that name that no state names is an orphan of a crash: never current, replace it.
  if (existsSync(join(gens, name))) rmSync(join(gens, name), { recursive: true, force: true });
  return name;
}

/**
 * Writes one generation and makes it current (see the file's comment). `names` are the official
 * checkpoint names it provides ('latest', and the epoch at an epoch's end). Returns its record.
 */
export function saveGeneration(dir: string, content: GenerationContent, state: TrainingState, names: string[]): GenerationRecord {
  const gens = join(dir, GENERATIONS_DIR);
  mkdirSync(gens, { recursive: true });
  const previous = readStateFile(dir);
  const current = previous && isGenerationRecord(previous) ? previous.generation : undefined;
  const generation = freshName(gens, state.totalSteps, current);

  // 1. Every file, whole and flushed, in a temporary folder (a crash here leaves only that folder).
  const temp = tempPathFor(join(gens, generation));
  mkdirSync(temp);
  saveOpDone(`mkdir ${temp}`);
  const files: GenerationRecord['files'] = {};
  try {
    for (const [file, bytes] of Object.entries(content) as [GenerationFile, () => AtomicContentSync][]) {
      const path = join(temp, `${file}.pth`);
      writeDurableFileSync(path, bytes());
      files[file] = statSync(path).size;
      saveOpDone(`write ${file}.pth`);
    }
    syncDir(temp);
    renameSync(temp, join(gens, generation));
  } catch (e) {
    rmSync(temp, { recursive: true, force: true });
    throw e;
  }
  syncDir(gens);
  saveOpDone(`rename to ${GENERATIONS_DIR}/${generation}`);

  // 2. The commit: the state file, renamed last.
  const record: GenerationRecord = { ...state, generation, files, names };
  const staged = stageFileSync(join(dir, STATE_FILE), JSON.stringify(record, null, 2) + '\n');
  saveOpDone(`stage ${STATE_FILE}`);
  staged.commit();
  saveOpDone(`commit ${STATE_FILE} (step ${state.totalSteps})`);

  // 3. Derived from the committed state: the official names, and the generations no longer current.
  placeOfficialNames(dir, record, true);
  for (const name of readdirSync(gens)) {
    if (name === generation || name.endsWith('.tmp')) continue;
    rmSync(join(gens, name), { recursive: true, force: true });
    saveOpDone(`remove ${GENERATIONS_DIR}/${name}`);
  }
  return record;
}

function sameFile(a: string, b: string): boolean {
  if (!existsSync(a) || !existsSync(b)) return false;
  const [x, y] = [statSync(a), statSync(b)];
  return x.ino === y.ino && x.dev === y.dev;
}

/** Makes `{name}_net_X.pth` (for each of the record's names) the generation's network X, and iter.txt its state. */
function placeOfficialNames(dir: string, record: GenerationRecord, counted: boolean): number {
  let placed = 0;
  for (const name of record.names) {
    for (const net of NETS) {
      if (record.files[`net_${net}`] === undefined) continue;
      const source = generationPath(dir, record, `net_${net}`);
      const target = join(dir, `${name}_net_${net}.pth`);
      if (sameFile(source, target)) continue;
      const temp = tempPathFor(target);
      try {
        linkSync(source, temp);
      } catch {
        copyFileSync(source, temp); // a file system without hard links
      }
      if (counted) saveOpDone(`link ${name}_net_${net}.pth`);
      renameSync(temp, target);
      if (counted) saveOpDone(`rename ${name}_net_${net}.pth`);
      placed++;
    }
  }
  if (record.names.includes('latest')) {
    // The official train.py reads iter.txt (epoch, then iteration) on --continue_train.
    const iter = `${record.epoch}\n${record.epochIter}\n`;
    const path = join(dir, 'iter.txt');
    if (!existsSync(path) || readFileSync(path, 'utf8') !== iter) {
      writeFileAtomicSync(path, iter);
      if (counted) saveOpDone('write iter.txt');
      placed++;
    }
  }
  syncDir(dir);
  return placed;
}

/**
 * Before training (re)starts: removes what crashed saves left (temporary files and folders of dead
 * processes, generation folders no state names) and puts back the official names of the current
 * generation where a crash came between the commit and them. Returns what it did, for the log.
 */
export function settleRunFolder(dir: string): string[] {
  const done: string[] = [];
  const gens = join(dir, GENERATIONS_DIR);
  const stale = [...removeStaleTempFiles(dir), ...removeStaleTempFiles(gens)];
  if (stale.length) done.push(`removed ${stale.length} temporary file${stale.length === 1 ? '' : 's'} left by an interrupted save`);
  const state = readStateFile(dir);
  const current = state && isGenerationRecord(state) ? state : undefined;
  if (existsSync(gens)) {
    const orphans = readdirSync(gens).filter((n) => n !== current?.generation && !n.endsWith('.tmp'));
    for (const n of orphans) rmSync(join(gens, n), { recursive: true, force: true });
    if (orphans.length) done.push(`removed ${orphans.length} checkpoint folder${orphans.length === 1 ? '' : 's'} of a save that never completed (${orphans.join(', ')})`);
  }
  if (current) {
    try {
      checkGeneration(dir, current);
    } catch {
      // Damaged: resuming from it says so; --which_epoch N still works, and the next save replaces it.
      return done;
    }
    const placed = placeOfficialNames(dir, current, false);
    if (placed) done.push(`restored ${placed} checkpoint file${placed === 1 ? '' : 's'} of step ${current.totalSteps} that an interrupted save had not yet put in place`);
  }
  return done;
}
