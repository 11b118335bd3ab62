// Pure number and duration formatting shared by the progress bar, the loss log and the pages.

/**
 * A number with 3 significant digits, without exponent notation for everyday magnitudes:
 * 0.8123 → "0.812", 5.1 → "5.10", 12.345 → "12.3", 1234 → "1230", 0.0001234 → "0.000123".
 * Magnitudes below 1e-4 or from 1e6 up use exponent notation ("1.23e-5"); NaN → "nan",
 * ±Infinity → "inf" / "-inf" (as Python prints them, so logs read the same).
 */
export function formatSig(x: number, digits = 3): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return '0';
  const r = Number(x.toPrecision(digits)); // rounding first settles 999.6 → 1000 before the branch
  const a = Math.abs(r);
  if (a < 1e-4 || a >= 1e6) return r.toExponential(digits - 1);
  if (a >= 10 ** (digits - 1)) return r.toFixed(0);
  return r.toPrecision(digits);
}

/**
 * Python's `'%.3f' % x` (or any `%.Nf`): like Number#toFixed, except that an exact tie rounds to
 * even as Python does (0.0625 → "0.062", where toFixed gives "0.063"), and NaN/Infinity print
 * as "nan"/"inf".
 */
export function formatFixedPy(x: number, decimals = 3): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  // x is an exact tie at `decimals` places iff x·10^d = n + ½ exactly; for a binary double that
  // means x = q / 2^(d+1) with q odd (the 5^d must divide the numerator). The multiplication by
  // a power of two is exact, so this test is too.
  const q = Math.abs(x) * 2 ** (decimals + 1);
  if (Number.isInteger(q) && q % 2 === 1 && q * 5 ** decimals < Number.MAX_SAFE_INTEGER) {
    const twice = q * 5 ** decimals; // = 2n + 1
    const n = (twice - 1) / 2;
    const even = n % 2 === 0 ? n : n + 1;
    const unit = 10 ** decimals;
    const whole = Math.floor(even / unit);
    const frac = String(even % unit).padStart(decimals, '0');
    const body = decimals > 0 ? `${whole}.${frac}` : `${whole}`;
    return x < 0 ? `-${body}` : body;
  }
  return x.toFixed(decimals);
}

/**
 * A duration in seconds as h:mm:ss (hours unbounded: "123:04:05"); unknown or infinite
 * durations (no rate yet) print as "--:--:--". Rounds to the nearest second.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--:--';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

/** Losses as "name=value" pairs (3 significant digits), space-separated, in insertion order. */
export function formatLosses(losses: Readonly<Record<string, number>>): string {
  return Object.entries(losses)
    .map(([k, v]) => `${k}=${formatSig(v)}`)
    .join(' ');
}

/** A text bar `[#####.....]` of `width` cells (inner), filled to `fraction` (clamped to [0, 1]). */
export function renderBar(fraction: number, width: number): string {
  const w = Math.max(0, Math.floor(width));
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.floor(f * w + 1e-9);
  return `[${'#'.repeat(filled)}${'.'.repeat(w - filled)}]`;
}
