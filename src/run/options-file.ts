// A run's options live beside its checkpoints: opt.txt in the official format (for people and
// the official tools) and opt.json (for this project). test, serve and encode-features read them
// so that architecture options never have to be repeated by hand; an explicit option that
// contradicts the saved run is an error naming both values.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPTIONS_BY_NAME, type OptionValue } from '../options/definitions.js';
import { OptionError, type ParsedOptions } from '../options/parse.js';
import { writeFileAtomicSync } from '../util/atomic-file.js';

export function runDir(values: Record<string, OptionValue>): string {
  return join(String(values.checkpoints_dir), String(values.name));
}

function show(v: OptionValue): string {
  if (v === Number.POSITIVE_INFINITY) return 'inf';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

/** Python's str() of a float: 10.0, 0.0002, 1e-05 (exponent below 1e-4 and from 1e16, two digits at least). */
function pyFloatText(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const abs = Math.abs(x);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [mantissa, exp] = x.toExponential().split('e') as [string, string];
    const e = Number(exp);
    return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

/** A value as the official opt.txt shows it (str() of the Python value: floats keep their '.0'). */
function showForTxt(key: string, v: OptionValue): string {
  return OPTIONS_BY_NAME.get(key)?.kind === 'float' && typeof v === 'number' ? pyFloatText(v) : show(v);
}

/** Writes opt.txt (the official format) and opt.json into the run folder. */
export function saveRunOptions(dir: string, values: Record<string, OptionValue>): void {
  mkdirSync(dir, { recursive: true });
  const keys = Object.keys(values).sort();
  const txt = ['------------ Options -------------', ...keys.map((k) => `${k}: ${showForTxt(k, values[k]!)}`), '-------------- End ----------------', ''].join('\n');
  writeFileAtomicSync(join(dir, 'opt.txt'), txt);
  const json: Record<string, OptionValue | string> = {};
  for (const k of keys) json[k] = values[k] === Number.POSITIVE_INFINITY ? 'inf' : values[k]!;
  writeFileAtomicSync(join(dir, 'opt.json'), JSON.stringify(json, null, 2) + '\n');
}

/** The options a run was trained with (opt.json, else the official opt.txt), or undefined. */
export function loadRunOptions(dir: string): Record<string, OptionValue> | undefined {
  const jsonPath = join(dir, 'opt.json');
  if (existsSync(jsonPath)) {
    let raw: Record<string, OptionValue>;
    try {
      raw = JSON.parse(readFileSync(jsonPath, 'utf8')) as Record<string, OptionValue>;
    } catch (e) {
      throw new OptionError(`${jsonPath}: not valid JSON (${(e as Error).message})`);
    }
    for (const [k, v] of Object.entries(raw)) if (v === 'inf') raw[k] = Number.POSITIVE_INFINITY;
    return raw;
  }
  const txtPath = join(dir, 'opt.txt');
  if (!existsSync(txtPath)) return undefined;
  const out: Record<string, OptionValue> = {};
  for (const line of readFileSync(txtPath, 'utf8').split('\n')) {
    const m = /^([A-Za-z_0-9]+): (.*)$/.exec(line.trim());
    if (!m) continue;
    const def = OPTIONS_BY_NAME.get(m[1]!);
    if (!def) continue;
    const text = m[2]!;
    if (def.kind === 'flag') out[def.name] = text === 'True';
    else if (def.kind === 'int' || def.kind === 'float') out[def.name] = text === 'inf' ? Number.POSITIVE_INFINITY : Number(text);
    else out[def.name] = text;
  }
  return out;
}

/**
 * Fills architecture options from the saved run: a value the user did not give is taken from the
 * run; a value the user gave that differs from the run's is an error naming both.
 */
export function applyRunOptions(parsed: ParsedOptions, dir: string): { values: Record<string, OptionValue>; fromRun: boolean } {
  const saved = loadRunOptions(dir);
  if (!saved) return { values: parsed.values, fromRun: false };
  const values = { ...parsed.values };
  const conflicts: string[] = [];
  for (const [k, v] of Object.entries(saved)) {
    const def = OPTIONS_BY_NAME.get(k);
    if (!def?.architecture) continue;
    if (parsed.explicit.has(k) && parsed.values[k] !== v) conflicts.push(`--${k} ${show(parsed.values[k]!)} was given, but the run in ${dir} was trained with ${k} = ${show(v)}`);
    else values[k] = v;
  }
  if (conflicts.length) throw new OptionError(`${conflicts.join('\n')}\n(drop these options: the run's own are used)`);
  return { values, fromRun: true };
}
