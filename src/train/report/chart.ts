// Loss curves as an inline SVG: one polyline per loss against total_steps, axes with tick
// labels, a legend, and a centred moving average in place of the raw values when there are many.
import { escapeHtml } from '../../report/html.js';
import { formatSig } from './format.js';
import type { LossRecord } from './loss-log.js';

export interface ChartLayout {
  width: number;
  height: number;
  margin: { left: number; right: number; top: number; bottom: number };
}

/** Plot area: x from 64 to 630, y from 16 (top) to 316 (bottom); the legend sits right of it. */
export const DEFAULT_CHART_LAYOUT: ChartLayout = {
  width: 800,
  height: 360,
  margin: { left: 64, right: 170, top: 16, bottom: 44 },
};

export interface Series {
  name: string;
  xs: number[];
  ys: number[];
}

export interface ChartOptions {
  layout?: ChartLayout;
  /** Above this many points a series is drawn as its moving average (default 200). */
  smoothAbove?: number;
  /** Most points per polyline; longer series are thinned evenly, first and last kept (default 1000). */
  maxPoints?: number;
  /** Target number of ticks per axis (default 6). */
  ticks?: number;
}

/** One series per loss name (in order of first appearance), x = total_steps; NaN/∞ left out. */
export function lossSeries(records: readonly LossRecord[]): Series[] {
  const byName = new Map<string, Series>();
  for (const r of records) {
    for (const [name, v] of Object.entries(r.losses)) {
      let s = byName.get(name);
      if (!s) byName.set(name, (s = { name, xs: [], ys: [] }));
      if (Number.isFinite(v) && Number.isFinite(r.total_steps)) {
        s.xs.push(r.total_steps);
        s.ys.push(v);
      }
    }
  }
  return [...byName.values()];
}

/**
 * Centred moving average: element i is the mean of values[i − h .. i + h] (h = ⌊window/2⌋),
 * the window shrinking at both ends so the curve neither lags nor changes length.
 */
export function movingAverage(values: readonly number[], window: number): number[] {
  const n = values.length;
  const h = Math.max(0, Math.floor(window / 2));
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + values[i]!;
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const lo = Math.max(0, i - h);
    const hi = Math.min(n - 1, i + h);
    out[i] = (prefix[hi + 1]! - prefix[lo]!) / (hi - lo + 1);
  }
  return out;
}

function niceStep(raw: number): number {
  const exp = Math.floor(Math.log10(raw));
  const base = 10 ** exp;
  const f = raw / base;
  const nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  return nf * base;
}

/**
 * Round tick values covering [min, max] with about `count` ticks at a 1/2/5×10^k step; the
 * first and last tick are the axis domain. E.g. (100, 1000) → 0, 200, …, 1000; (0.5, 4.5) → 0…5.
 */
export function niceTicks(min: number, max: number, count = 6): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const step = niceStep((max - min) / Math.max(1, count - 1));
  const k0 = Math.floor(min / step + 1e-9);
  const k1 = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let k = k0; k <= k1; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

function tickLabel(v: number, step: number): string {
  if (Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-4)) return formatSig(v);
  const decimals = step >= 1 ? 0 : Math.min(10, Math.ceil(-Math.log10(step) - 1e-9));
  return v.toFixed(decimals);
}

/** tab10 */
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const num = (v: number) => String(Math.round(v * 100) / 100);

export interface ChartMapping {
  xDomain: [number, number];
  yDomain: [number, number];
  /** Data → SVG coordinates. */
  px(x: number): number;
  py(y: number): number;
}

/** The domains and coordinate mapping the chart uses for these (already smoothed) series. */
export function chartMapping(series: readonly Series[], layout: ChartLayout = DEFAULT_CHART_LAYOUT, ticks = 6) {
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  for (const s of series) {
    for (const x of s.xs) (xmin = Math.min(xmin, x)), (xmax = Math.max(xmax, x));
    for (const y of s.ys) (ymin = Math.min(ymin, y)), (ymax = Math.max(ymax, y));
  }
  const xt = niceTicks(xmin, xmax, ticks);
  const yt = niceTicks(ymin, ymax, ticks);
  const { width, height, margin } = layout;
  const left = margin.left, right = width - margin.right, top = margin.top, bottom = height - margin.bottom;
  const xDomain: [number, number] = [xt[0]!, xt[xt.length - 1]!];
  const yDomain: [number, number] = [yt[0]!, yt[yt.length - 1]!];
  const mapping: ChartMapping = {
    xDomain,
    yDomain,
    px: (x) => left + ((x - xDomain[0]) / (xDomain[1] - xDomain[0])) * (right - left),
    py: (y) => bottom - ((y - yDomain[0]) / (yDomain[1] - yDomain[0])) * (bottom - top),
  };
  return { mapping, xTicks: xt, yTicks: yt, left, right, top, bottom };
}

/** The series as drawn: smoothed when long, then thinned to maxPoints (last point kept). */
export function preparedSeries(records: readonly LossRecord[], opts: ChartOptions = {}): { series: Series[]; window: number } {
  const smoothAbove = opts.smoothAbove ?? 200;
  const maxPoints = opts.maxPoints ?? 1000;
  const raw = lossSeries(records);
  const longest = Math.max(0, ...raw.map((s) => s.ys.length));
  const window = longest > smoothAbove ? Math.max(2, Math.ceil(longest / 100)) : 1;
  const series = raw.map((s) => {
    const ys = window > 1 ? movingAverage(s.ys, window) : s.ys.slice();
    const xs = s.xs.slice();
    if (xs.length <= maxPoints) return { name: s.name, xs, ys };
    // maxPoints indices spread evenly from the first to the last point.
    const m = Math.max(2, maxPoints);
    const keep = Array.from({ length: m }, (_, k) => Math.round((k * (xs.length - 1)) / (m - 1)));
    return { name: s.name, xs: keep.map((i) => xs[i]!), ys: keep.map((i) => ys[i]!) };
  });
  return { series, window };
}

/** The loss chart as an `<svg>` element (self-contained, every text escaped). */
export function renderLossChart(records: readonly LossRecord[], opts: ChartOptions = {}): string {
  const layout = opts.layout ?? DEFAULT_CHART_LAYOUT;
  const { width, height } = layout;
  const { series, window } = preparedSeries(records, opts);
  const drawn = series.filter((s) => s.xs.length > 0);
  const open = `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="loss curves" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui,sans-serif" font-size="11">`;
  if (drawn.length === 0) {
    return `${open}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#666">no losses logged yet</text></svg>`;
  }
  const { mapping, xTicks, yTicks, left, right, top, bottom } = chartMapping(drawn, layout, opts.ticks ?? 6);
  const out: string[] = [open];
  const xStep = xTicks.length > 1 ? xTicks[1]! - xTicks[0]! : 1;
  const yStep = yTicks.length > 1 ? yTicks[1]! - yTicks[0]! : 1;
  out.push('<g class="grid" stroke="#eee" stroke-width="1">');
  for (const t of yTicks) out.push(`<line x1="${left}" x2="${right}" y1="${num(mapping.py(t))}" y2="${num(mapping.py(t))}"/>`);
  for (const t of xTicks) out.push(`<line x1="${num(mapping.px(t))}" x2="${num(mapping.px(t))}" y1="${top}" y2="${bottom}"/>`);
  out.push('</g>');
  out.push(`<g class="axes" stroke="#333" stroke-width="1"><line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}"/><line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}"/></g>`);
  out.push('<g class="x-ticks" fill="#333" text-anchor="middle">');
  for (const t of xTicks) out.push(`<text x="${num(mapping.px(t))}" y="${bottom + 16}">${escapeHtml(tickLabel(t, xStep))}</text>`);
  out.push('</g><g class="y-ticks" fill="#333" text-anchor="end">');
  for (const t of yTicks) out.push(`<text x="${left - 6}" y="${num(mapping.py(t) + 4)}">${escapeHtml(tickLabel(t, yStep))}</text>`);
  out.push('</g>');
  out.push(`<text x="${(left + right) / 2}" y="${height - 6}" text-anchor="middle" fill="#333">total steps</text>`);
  out.push(`<text transform="translate(14 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#333">${window > 1 ? `loss (moving average of ${window})` : 'loss'}</text>`);
  drawn.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts = s.xs.map((x, j) => `${num(mapping.px(x))},${num(mapping.py(s.ys[j]!))}`).join(' ');
    out.push(`<polyline class="loss" data-loss="${escapeHtml(s.name)}" fill="none" stroke="${color}" stroke-width="1.5" stroke-linejoin="round" points="${pts}"/>`);
  });
  out.push('<g class="legend">');
  drawn.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const y = top + 8 + i * 18;
    const lx = right + 16;
    const last = s.ys[s.ys.length - 1]!;
    out.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="3"/>` +
        `<text x="${lx + 24}" y="${y + 4}" fill="#222">${escapeHtml(s.name)} ${escapeHtml(formatSig(last))}</text>`,
    );
  });
  out.push('</g></svg>');
  return out.join('\n');
}
