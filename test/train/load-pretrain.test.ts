// --load_pretrain in a run with instance features starts E from the other run's encoder, as the
// official model loads {which_epoch}_net_E.pth beside G and D: checked with a learning rate of 0,
// where training leaves every weight where it started.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSyntheticDataset } from '../../src/data/index.js';
import { parseOptions } from '../../src/options/parse.js';
import { runConfig } from '../../src/run/config.js';
import { trainingBatches } from '../../src/train/data-source.js';
import { train } from '../../src/train/trainer.js';
import { dispose, loadTensorDict, setNumThreads, tidy, type Tensor } from '../../src/torch/index.js';

setNumThreads(1);

async function runTraining(argv: string[], messages: string[]) {
  const config = runConfig(parseOptions(argv, ['base', 'train']).values);
  return train(config, trainingBatches({ ...config.data, isTrain: true }), { onMessage: (m) => messages.push(m) });
}

const maxDiff = (a: Tensor, b: Tensor) => tidy(() => a.sub(b).abs().max().item());

test('load_pretrain in a feature run: E (and G, D) start from the other run\'s networks', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'p2phd-pretrain-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const data = join(root, 'data');
  const ck = join(root, 'checkpoints');
  await makeSyntheticDataset({ out: data, n: 2, nTest: 1, width: 64, height: 32, seed: 5 });
  const common = ['--dataroot', data, '--checkpoints_dir', ck, '--label_nc', '35', '--resize_or_crop', 'none', '--netG', 'global', '--ngf', '8',
    '--n_downsample_global', '1', '--n_blocks_global', '1', '--ndf', '8', '--num_D', '1', '--n_layers_D', '1', '--no_vgg_loss',
    '--instance_feat', '--nef', '4', '--n_downsample_E', '1', '--display_freq', '0', '--print_freq', '0', '--nThreads', '1',
    '--niter', '1', '--niter_decay', '0', '--save_latest_freq', '0'];
  await runTraining([...common, '--name', 'first', '--seed', '1'], []);

  const messages: string[] = [];
  // Another seed, so that fresh networks would differ; lr 0, so that loaded ones stay as loaded.
  await runTraining([...common, '--name', 'second', '--seed', '2', '--lr', '0', '--load_pretrain', join(ck, 'first')], messages);
  assert.ok(messages.some((m) => m.startsWith('load_pretrain: E from')), messages.join('\n'));

  for (const net of ['E', 'G', 'D']) {
    const first = loadTensorDict(join(ck, 'first', `latest_net_${net}.pth`));
    const second = loadTensorDict(join(ck, 'second', `latest_net_${net}.pth`));
    t.after(() => dispose([first, second]));
    assert.deepEqual([...second.keys()], [...first.keys()]);
    for (const [k, v] of first) assert.equal(maxDiff(v, second.get(k)!), 0, `${net}: ${k} is the first run's`);
  }
});

test('load_pretrain refuses a G saved with another --spectral_norm, naming the file, instead of starting G1 fresh', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'p2phd-pretrain-sn-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const data = join(root, 'data');
  const ck = join(root, 'checkpoints');
  await makeSyntheticDataset({ out: data, n: 1, nTest: 1, width: 32, height: 32, seed: 5 });
  const common = ['--dataroot', data, '--checkpoints_dir', ck, '--label_nc', '35', '--resize_or_crop', 'none', '--netG', 'global', '--ngf', '4',
    '--n_downsample_global', '1', '--n_blocks_global', '1', '--ndf', '4', '--num_D', '1', '--n_layers_D', '1', '--no_vgg_loss',
    '--display_freq', '0', '--print_freq', '0', '--nThreads', '1', '--niter', '1', '--niter_decay', '0', '--save_latest_freq', '0'];
  await runTraining([...common, '--name', 'normalised', '--spectral_norm', 'G'], []);
  await assert.rejects(runTraining([...common, '--name', 'plain', '--load_pretrain', join(ck, 'normalised')], []),
    (e: Error) => e.message.includes(join(ck, 'normalised', 'latest_net_G.pth')) && /with spectral normalisation/.test(e.message));
  // The same --spectral_norm loads.
  const messages: string[] = [];
  await runTraining([...common, '--name', 'also_normalised', '--spectral_norm', 'both', '--load_pretrain', join(ck, 'normalised')], messages);
  assert.ok(messages.some((m) => m.startsWith('load_pretrain: G from')), messages.join('\n'));
});
