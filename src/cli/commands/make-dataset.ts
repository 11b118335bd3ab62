// `pix2pixhd make-dataset synthetic`: street-like scenes in the official layout, for tests and demos.
import { makeSyntheticDataset, type SyntheticSummary } from '../../data/index.js';
import { helpText, OptionError, parseOptions } from '../../options/parse.js';
import type { OptionDef } from '../../options/definitions.js';

const EXTRA: OptionDef[] = [
  { name: 'out', kind: 'string', default: './datasets/synthetic', help: 'folder to write (train_label/, train_inst/, train_img/, test_*)', groups: [] },
  { name: 'n', kind: 'int', default: 200, help: 'training scenes', groups: [] },
  { name: 'n_test', kind: 'int', default: -1, help: 'held-out test scenes (default n/10, at least 1)', groups: [] },
  { name: 'size', kind: 'string', default: '512x256', help: 'WIDTHxHEIGHT, up to 2048x1024', groups: [] },
  { name: 'seed', kind: 'int', default: 0, help: 'the same seed gives the same scenes, byte for byte', groups: [] },
];
export const MAKE_DATASET_USAGE = 'pix2pixhd make-dataset synthetic --out DIR [--n 200] [--size 512x256] [--seed S]';
export const MAKE_DATASET_HELP = () => helpText(MAKE_DATASET_USAGE,
  'Writes synthetic street scenes (sky, road with lane marks, sidewalk, buildings with windows, vegetation,\n' +
  'poles, cars and people as instances) with label maps (Cityscapes ids: use --label_nc 35), instance maps\n' +
  'and photos rendered from them. Every car takes its colour from a known palette.', [], EXTRA);

export function parseSize(text: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(text);
  if (!m) throw new OptionError(`--size takes WIDTHxHEIGHT such as 512x256, got '${text}'`);
  const width = Number(m[1]);
  const height = Number(m[2]);
  if (width < 16 || height < 16 || width > 2048 || height > 1024) throw new OptionError(`--size ${text}: width must be 16…2048 and height 16…1024`);
  return { width, height };
}

export async function makeDatasetCommand(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<SyntheticSummary> {
  const parsed = parseOptions(argv, [], { extra: EXTRA, allowPositionals: true });
  const kind = parsed.positionals[0];
  if (kind !== 'synthetic') throw new OptionError(`make-dataset: the only generator is 'synthetic' (usage: ${MAKE_DATASET_USAGE})`);
  const v = parsed.values;
  const { width, height } = parseSize(String(v.size));
  const n = Number(v.n);
  if (n < 1) throw new OptionError('--n must be at least 1');
  const nTest = Number(v.n_test) >= 0 ? Number(v.n_test) : undefined;
  const summary = await makeSyntheticDataset({ out: String(v.out), n, nTest, width, height, seed: Number(v.seed) });
  out.write(`wrote ${summary.train} training and ${summary.test} test scenes at ${width}×${height} to ${summary.out} (label_nc ${summary.label_nc})\n`);
  return summary;
}
