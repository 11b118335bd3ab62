// Iterations per second, smoothed with an exponential moving average over the observations.

/**
 * Feed it the cumulative iteration count and the time (seconds) at each update; `rate` is the
 * smoothed iterations/s (undefined until two observations `dt > 0` apart). Each new
 * instantaneous rate r = Δcount / Δt moves the estimate by `smoothing`:
 * rate ← smoothing · r + (1 − smoothing) · rate (the first one sets it). An observation at the
 * same instant as the previous one is folded into the next (its count is not lost).
 */
export class RateMeter {
  private lastCount: number | undefined;
  private lastTime: number | undefined;
  private smoothed: number | undefined;

  constructor(readonly smoothing = 0.1) {
    if (!(smoothing > 0 && smoothing <= 1)) throw new RangeError(`smoothing must be in (0, 1], got ${smoothing}`);
  }

  observe(count: number, timeSeconds: number): void {
    if (this.lastCount === undefined || this.lastTime === undefined) {
      this.lastCount = count;
      this.lastTime = timeSeconds;
      return;
    }
    const dt = timeSeconds - this.lastTime;
    if (dt <= 0) return;
    const r = (count - this.lastCount) / dt;
    this.smoothed = this.smoothed === undefined ? r : this.smoothing * r + (1 - this.smoothing) * this.smoothed;
    this.lastCount = count;
    this.lastTime = timeSeconds;
  }

  /** Smoothed iterations per second, or undefined before the second observation. */
  get rate(): number | undefined {
    return this.smoothed;
  }

  /** Forget everything (e.g. after a pause that should not count, like a checkpoint save). */
  reset(): void {
    this.lastCount = this.lastTime = this.smoothed = undefined;
  }
}
