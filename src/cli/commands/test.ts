// `pix2pixhd test`: the official test.py — synthesise a data set's phase (or one label map given
// by path) with a trained run and write the images and an HTML index. The run's own options
// (opt.json / opt.txt beside the checkpoints) decide the network; explicit contradicting options
// are an error naming both values.
import { existsSync, mkdirSync, mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadGenerator } from '../../infer/load-generator.js';
import { openFeatureSource } from '../feature-source.js';
import { synthesizeDataset, type SynthesisResult } from '../../infer/synthesize-dataset.js';
import { precisionFor } from '../../infer/synthesize.js';
import type { OptionDef } from '../../options/definitions.js';
import { helpText, OptionError, parseOptions } from '../../options/parse.js';
import { applyRunOptions, runDir } from '../../options/run-folder.js';
import { resultsPage, savePng, type ResultRow } from '../../train/report/index.js';
import { applyRuntimeOptions, dataOptions, trainOptions, type Values } from '../run-options.js';

const EXTRA: OptionDef[] = [
  { name: 'label', kind: 'string', default: '', help: 'synthesise this one label map (PNG of class ids) instead of a data set', groups: [] },
  { name: 'inst', kind: 'string', default: '', help: 'its instance map (with --label)', groups: [] },
  {
    name: 'styles', kind: 'string', default: '',
    help: 'feature runs: a JSON file choosing styles — instance id → cluster index of its class or a feature vector; ' +
      '"classes": {class id → …}; "images": {name → {…}} (see src/features/feature-map.ts); unnamed objects get a random cluster (--seed)',
    groups: [],
  },
];
const DEFAULTS = { phase: 'test', resize_or_crop: 'none' };
export const TEST_USAGE = 'pix2pixhd test --name RUN [--dataroot DIR | --label MAP.png [--inst INST.png]] [options]';
export const TEST_HELP = () => helpText(TEST_USAGE,
  'Synthesises the test phase of a data set (or one label map) with a trained run and writes\n' +
  'results_dir/name/{phase}_{which_epoch}/images/ and index.html. The network options are read from the run\n' +
  'folder (opt.json or the official opt.txt); give them only for checkpoints that came without one.\n' +
  'Results have the label map\'s own size: G needs sizes that are multiples of 2^(n_downsample_global +\n' +
  'n_local_enhancers), so the maps are padded to the next multiple and the result cropped back\n' +
  '(resize_or_crop defaults to none here; other modes resize the result back to the file\'s size).\n' +
  'Runs trained with --instance_feat/--label_feat take each object\'s features from the clusters of\n' +
  '\'pix2pixhd encode-features\' (--cluster_path: our JSON or the official .npy; --styles chooses them, the\n' +
  'rest are drawn at random with --seed), or from the real photos with --use_encoded_image.',
  ['base', 'test'], EXTRA, DEFAULTS);

/** Parses test-like commands: base + test options, the run's saved options applied. */
export function parseRunCommand(argv: string[], extra: OptionDef[] = [], defaults: Record<string, string | number | boolean> = DEFAULTS): Values {
  const parsed = parseOptions(argv, ['base', 'test'], { extra, commandDefaults: defaults });
  return applyRunOptions(parsed, runDir(parsed.values)).values;
}

/** One label map (and instance map) as a one-item data set in the official layout. */
function singleMapDataroot(v: Values): { dataroot: string; cleanup: () => void } {
  const label = String(v.label);
  if (!existsSync(label)) throw new OptionError(`--label ${label}: no such file`);
  const dir = mkdtempSync(join(tmpdir(), 'pix2pixhd-test-'));
  mkdirSync(join(dir, 'test_label'));
  copyFileSync(label, join(dir, 'test_label', basename(label)));
  if (v.inst) {
    if (!existsSync(String(v.inst))) throw new OptionError(`--inst ${String(v.inst)}: no such file`);
    mkdirSync(join(dir, 'test_inst'));
    copyFileSync(String(v.inst), join(dir, 'test_inst', basename(label)));
  } else if (!v.no_instance) {
    throw new OptionError('--label without --inst: give the instance map too, or --no_instance if the run was trained without one');
  }
  return { dataroot: dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function testCommand(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<{ dir: string; results: number }> {
  const v = parseRunCommand(argv, EXTRA);
  const { device } = applyRuntimeOptions(v);
  const precision = precisionFor(Number(v.data_type), device);
  const o = trainOptions(v);
  const single = v.label ? singleMapDataroot(v) : null;
  try {
    const G = loadGenerator(o, runDir(v), String(v.which_epoch), device);
    const features = openFeatureSource(v, o, runDir(v), device);
    if (features.description) out.write(`${features.description}\n`);
    const data = { ...dataOptions(v, false), ...(single ? { dataroot: single.dataroot, phase: 'test' } : {}) };
    const dataroot = String(data.dataroot);
    const withPhotos = !single && existsSync(join(dataroot, `${String(data.phase)}_img`));
    const dir = join(String(v.results_dir), String(v.name), `${String(v.phase)}_${String(v.which_epoch)}`);
    const rows: ResultRow[] = [];
    mkdirSync(join(dir, 'images'), { recursive: true });
    try {
      for await (const r of synthesizeDataset(G, o, { ...data, use_encoded_image: withPhotos }, Number(v.how_many), device, features.source, precision)) {
        rows.push(await writeResult(dir, r));
        out.write(`${r.name}\n`);
      }
    } finally {
      features.dispose();
      G.dispose();
    }
    const page = await resultsPage(dir, `pix2pixHD ${String(v.name)}: ${String(v.phase)} (${String(v.which_epoch)})`, rows);
    out.write(`${rows.length} results in ${dir}; open ${page}\n`);
    return { dir, results: rows.length };
  } finally {
    single?.cleanup();
  }
}

async function writeResult(dir: string, r: SynthesisResult): Promise<ResultRow> {
  const images: ResultRow['images'] = [];
  const pictures = [['input_label', r.input], ['synthesized_image', r.synthesized], ['real_image', r.real]] as const;
  for (const [label, p] of pictures) {
    if (!p) continue;
    const file = `images/${r.name}_${label}.png`;
    await savePng(join(dir, file), p.rgb, p.width, p.height);
    images.push({ label, file, width: p.width, height: p.height });
  }
  return { name: r.name, images };
}
