// Parses a command line into typed option values: official option names, values checked against
// their kind, choices and range, unknown options rejected with the closest known name.
import { parseArgs } from 'node:util';
import { defaultsFor, OPTION_DEFS, OPTIONS_BY_NAME, type NumericRange, type OptionDef, type OptionGroup, type OptionValue } from './definitions.js';

export interface ParsedOptions {
  values: Record<string, OptionValue>;
  /** Options the user gave explicitly (not defaults). */
  explicit: Set<string>;
  positionals: string[];
}

export class OptionError extends Error {}

function convert(def: OptionDef, raw: string): OptionValue {
  if (def.kind === 'int') {
    const v = raw === 'inf' ? Number.POSITIVE_INFINITY : Number(raw);
    if (raw.trim() === '' || !(Number.isInteger(v) || v === Number.POSITIVE_INFINITY)) {
      throw new OptionError(`--${def.name} takes an integer, got '${raw}'`);
    }
    if (def.choices && !def.choices.includes(String(v))) throw new OptionError(`--${def.name} must be one of ${def.choices.join(', ')}, got '${raw}'`);
    return inRange(def, v, raw);
  }
  if (def.kind === 'float') {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v)) throw new OptionError(`--${def.name} takes a number, got '${raw}'`);
    return inRange(def, v, raw);
  }
  if (def.choices && !def.choices.includes(raw)) throw new OptionError(`--${def.name} must be one of ${def.choices.join(', ')}, got '${raw}'`);
  const problem = def.check?.(raw);
  if (problem !== undefined) throw new OptionError(`--${def.name}: ${problem}`);
  return raw;
}

/** The option's range as words: "at least 1", "in [0, 1)", "above 0". */
export function describeRange(r: NumericRange): string {
  const low = r.min !== undefined ? `[${r.min}` : r.above !== undefined ? `(${r.above}` : undefined;
  const high = r.max !== undefined ? `${r.max}]` : r.below !== undefined ? `${r.below})` : undefined;
  if (low && high) return `in ${low}, ${high}`;
  if (low) return r.min !== undefined ? `at least ${r.min}` : `above ${r.above}`;
  if (high) return r.max !== undefined ? `at most ${r.max}` : `below ${r.below}`;
  return 'any number';
}

/** Refuses a value outside the option's range, naming the option, the range and what it is for. */
function inRange(def: OptionDef, v: number, raw: string): number {
  const r = def.range;
  if (!r) return v;
  const ok = (r.min === undefined || v >= r.min) && (r.max === undefined || v <= r.max)
    && (r.below === undefined || v < r.below) && (r.above === undefined || v > r.above);
  if (!ok) throw new OptionError(`--${def.name} must be ${describeRange(r)} (${def.help}), got '${raw}'`);
  return v;
}

function closest(name: string, candidates: string[]): string | undefined {
  const dist = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length]![b.length]!;
  };
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dd = dist(name.toLowerCase(), c.toLowerCase());
    if (dd < bestD) { bestD = dd; best = c; }
  }
  return bestD <= Math.max(2, name.length / 3) ? best : undefined;
}

/**
 * `--lr -1` as `--lr=-1`: Python's argparse takes a negative number as an option's value (the
 * official scripts write `--gpu_ids -1`), node's parseArgs calls it ambiguous; joined, the value
 * reaches the kind and range checks, which say what is wrong with it.
 */
function joinNegativeValues(argv: readonly string[], byName: ReadonlyMap<string, OptionDef>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const def = arg.startsWith('--') && !arg.includes('=') ? byName.get(arg.slice(2)) : undefined;
    if (def && def.kind !== 'flag' && next !== undefined && /^-(\d|\.\d|inf$)/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/**
 * Parses argv for a command taking the options of `groups` (plus `extra` definitions of its
 * own); `commandDefaults` overrides defaults (test's phase is 'test').
 */
export function parseOptions(
  argv: string[], groups: readonly OptionGroup[],
  opts: { extra?: readonly OptionDef[]; commandDefaults?: Record<string, OptionValue>; allowPositionals?: boolean } = {},
): ParsedOptions {
  const defs = [...OPTION_DEFS.filter((d) => d.groups.some((g) => groups.includes(g))), ...(opts.extra ?? [])];
  const byName = new Map(defs.map((d) => [d.name, d]));
  const config: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const d of defs) config[d.name] = { type: d.kind === 'flag' ? 'boolean' : 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, byName), options: config, strict: true, allowPositionals: opts.allowPositionals ?? false });
  } catch (e) {
    const msg = (e as Error).message;
    const m = /Unknown option '--?([^']+)'/.exec(msg);
    if (m) {
      const known = OPTIONS_BY_NAME.has(m[1]!) ? ` (it belongs to another command)` : '';
      const hint = closest(m[1]!, [...byName.keys()]);
      throw new OptionError(`unknown option --${m[1]}${known}${hint ? `; did you mean --${hint}?` : ''}`);
    }
    throw new OptionError(msg.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const values: Record<string, OptionValue> = { ...defaultsFor(groups), ...(opts.commandDefaults ?? {}) };
  for (const d of opts.extra ?? []) values[d.name] = opts.commandDefaults?.[d.name] ?? d.default;
  const explicit = new Set<string>();
  for (const [k, v] of Object.entries(parsed.values)) {
    const def = byName.get(k)!;
    values[k] = def.kind === 'flag' ? Boolean(v) : convert(def, String(v));
    explicit.add(k);
  }
  return { values, explicit, positionals: parsed.positionals };
}

/** `--help` text for a command: each option with its default and help. */
export function helpText(usage: string, description: string, groups: readonly OptionGroup[], extra: readonly OptionDef[] = [], commandDefaults: Record<string, OptionValue> = {}): string {
  const defs = [...OPTION_DEFS.filter((d) => d.groups.some((g) => groups.includes(g))), ...extra];
  const lines = defs.map((d) => {
    const def = commandDefaults[d.name] ?? d.default;
    const shown = d.kind === 'flag' ? '' : ` ${d.kind === 'string' ? `<${d.choices ? d.choices.join('|') : 'text'}>` : `<${d.kind}>`} (default ${def === Number.POSITIVE_INFINITY ? 'inf' : JSON.stringify(def)}${d.range ? `; ${describeRange(d.range)}` : ''})`;
    return `  --${d.name}${shown}\n      ${d.help}`;
  });
  return `usage: ${usage}\n\n${description}\n\noptions:\n${lines.join('\n')}\n`;
}
