// The command line → one run configuration, for every command that works on a run: the options
// parsed, the run folder's saved options applied (architecture always; data options for the
// feature commands), then the typed configuration built once.
import type { OptionDef, OptionValue } from '../options/definitions.js';
import { parseOptions, type ParsedOptions } from '../options/parse.js';
// Only the option files and the pure configuration: `test --onnx` parses its run where libtorch is
// absent (the engine's runtime is set up by ./engine-runtime.ts).
import { runConfig, type OptionValues, type RunConfig } from '../run/config.js';
import { applyRunOptions, loadRunOptions, runDir } from '../run/options-file.js';

export interface ParsedRun {
  config: RunConfig;
  /** Every value, the command's own options (--label, --port, …) included. */
  values: OptionValues;
  parsed: ParsedOptions;
}

/** test, eval, serve, style-eval: base + test options, the run's saved architecture applied. */
export function parseRunCommand(argv: string[], extra: OptionDef[], defaults: Record<string, OptionValue>, groups: ('test' | 'serve')[] = ['test']): ParsedRun {
  const parsed = parseOptions(argv, ['base', ...groups], { extra, commandDefaults: defaults });
  const { values } = applyRunOptions(parsed, runDir(parsed.values));
  return { config: runConfig(values), values, parsed };
}

/** Data options a feature command takes from the run when not given: the images E saw in training. */
const DATA_FROM_RUN = ['dataroot', 'resize_or_crop', 'loadSize', 'fineSize', 'max_dataset_size', 'label_nc', 'no_instance'] as const;

/** encode-features, precompute-features: base + features options, the run's architecture and data options applied. */
export function parseFeatureCommand(argv: string[], extra: OptionDef[]): ParsedRun {
  const parsed = parseOptions(argv, ['base', 'features'], { extra });
  const dir = runDir(parsed.values);
  const { values, fromRun } = applyRunOptions(parsed, dir);
  if (fromRun) {
    const saved = loadRunOptions(dir)!;
    for (const k of DATA_FROM_RUN) if (!parsed.explicit.has(k) && saved[k] !== undefined) values[k] = saved[k] as OptionValue;
  }
  return { config: runConfig(values), values, parsed };
}
