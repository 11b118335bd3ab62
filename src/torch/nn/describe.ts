// Printing modules as torch.nn prints them: Python's notation for the values in a layer's
// arguments (what each layer's extraRepr uses), and the summary the official `--verbose` prints,
// `print(net)` followed by `Total number of parameters: N`.
import type { Module } from './module.js';

/**
 * A number as Python's repr writes a float: `1e-05`, `0.1`, `0.0`, `1.0`, `1e+16`. Shortest
 * round-trip digits, as both languages use; Python writes exponents below 1e-4 or from 1e16 on.
 */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, exp] = x.toExponential().split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 16) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}

/** A boolean as Python writes it. */
export function pyBool(b: boolean): string {
  return b ? 'True' : 'False';
}

/** A tuple of ints as Python writes it: `(3, 3)`, `(1,)`, `()`. */
export function pyTuple(values: readonly number[]): string {
  return values.length === 1 ? `(${values[0]},)` : `(${values.join(', ')})`;
}

/** An int or a tuple of ints, written as given (torch keeps pooling arguments as passed). */
export function pyIntOrTuple(v: number | readonly number[]): string {
  return typeof v === 'number' ? String(v) : pyTuple(v);
}

/**
 * Indents every line but the first of `s` by `spaces` (torch's `_addindent`), so that a child's
 * multi-line repr nests under its `(name): ` line.
 */
export function addIndent(s: string, spaces: number): string {
  const lines = s.split('\n');
  if (lines.length === 1) return s;
  const pad = ' '.repeat(spaces);
  return [lines[0], ...lines.slice(1).map((l) => pad + l)].join('\n');
}

/**
 * What the official `--verbose` prints for one network: its nested repr (`print(net)`), the
 * parameters of each top-level child, and `Total number of parameters: N` (the official
 * `print_network`; frozen parameters count too, as there).
 */
export function networkSummary(name: string, module: Module): string {
  const lines = [`${name}: ${module.describe()}`];
  const children = module.childParameterCounts();
  if (children.length) {
    lines.push(`Parameters of ${name} by child:`);
    const width = Math.max(...children.map(([k]) => k.length));
    for (const [k, n] of children) lines.push(`  ${k.padEnd(width)}  ${n}`);
  }
  lines.push(`Total number of parameters: ${module.parameterCount()}`);
  return lines.join('\n');
}
