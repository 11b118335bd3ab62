// The terminal progress bar: redraws one line in place with `\r` on a TTY, prints a plain line
// every `printFreq` iterations otherwise (CI logs). The clock and the stream are injectable.
import { RateMeter } from './rate.js';
import { crossesPrintPoint, etaSeconds, formatProgressLine, runIterations, type ProgressState } from './progress-format.js';

/** What the bar writes to: process.stdout fits, and so does a test double. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressBarOptions {
  /** Epochs in the whole run (niter + niter_decay). */
  totalEpochs: number;
  /** Iterations per epoch, in the unit `update` counts in (the official counts images). */
  epochSize: number;
  /** Non-TTY: print a line each time the run's iteration count crosses a multiple (default 100). */
  printFreq?: number;
  /** Default process.stdout. */
  stream?: ProgressStream;
  /** Redraw in place (default: stream.isTTY). */
  tty?: boolean;
  /** Milliseconds, monotonic (default performance.now). */
  now?: () => number;
  /** Weight of each new rate sample in the moving average (default 0.1). */
  smoothing?: number;
  /** Bar cells (default 30). */
  barWidth?: number;
  /** TTY: least time between redraws in ms (default 100); the end of an epoch always draws. */
  minRedrawMs?: number;
}

export interface ProgressUpdate {
  /** 1-based epoch. */
  epoch: number;
  /** Iterations done within the epoch (after this one). */
  iter: number;
  losses?: Readonly<Record<string, number>>;
}

export class ProgressBar {
  readonly tty: boolean;
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly meter: RateMeter;
  private readonly printFreq: number;
  private prevDone: number | undefined;
  private lastDrawMs = -Infinity;
  private lineShown = false;
  private lastState: ProgressState | undefined;

  constructor(readonly opts: ProgressBarOptions) {
    if (!(opts.totalEpochs > 0) || !(opts.epochSize > 0)) {
      throw new RangeError(`totalEpochs and epochSize must be positive (got ${opts.totalEpochs}, ${opts.epochSize})`);
    }
    this.stream = opts.stream ?? process.stdout;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
    this.now = opts.now ?? (() => performance.now());
    this.meter = new RateMeter(opts.smoothing ?? 0.1);
    this.printFreq = opts.printFreq ?? 100;
  }

  /** The state the last update produced (rate, ETA, …), for callers that log it elsewhere. */
  get state(): ProgressState | undefined {
    return this.lastState;
  }

  update(u: ProgressUpdate): void {
    const t = this.now();
    const { epochSize, totalEpochs } = this.opts;
    const done = runIterations(u.epoch, u.iter, epochSize);
    this.meter.observe(done, t / 1000);
    const rate = this.meter.rate;
    const state: ProgressState = {
      epoch: u.epoch,
      totalEpochs,
      iter: u.iter,
      epochSize,
      rate,
      etaSeconds: etaSeconds(u.epoch, u.iter, epochSize, totalEpochs, rate),
      losses: u.losses,
    };
    this.lastState = state;
    const prev = this.prevDone ?? done - 1;
    this.prevDone = done;
    if (this.tty) {
      if (t - this.lastDrawMs >= (this.opts.minRedrawMs ?? 100) || u.iter >= epochSize) this.draw(t);
    } else if (crossesPrintPoint(prev, done, this.printFreq)) {
      this.stream.write(formatProgressLine(state, { bar: false }) + '\n');
    }
  }

  /** A message on its own line (e.g. "saving the latest model"); the bar is redrawn below it. */
  log(message: string): void {
    if (this.tty && this.lineShown) {
      this.stream.write(`\r\x1b[K${message}\n`);
      this.lineShown = false;
      this.draw(this.now());
    } else {
      this.stream.write(message + '\n');
    }
  }

  /** Ends the epoch's line and prints the official end-of-epoch message. */
  endEpoch(epoch: number, seconds: number): void {
    if (this.tty && this.lastState) this.draw(this.now());
    this.finishLine();
    this.stream.write(`End of epoch ${epoch} / ${this.opts.totalEpochs} \t Time Taken: ${Math.floor(seconds)} sec\n`);
  }

  /** Leaves the cursor on a fresh line. */
  close(): void {
    this.finishLine();
  }

  /** Forget the rate (after a pause that should not count against it, e.g. a long save). */
  resetRate(): void {
    this.meter.reset();
  }

  private draw(t: number): void {
    if (!this.lastState) return;
    const line = formatProgressLine(this.lastState, {
      bar: true,
      barWidth: this.opts.barWidth,
      columns: this.stream.columns,
    });
    this.stream.write(`\r${line}\x1b[K`);
    this.lineShown = true;
    this.lastDrawMs = t;
  }

  private finishLine(): void {
    if (this.tty && this.lineShown) {
      this.stream.write('\n');
      this.lineShown = false;
    }
  }
}
