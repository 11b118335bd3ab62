// `pix2pixhd test`: the official test.py — synthesise a data set's phase (or one label map given
// by path) with a trained run and write the images and an HTML index. The run's own options
// (opt.json / opt.txt beside the checkpoints) decide the network; explicit contradicting options
// are an error naming both values.
// Only --onnx's path is imported here; the engine's parts (./test-engine.ts, which loads libtorch)
// are imported when used, so that a model can be used where libtorch is not installed.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SynthesisResult } from '../../infer/dataset-items.js';
import { synthesizeDatasetOnnx } from '../../infer/onnx-dataset.js';
import { OnnxGenerator } from '../../infer/onnx-generator.js';
import { resizeRgb } from '../../infer/pictures.js';
import { usesFeatures } from '../../models/network-options.js';
import { layoutOf } from '../../onnx/model-layout.js';
import type { OptionDef } from '../../options/definitions.js';
import { helpText, OptionError } from '../../options/parse.js';
import { resultsPage } from '../../report/results-page.js';
import { savePng } from '../../report/png.js';
import type { ResultRow } from '../../report/results-page.js';
import { readRecordedScore, scoreTableHtml } from '../../report/score-table.js';
import { synthesisData, type OptionValues, type RunConfig } from '../../run/config.js';
import { parseRunCommand } from '../run-command.js';
// Types only (erased): the module itself is imported when the engine is needed.
import type { EngineFeatures } from './test-engine.js';

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
  'rest are drawn at random with --seed), or from the real photos with --use_encoded_image.\n' +
  '--export_onnx PATH writes G as an ONNX model (and E, for feature runs) and stops (as the official test.py; see pix2pixhd export);\n' +
  '--onnx MODEL.onnx synthesises with an exported model through onnxruntime-node instead of libtorch.',
  ['base', 'test'], EXTRA, DEFAULTS);

/** An image file a --label / --inst option names: it must exist and be a file (a folder is refused by name). */
function imageFileOption(option: 'label' | 'inst', file: string): string {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch {
    throw new OptionError(`--${option} ${file}: no such file`);
  }
  if (!isFile) throw new OptionError(`--${option} ${file}: a folder, not an image file (give one map; a data set's folders go to --dataroot)`);
  return file;
}

/**
 * One label map (and instance map) to synthesise: read where they are (no copy), so that every
 * message names the user's own files.
 */
function singleMap(v: OptionValues): { label_file: string; inst_file?: string } {
  const label = imageFileOption('label', String(v.label));
  if (v.inst) return { label_file: label, inst_file: imageFileOption('inst', String(v.inst)) };
  if (!v.no_instance) throw new OptionError('--label without --inst: give the instance map too, or --no_instance if the run was trained without one');
  return { label_file: label };
}

export async function testCommand(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<{ dir: string; results: number }> {
  const { config, values: v } = parseRunCommand(argv, EXTRA, DEFAULTS);
  if (v.export_onnx) {
    const path = String(v.export_onnx);
    const { generator, encoder } = await (await import('./test-engine.js')).exportForTest(config, path);
    out.write(`exported ${path} (${(generator.bytes / 2 ** 20).toFixed(1)} MiB)\n`);
    if (encoder) out.write(`exported ${encoder.path} (${(encoder.bytes / 2 ** 20).toFixed(1)} MiB), the feature encoder\n`);
    return { dir: path, results: 0 };
  }
  const single = v.label ? singleMap(v) : null;
  const data = { ...synthesisData(config), ...(single ?? {}) };
  const dataroot = String(data.dataroot);
  const withPhotos = !single && existsSync(join(dataroot, `${String(data.phase)}_img`));
  const source = v.onnx
    ? await onnxSynthesis(config, String(v.onnx), { ...data, use_encoded_image: withPhotos }, String(v.styles), out)
    : (await import('./test-engine.js')).engineSynthesis(config, { ...data, use_encoded_image: withPhotos }, String(v.styles), out);
  const dir = join(config.synthesis.results_dir, config.name, `${String(config.data.phase)}_${config.which_epoch}`);
  const rows: ResultRow[] = [];
  try {
    for await (const r of source.results) {
      rows.push(await writeResult(dir, r, config));
      out.write(`${r.name}\n`);
    }
  } finally {
    await source.close();
  }
  const score = readRecordedScore(config.dir);
  const page = await resultsPage(dir, `pix2pixHD ${config.name}: ${String(config.data.phase)} (${config.which_epoch})`, rows, {
    displayWidth: config.synthesis.display_winsize, summaryHtml: score ? scoreTableHtml(score) : undefined,
  });
  out.write(`${rows.length} results in ${dir}; open ${page}\n`);
  return { dir, results: rows.length };
}

/**
 * --onnx MODEL: synthesis through onnxruntime-node. Libtorch is loaded only for a feature run's
 * feature maps (styles or E); a run without features never loads it.
 */
async function onnxSynthesis(
  config: RunConfig, model: string, data: Parameters<typeof synthesizeDatasetOnnx>[2], stylesFile: string, out: NodeJS.WriteStream,
): Promise<{ results: AsyncGenerator<SynthesisResult>; close(): Promise<void> }> {
  const o = config.network;
  const dataType = config.synthesis.data_type;
  if (dataType !== 32) throw new OptionError(`--data_type ${dataType} with --onnx: an exported model computes in float32 (export --fp16 only stores its weights in float16); leave --data_type at 32`);
  if (!usesFeatures(o) && stylesFile) throw new OptionError('--styles: this run does not use features (trained without --instance_feat / --label_feat)');
  const G = await OnnxGenerator.open(model, layoutOf(o), { threads: config.threads });
  let features: EngineFeatures | null = null;
  try {
    if (usesFeatures(o)) features = (await import('./test-engine.js')).engineFeatures(config, stylesFile, out);
  } catch (e) {
    await G.dispose();
    throw e;
  }
  return {
    results: synthesizeDatasetOnnx(G, o, data, config.synthesis.how_many, features),
    async close() {
      features?.close();
      await G.dispose();
    },
  };
}

/** The images of one result; with --aspect_ratio ≠ 1 they are stretched as the official save_image does (height or width scaled). */
async function writeResult(dir: string, r: SynthesisResult, config: RunConfig): Promise<ResultRow> {
  const images: ResultRow['images'] = [];
  const pictures = [['input_label', r.input], ['synthesized_image', r.synthesized], ['real_image', r.real]] as const;
  for (const [label, p] of pictures) {
    if (!p) continue;
    const file = `images/${r.name}_${label}.png`;
    // Made with the first result, so that a map refused before it leaves no folder behind.
    mkdirSync(join(dir, 'images'), { recursive: true });
    const shown = resizeRgb(p, config.synthesis.aspect_ratio);
    await savePng(join(dir, file), shown.rgb, shown.width, shown.height);
    images.push({ label, file, width: shown.width, height: shown.height });
  }
  return { name: r.name, images };
}
