// `pix2pixhd demo`: the README's main job. Generates synthetic street scenes, trains pix2pixHD
// progressively as the paper does — G1 alone at half resolution, then G2 at full resolution with
// G1 loaded and frozen for its first epochs, then both — synthesises the held-out scenes and
// evaluates them against their real photos and an untrained network. Sized to finish in about
// fifteen minutes on a 2-core CPU; --quick is a one-minute version of the same pipeline.
import { join } from 'node:path';
import type { OptionDef } from '../../options/definitions.js';
import { helpText, parseOptions } from '../../options/parse.js';
import { segmentationTable } from '../../eval/segmentation/score.js';
import { readRecordedScore } from '../../report/score-table.js';
import { evalCommand } from './eval.js';
import { makeDatasetCommand } from './make-dataset.js';
import { testCommand } from './test.js';
import { trainCommand } from './train.js';

const EXTRA: OptionDef[] = [
  { name: 'out', kind: 'string', default: './demo', help: 'folder for the data set, checkpoints and results', groups: [] },
  { name: 'quick', kind: 'flag', default: false, help: 'a tiny version (about a minute) of the same pipeline', groups: [] },
  { name: 'seed', kind: 'int', default: 0, help: 'seed for the scenes and the training', groups: [] },
];
export const DEMO_USAGE = 'pix2pixhd demo [--out ./demo] [--quick]';
export const DEMO_HELP = () => helpText(DEMO_USAGE,
  'Synthetic scenes → progressive training (G1, then G2 with G1 frozen, then both) → synthesis of held-out\n' +
  'scenes → evaluation, ending with the paper\'s segmentation score table. Prints where the HTML pages are.', [], EXTRA);

export async function demoCommand(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<void> {
  const v = parseOptions(argv, [], { extra: EXTRA }).values;
  const root = String(v.out);
  const quick = v.quick === true;
  const seed = String(v.seed);
  const scenes = quick ? 12 : 150;
  const data = join(root, 'synthetic');
  const checkpoints = join(root, 'checkpoints');
  const results = join(root, 'results');
  const step = (text: string) => out.write(`\n== ${text}\n`);

  step(`1/5 synthetic street scenes: ${scenes} for training, held-out ones for testing`);
  await makeDatasetCommand(['synthetic', '--out', data, '--n', String(scenes), '--n_test', quick ? '2' : '12', '--size', '256x128', '--seed', seed], out);

  // The architecture shared by both stages: G1 of the local run is the global run's network.
  // The official recipe: none of the later-work options beat it beyond seed noise on these scenes
  // (README, "Which of them help, measured"; bench/recipes.ts).
  const shared = ['--dataroot', data, '--label_nc', '35', '--checkpoints_dir', checkpoints, '--n_downsample_global', '3', '--n_blocks_global', '4',
    '--ndf', '32', '--no_vgg_loss', '--seed', seed, '--save_latest_freq', '500', '--print_freq', '50', '--display_freq', quick ? '6' : '150'];
  step('2/5 G1, the global generator, at half resolution (128×64)');
  await trainCommand([...shared, '--name', 'demo_global', '--netG', 'global', '--ngf', '32', '--resize_or_crop', 'scale_width', '--loadSize', '128',
    '--niter', quick ? '1' : '5', '--niter_decay', quick ? '0' : '3'], out);

  step('3/5 G2, the local enhancer, at full resolution (256×128): G1 loaded and frozen first, then both train');
  await trainCommand([...shared, '--name', 'demo_local', '--netG', 'local', '--ngf', '16', '--n_blocks_local', '2', '--resize_or_crop', 'none',
    '--load_pretrain', join(checkpoints, 'demo_global'), '--niter_fix_global', '1', '--niter', quick ? '1' : '4', '--niter_decay', quick ? '1' : '2'], out);

  // eval first: its segmentation score (the paper's table) goes on the results page test writes.
  step('4/5 evaluation against the real photos, and the paper\'s segmentation score (a compact segmenter trained on the training photos)');
  await evalCommand(['--name', 'demo_local', '--checkpoints_dir', checkpoints, '--dataroot', data, '--segmenter_epochs', quick ? '2' : '8'], out);

  step('5/5 synthesising the held-out scenes');
  const test = await testCommand(['--name', 'demo_local', '--checkpoints_dir', checkpoints, '--dataroot', data, '--results_dir', results], out);

  out.write(`\nresults page:  ${join(test.dir, 'index.html')}\ntraining page: ${join(checkpoints, 'demo_local', 'web', 'index.html')}\n`);
  const score = readRecordedScore(join(checkpoints, 'demo_local'));
  if (score) out.write(`\nsegmentation score of the held-out scenes (${score.segmenter}):\n${segmentationTable(score.figures)}`);
}
