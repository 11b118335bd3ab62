// The loss log: one JSON line per report in <runDir>/loss_log.jsonl (machine-readable, read back
// by readLossLog for the curves), and the official plain-text line in <runDir>/loss_log.txt:
//   (epoch: 1, iters: 100, time: 0.123) G_GAN: 0.812 G_GAN_Feat: 5.123 ...
import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../util/atomic-file.js';
import { formatFixedPy } from './format.js';

export interface LossRecord {
  epoch: number;
  /** Iterations within the epoch (the official `epoch_iter`, counted in images). */
  iter: number;
  total_steps: number;
  /** Seconds per iteration over the report interval (the official `t`). */
  time: number;
  /** Generator learning rate at the time of the report. */
  lr: number;
  /** G_GAN, G_GAN_Feat, G_VGG, D_real, D_fake (disabled ones absent). NaN is stored as null. */
  losses: Record<string, number>;
}

export const LOSS_LOG_JSONL = 'loss_log.jsonl';
export const LOSS_LOG_TXT = 'loss_log.txt';

/**
 * The official line: `(epoch: %d, iters: %d, time: %.3f) ` then `name: %.3f ` for every loss
 * that is not exactly 0 (the official leaves out disabled losses that way), trailing space kept.
 */
export function formatLossLine(r: Pick<LossRecord, 'epoch' | 'iter' | 'time' | 'losses'>): string {
  let s = `(epoch: ${Math.trunc(r.epoch)}, iters: ${Math.trunc(r.iter)}, time: ${formatFixedPy(r.time)}) `;
  for (const [k, v] of Object.entries(r.losses)) {
    if (v !== 0) s += `${k}: ${formatFixedPy(v)} `;
  }
  return s;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Python's time.strftime("%c") in the C locale, local time: "Tue Mar  5 14:03:01 2024". */
export function formatCTime(d: Date): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  return (
    `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`
  );
}

export interface LossLogOptions {
  /** Clock for the header line (default: now). */
  now?: () => Date;
  /** Echo each text line to this function as well (e.g. a ProgressBar's log). */
  echo?: (line: string) => void;
}

export class LossLog {
  readonly jsonPath: string;
  readonly txtPath: string;

  /**
   * Opens (creates) both logs under runDir and writes the official header line to the text log.
   * A JSON log left with a torn last line (a crash mid-append) gets a newline first, so the next
   * record starts on its own line and the fragment stays a single skipped line.
   */
  constructor(readonly runDir: string, private readonly opts: LossLogOptions = {}) {
    mkdirSync(runDir, { recursive: true });
    this.jsonPath = join(runDir, LOSS_LOG_JSONL);
    this.txtPath = join(runDir, LOSS_LOG_TXT);
    if (existsSync(this.jsonPath) && !endsWithNewlineOrEmpty(this.jsonPath)) appendFileSync(this.jsonPath, '\n');
    const now = (opts.now ?? (() => new Date()))();
    appendFileSync(this.txtPath, `================ Training Loss (${formatCTime(now)}) ================\n`);
  }

  /**
   * Training (re)starts after step `step`: records of later steps, logged by a run that died
   * before its next save, are about to be logged again. The JSON log drops them (rewritten
   * atomically, so readers see one record per step); the text log, append-only as the official
   * one, gets a line saying that the records after that step above are superseded.
   */
  resumeAt(step: number): number {
    if (!existsSync(this.jsonPath)) return 0;
    const lines = readFileSync(this.jsonPath, 'utf8').split('\n').filter((l) => l.trim() !== '');
    const kept = lines.filter((l) => {
      try {
        const r = JSON.parse(l) as { total_steps?: unknown };
        return typeof r.total_steps === 'number' && r.total_steps <= step;
      } catch {
        return false; // a torn line of the crash
      }
    });
    const dropped = lines.length - kept.length;
    if (dropped === 0) return 0;
    writeFileAtomicSync(this.jsonPath, kept.map((l) => l + '\n').join(''));
    appendFileSync(this.txtPath, `================ Resumed after total_steps ${step}: the ${dropped} record${dropped === 1 ? '' : 's'} logged after it above were replayed below ================\n`);
    return dropped;
  }

  /** Appends the record to both logs; returns the text line (without its newline). */
  append(r: LossRecord): string {
    for (const key of ['epoch', 'iter', 'total_steps', 'time', 'lr'] as const) {
      if (typeof r[key] !== 'number') throw new TypeError(`LossRecord.${key} must be a number, got ${typeof r[key]}`);
    }
    for (const [k, v] of Object.entries(r.losses)) {
      if (typeof v !== 'number') throw new TypeError(`loss ${k} must be a number, got ${typeof v}`);
    }
    const rec = { epoch: r.epoch, iter: r.iter, total_steps: r.total_steps, time: r.time, lr: r.lr, losses: r.losses };
    // One write per line: with O_APPEND a crash leaves at most the last line torn.
    appendFileSync(this.jsonPath, JSON.stringify(rec) + '\n');
    const line = formatLossLine(r);
    appendFileSync(this.txtPath, line + '\n');
    this.opts.echo?.(line);
    return line;
  }
}

function endsWithNewlineOrEmpty(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

export interface ReadLossLogOptions {
  /** Called for each line left out (1-based line number). */
  onSkip?: (line: number, text: string, reason: string) => void;
}

/**
 * Reads loss_log.jsonl back. Lines that do not parse as a record are skipped: a torn last line
 * (a crash mid-append), or such a fragment earlier in the file after a resumed run. NaN losses
 * (stored as null) come back as NaN.
 */
export function readLossLog(path: string, opts: ReadLossLogOptions = {}): LossRecord[] {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const out: LossRecord[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      opts.onSkip?.(i + 1, raw, i === lines.length - 1 ? 'torn last line' : 'not JSON');
      return;
    }
    const rec = toRecord(parsed);
    if (typeof rec === 'string') opts.onSkip?.(i + 1, raw, rec);
    else out.push(rec);
  });
  return out;
}

function toRecord(v: unknown): LossRecord | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  const o = v as Record<string, unknown>;
  for (const key of ['epoch', 'iter', 'total_steps', 'time', 'lr']) {
    if (typeof o[key] !== 'number') return `${key} is not a number`;
  }
  const l = o.losses;
  if (typeof l !== 'object' || l === null || Array.isArray(l)) return 'losses is not an object';
  const losses: Record<string, number> = {};
  for (const [k, x] of Object.entries(l as Record<string, unknown>)) {
    if (typeof x === 'number') losses[k] = x;
    else if (x === null) losses[k] = NaN;
    else return `loss ${k} is not a number`;
  }
  return {
    epoch: o.epoch as number,
    iter: o.iter as number,
    total_steps: o.total_steps as number,
    time: o.time as number,
    lr: o.lr as number,
    losses,
  };
}
