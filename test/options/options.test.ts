// Command-line options: the official defaults, refusals of unknown options and bad values, and a
// run folder's saved options (opt.txt in the official format, opt.json) applied to later commands.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OptionError, parseOptions } from '../../src/options/parse.js';
import { applyRunOptions, loadRunOptions, saveRunOptions } from '../../src/run/options-file.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'p2phd-opt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const TRAIN = ['base', 'train'] as const;
const TEST = ['base', 'test'] as const;

function refused(argv: string[], pattern: RegExp, groups: readonly ('base' | 'train' | 'test')[] = TRAIN): void {
  assert.throws(() => parseOptions(argv, groups), (e: Error) => {
    assert.ok(e instanceof OptionError, `an OptionError, got ${e.constructor.name}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('the official defaults (options/base_options.py, train_options.py)', () => {
  const { values, explicit } = parseOptions([], TRAIN);
  const official: Record<string, number | string | boolean> = {
    name: 'label2city', checkpoints_dir: './checkpoints', model: 'pix2pixHD', norm: 'instance', batchSize: 1,
    loadSize: 1024, fineSize: 512, label_nc: 35, input_nc: 3, output_nc: 3, resize_or_crop: 'scale_width',
    netG: 'global', ngf: 64, n_downsample_global: 4, n_blocks_global: 9, n_blocks_local: 3, n_local_enhancers: 1, niter_fix_global: 0,
    feat_num: 3, n_downsample_E: 4, nef: 16, n_clusters: 10, nThreads: 2, display_winsize: 512,
    display_freq: 100, print_freq: 100, save_latest_freq: 1000, save_epoch_freq: 10, continue_train: false, load_pretrain: '',
    which_epoch: 'latest', phase: 'train', niter: 100, niter_decay: 100, beta1: 0.5, lr: 0.0002,
    num_D: 2, n_layers_D: 3, ndf: 64, lambda_feat: 10, no_ganFeat_loss: false, no_vgg_loss: false, no_lsgan: false, pool_size: 0,
  };
  for (const [k, v] of Object.entries(official)) assert.equal(values[k], v, `default of --${k}`);
  assert.equal(values.max_dataset_size, Number.POSITIVE_INFINITY);
  assert.equal(explicit.size, 0);

  // test_options.py: phase test, how_many 50, results_dir ./results/.
  const t = parseOptions([], TEST, { commandDefaults: { phase: 'test' } }).values;
  assert.equal(t.phase, 'test');
  assert.equal(t.how_many, 50);
  assert.equal(t.results_dir, './results/');
  assert.equal(t.which_epoch, 'latest');
  assert.equal(t.niter, undefined, 'training options are not test options');
});

test('values are converted by kind, and the explicit ones are remembered', () => {
  const { values, explicit } = parseOptions(['--ngf', '32', '--lr', '1e-3', '--no_vgg_loss', '--netG', 'local', '--max_dataset_size', 'inf', '--name', 'run'], TRAIN);
  assert.equal(values.ngf, 32);
  assert.equal(values.lr, 0.001);
  assert.equal(values.no_vgg_loss, true);
  assert.equal(values.netG, 'local');
  assert.equal(values.max_dataset_size, Number.POSITIVE_INFINITY);
  assert.equal(values.name, 'run');
  assert.equal(values.ndf, 64, 'others keep their default');
  assert.deepEqual([...explicit].sort(), ['lr', 'max_dataset_size', 'name', 'netG', 'ngf', 'no_vgg_loss']);
  assert.equal(parseOptions(['--ngf=16'], TRAIN).values.ngf, 16);
});

test('unknown options are refused with the nearest name', () => {
  refused(['--niterr', '5'], /unknown option --niterr; did you mean --niter\?/);
  refused(['--lamda_feat', '5'], /unknown option --lamda_feat; did you mean --lambda_feat\?/);
  refused(['--n_blocks_globl', '3'], /did you mean --n_blocks_global\?/);
  refused(['--completely_unrelated_thing'], /^unknown option --completely_unrelated_thing$/);
  // An option of another command says so.
  refused(['--how_many', '3'], /unknown option --how_many \(it belongs to another command\)/);
  refused(['--niter', '3'], /unknown option --niter \(it belongs to another command\)/, TEST);
  // Positionals are refused where a command takes none.
  assert.throws(() => parseOptions(['stray'], TRAIN), OptionError);
});

test('bad integers, numbers and choices are refused, naming the option and the value', () => {
  refused(['--ngf', 'abc'], /--ngf takes an integer, got 'abc'/);
  refused(['--ngf', '3.5'], /--ngf takes an integer, got '3.5'/);
  refused(['--niter', ''], /--niter takes an integer/);
  refused(['--lr', 'fast'], /--lr takes a number, got 'fast'/);
  refused(['--beta1', 'inf'], /--beta1 takes a number, got 'inf'/);
  refused(['--netG', 'huge'], /--netG must be one of global, local, got 'huge'/);
  refused(['--norm', 'layer'], /--norm must be one of instance, batch/);
  refused(['--data_type', '64'], /--data_type must be one of 8, 16, 32, got '64'/);
  refused(['--resize_or_crop', 'zoom'], /--resize_or_crop must be one of/);
  refused(['--ngf'], /ngf/); // a value is missing
});

test('numeric options out of their range are refused by the parser, naming the option and the range', () => {
  // Values that reached libtorch and came back as its messages (issue 11) …
  refused(['--ngf', '0'], /^--ngf must be at least 1 \(generator filters in the first conv layer\), got '0'$/);
  refused(['--ndf', '0'], /^--ndf must be at least 1 .*got '0'$/);
  refused(['--ngf=-8'], /^--ngf must be at least 1 .*got '-8'$/);
  refused(['--output_nc', '0'], /^--output_nc must be at least 1 .*got '0'$/);
  // … and values that were accepted silently. '--lr -1' is a value, as in Python's argparse.
  refused(['--lr', '-1'], /^--lr must be at least 0 \(initial learning rate\), got '-1'$/);
  refused(['--beta1', '2'], /^--beta1 must be in \[0, 1\) .*got '2'$/);
  refused(['--beta1', '1'], /^--beta1 must be in \[0, 1\)/);
  refused(['--pool_size', '-1'], /^--pool_size must be at least 0 .*got '-1'$/);
  refused(['--lambda_feat', '-1'], /^--lambda_feat must be at least 0 .*got '-1'$/);
  refused(['--threads', '-2'], /^--threads must be at least 0 .*got '-2'$/);
  for (const name of ['batchSize', 'loadSize', 'fineSize', 'input_nc', 'nef', 'feat_num', 'num_D', 'n_layers_D', 'n_clusters']) {
    refused([`--${name}`, '0'], new RegExp(`^--${name} must be at least 1`));
  }
  for (const name of ['n_blocks_global', 'n_blocks_local', 'n_downsample_global', 'n_local_enhancers', 'niter', 'niter_decay', 'save_latest_freq', 'label_nc', 'nThreads']) {
    refused([`--${name}`, '-1'], new RegExp(`^--${name} must be at least 0`));
  }
  refused(['--aspect_ratio', '0'], /^--aspect_ratio must be above 0/, TEST);
  refused(['--how_many', '-3'], /^--how_many must be at least 0/, TEST);

  // The bounds themselves, and what the official code takes, are accepted.
  const ok = parseOptions(['--lr', '0', '--beta1', '0', '--pool_size', '0', '--lambda_feat', '0', '--threads', '0', '--n_blocks_global', '0',
    '--label_nc', '0', '--save_latest_freq', '0', '--beta1=0.999', '--gpu_ids', '-1', '--max_dataset_size', 'inf'], TRAIN).values;
  assert.equal(ok.beta1, 0.999);
  assert.equal(ok.lr, 0);
  assert.equal(ok.gpu_ids, '-1', "'--gpu_ids -1' (the official scripts' CPU) still parses");
  assert.equal(parseOptions(['--seed', '-5'], TRAIN).values.seed, -5, 'a seed has no range');
});

test('--name is one folder inside --checkpoints_dir: path separators and .. are refused', () => {
  for (const name of ['../../x', '../x', 'a/b', 'a\\b', '..', '.', '/tmp/x', '']) {
    refused(['--name', name], /^--name: /);
  }
  refused(['--name', '../../x'], /'\.\.\/\.\.\/x' holds a path separator: a run's name is one folder inside --checkpoints_dir/);
  assert.equal(parseOptions(['--name', 'label2city_1024p..v2'], TRAIN).values.name, 'label2city_1024p..v2', 'dots inside a name are fine');
});

test('saveRunOptions writes opt.txt in the official format and opt.json; loadRunOptions reads them back', (t) => {
  const dir = join(tempDir(t), 'checkpoints', 'run');
  const { values } = parseOptions(['--name', 'run', '--ngf', '32', '--no_vgg_loss', '--lr', '0.0001'], TRAIN);
  saveRunOptions(dir, values);
  const txt = readFileSync(join(dir, 'opt.txt'), 'utf8');
  const lines = txt.split('\n');
  // base_options.py: the header, 'k: v' sorted by key, the footer, each line ending in a newline.
  assert.equal(lines[0], '------------ Options -------------');
  assert.equal(lines[lines.length - 2], '-------------- End ----------------');
  assert.equal(lines[lines.length - 1], '', 'ends with a newline');
  const body = lines.slice(1, -2);
  assert.equal(body.length, Object.keys(values).length);
  const keys = body.map((l) => l.slice(0, l.indexOf(': ')));
  for (let i = 1; i < keys.length; i++) assert.ok(keys[i - 1]! < keys[i]!, `sorted as Python sorts strings: ${keys[i - 1]} before ${keys[i]}`);
  assert.ok(keys.indexOf('batchSize') < keys.indexOf('beta1') && keys.indexOf('beta1') < keys.indexOf('checkpoints_dir'));
  assert.ok(keys.indexOf('nThreads') < keys.indexOf('n_blocks_global'), "Python sorts 'T' before '_'");
  // Python's str() of each value: True/False, 10.0 for a float, inf.
  for (const line of ['name: run', 'ngf: 32', 'no_vgg_loss: True', 'no_flip: False', 'lr: 0.0001', 'beta1: 0.5', 'lambda_feat: 10.0',
    'max_dataset_size: inf', 'netG: global', 'checkpoints_dir: ./checkpoints', 'niter: 100']) {
    assert.ok(body.includes(line), `opt.txt has the line '${line}'`);
  }

  // str(2e-05) in Python is '2e-05'; the value still reads back as the same number.
  const small = join(dir, '..', 'small');
  saveRunOptions(small, parseOptions(['--lr', '0.00002', '--beta1', '0.9'], TRAIN).values);
  const smallTxt = readFileSync(join(small, 'opt.txt'), 'utf8').split('\n');
  assert.ok(smallTxt.includes('lr: 2e-05') && smallTxt.includes('beta1: 0.9'), smallTxt.filter((l) => /^(lr|beta1):/.test(l)).join(', '));
  rmSync(join(small, 'opt.json'));
  assert.equal(loadRunOptions(small)!.lr, 0.00002);

  const json = JSON.parse(readFileSync(join(dir, 'opt.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(json.ngf, 32);
  assert.equal(json.no_vgg_loss, true);
  assert.equal(json.lambda_feat, 10);
  assert.equal(json.max_dataset_size, 'inf');

  const back = loadRunOptions(dir)!;
  assert.deepEqual(back, values, 'opt.json gives the values back');
  rmSync(join(dir, 'opt.json'));
  const fromTxt = loadRunOptions(dir)!;
  for (const k of ['ngf', 'no_vgg_loss', 'lr', 'lambda_feat', 'max_dataset_size', 'netG', 'name', 'beta1', 'label_nc']) {
    assert.equal(fromTxt[k], values[k], `${k} read back from opt.txt`);
  }
  assert.equal(loadRunOptions(join(dir, 'nothing-here')), undefined);
});

test('applyRunOptions takes the run\'s architecture for options not given, and refuses contradicting ones naming both values', (t) => {
  const root = tempDir(t);
  const trained = parseOptions(['--name', 'r', '--checkpoints_dir', root, '--netG', 'local', '--ngf', '32', '--n_downsample_global', '2',
    '--label_nc', '10', '--no_instance', '--loadSize', '256', '--ndf', '16'], TRAIN).values;
  saveRunOptions(join(root, 'r'), trained);

  const plain = parseOptions(['--name', 'r', '--checkpoints_dir', root], TEST);
  const { values, fromRun } = applyRunOptions(plain, join(root, 'r'));
  assert.equal(fromRun, true);
  assert.equal(values.netG, 'local');
  assert.equal(values.ngf, 32);
  assert.equal(values.n_downsample_global, 2);
  assert.equal(values.label_nc, 10);
  assert.equal(values.no_instance, true);
  assert.equal(values.loadSize, 1024, 'not an architecture option: the command\'s own value stays');
  assert.equal(values.how_many, 50);

  // The same value given explicitly is fine.
  assert.equal(applyRunOptions(parseOptions(['--ngf', '32', '--netG', 'local'], TEST), join(root, 'r')).values.ngf, 32);

  assert.throws(() => applyRunOptions(parseOptions(['--ngf', '64', '--netG', 'global'], TEST), join(root, 'r')), (e: Error) => {
    assert.ok(e instanceof OptionError);
    assert.match(e.message, /--ngf 64 was given, but the run in .* was trained with ngf = 32/);
    assert.match(e.message, /--netG global was given, but the run in .* was trained with netG = local/);
    return true;
  });
  // A flag given against the run.
  const flagRoot = tempDir(t);
  saveRunOptions(join(flagRoot, 'f'), parseOptions(['--name', 'f'], TRAIN).values);
  assert.throws(() => applyRunOptions(parseOptions(['--no_instance'], TEST), join(flagRoot, 'f')), /--no_instance True was given, but .* no_instance = False/);

  // No saved options: the values as parsed.
  const none = parseOptions(['--ngf', '8'], TEST);
  const r = applyRunOptions(none, join(root, 'absent'));
  assert.equal(r.fromRun, false);
  assert.equal(r.values.ngf, 8);
});

test('a run folder of the official code (opt.txt only, written by base_options.py) is read', (t) => {
  const dir = join(tempDir(t), 'official');
  mkdirSync(dir, { recursive: true });
  // As the official code writes it: str() of each value, including its own options that this project does not have.
  writeFileSync(join(dir, 'opt.txt'), [
    '------------ Options -------------',
    'batchSize: 1', 'beta1: 0.5', 'checkpoints_dir: ./checkpoints', 'continue_train: False', 'data_type: 32', 'dataroot: ./datasets/cityscapes/',
    'debug: False', 'display_freq: 100', 'feat_num: 3', 'fineSize: 512', 'gpu_ids: [0]', 'input_nc: 3', 'instance_feat: False', 'isTrain: True',
    'label_feat: False', 'label_nc: 35', 'lambda_feat: 10.0', 'loadSize: 1024', 'load_features: False', 'lr: 0.0002', 'max_dataset_size: inf',
    'model: pix2pixHD', 'nThreads: 2', 'n_blocks_global: 9', 'n_blocks_local: 3', 'n_clusters: 10', 'n_downsample_E: 4', 'n_downsample_global: 4',
    'n_layers_D: 3', 'n_local_enhancers: 1', 'name: label2city_1024p', 'ndf: 64', 'nef: 16', 'netG: local', 'ngf: 32', 'niter: 100',
    'niter_decay: 100', 'niter_fix_global: 20', 'no_flip: False', 'no_ganFeat_loss: False', 'no_html: False', 'no_instance: False', 'no_lsgan: False',
    'no_vgg_loss: False', 'norm: instance', 'num_D: 2', 'output_nc: 3', 'phase: train', 'pool_size: 0', 'resize_or_crop: none',
    'tf_log: False', 'use_dropout: False', 'verbose: False', 'which_epoch: latest',
    '-------------- End ----------------', '',
  ].join('\n'));
  assert.ok(!existsSync(join(dir, 'opt.json')));
  const saved = loadRunOptions(dir)!;
  assert.equal(saved.ngf, 32);
  assert.equal(saved.netG, 'local');
  assert.equal(saved.lambda_feat, 10);
  assert.equal(saved.no_instance, false);
  assert.equal(saved.max_dataset_size, Number.POSITIVE_INFINITY);
  assert.equal(saved.isTrain, undefined, 'options unknown here are left out');

  const { values, fromRun } = applyRunOptions(parseOptions([], TEST), dir);
  assert.equal(fromRun, true);
  assert.equal(values.netG, 'local');
  assert.equal(values.ngf, 32);
  assert.equal(values.n_blocks_global, 9);
  assert.equal(values.n_local_enhancers, 1);
  assert.throws(() => applyRunOptions(parseOptions(['--ngf', '64'], TEST), dir), /--ngf 64 was given, but the run in .* was trained with ngf = 32/);
});
