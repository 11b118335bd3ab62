// The progress line's text, as pure functions of the numbers (no clock, no stream).
import { formatDuration, formatLosses, formatSig, renderBar } from './format.js';

export interface ProgressState {
  /** 1-based epoch. */
  epoch: number;
  totalEpochs: number;
  /** Iterations done within this epoch (same unit as epochSize: the official counts images). */
  iter: number;
  epochSize: number;
  /** Smoothed iterations/s; undefined while unknown. */
  rate: number | undefined;
  /** Seconds left in the whole run; undefined while unknown. */
  etaSeconds: number | undefined;
  losses?: Readonly<Record<string, number>>;
}

export interface ProgressFormat {
  /** Draw a bar (the TTY form); without one the epoch's percentage is printed instead. */
  bar: boolean;
  /** Inner width of the bar in cells (default 30); shrunk or dropped to fit `columns`. */
  barWidth?: number;
  /** Terminal width: the line is made to fit in columns − 1 cells (so `\r` redraws cleanly). */
  columns?: number;
}

/** Iterations done since the start of epoch 1 (epochs before `epoch` counted as full). */
export function runIterations(epoch: number, iter: number, epochSize: number): number {
  return (epoch - 1) * epochSize + iter;
}

/**
 * Seconds left in the run: the iterations left in this epoch and in the epochs after it, at
 * `rate` iterations/s. Undefined when the rate is unknown or not positive.
 */
export function etaSeconds(
  epoch: number,
  iter: number,
  epochSize: number,
  totalEpochs: number,
  rate: number | undefined,
): number | undefined {
  if (rate === undefined || !(rate > 0) || !Number.isFinite(rate)) return undefined;
  const left = Math.max(0, totalEpochs * epochSize - runIterations(epoch, iter, epochSize));
  return left / rate;
}

/** The progress line, e.g. `epoch 3/200 120/2975 [###...] 4.21 it/s ETA 1:23:45 G_GAN=0.812`. */
export function formatProgressLine(s: ProgressState, f: ProgressFormat): string {
  const head = `epoch ${s.epoch}/${s.totalEpochs} ${s.iter}/${s.epochSize}`;
  const fraction = s.epochSize > 0 ? s.iter / s.epochSize : 0;
  const rate = s.rate === undefined ? '? it/s' : `${formatSig(s.rate)} it/s`;
  const tail = [rate, `ETA ${formatDuration(s.etaSeconds ?? NaN)}`];
  const losses = s.losses ? formatLosses(s.losses) : '';
  if (losses) tail.push(losses);
  const tailText = tail.join(' ');
  if (!f.bar) {
    const pct = `(${Math.floor(Math.min(1, Math.max(0, fraction)) * 100)}%)`;
    return `${head} ${pct} ${tailText}`;
  }
  let barWidth = f.barWidth ?? 30;
  if (f.columns !== undefined) {
    const room = f.columns - 1 - head.length - tailText.length - 2 /* spaces */ - 2; /* brackets */
    barWidth = Math.min(barWidth, room);
  }
  const line = barWidth >= 5 ? `${head} ${renderBar(fraction, barWidth)} ${tailText}` : `${head} ${tailText}`;
  if (f.columns !== undefined && line.length > f.columns - 1) return line.slice(0, Math.max(0, f.columns - 1));
  return line;
}

/**
 * Whether a plain (non-TTY) line is due: the run's iteration count crossed a multiple of
 * `printFreq` between the previous update (`prevDone`) and this one (`done`). With a batch size
 * that does not divide printFreq this still prints once per printFreq iterations.
 */
export function crossesPrintPoint(prevDone: number, done: number, printFreq: number): boolean {
  if (!(printFreq > 0)) return false;
  return Math.floor(done / printFreq) > Math.floor(prevDone / printFreq);
}
