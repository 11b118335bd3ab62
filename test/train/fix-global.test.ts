// Progressive training as the paper does it: a G1-only run (netG global) starts a local run
// (--load_pretrain), whose G1 stays frozen for niter_fix_global epochs while the outermost
// enhancer trains, then trains with it. Checked on the saved checkpoints.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSyntheticDataset } from '../../src/data/index.js';
import { parseOptions } from '../../src/options/parse.js';
import { runConfig } from '../../src/run/config.js';
import { trainingBatches } from '../../src/train/data-source.js';
import { train } from '../../src/train/trainer.js';
import { dispose, loadTensorDict, setNumThreads, tidy, type Tensor } from '../../src/torch/index.js';

// One libtorch thread: these networks are tiny, and the machine's cores may be busy with other work.
setNumThreads(1);

async function runTraining(argv: string[], events: Parameters<typeof train>[2] = {}) {
  const v = parseOptions(argv, ['base', 'train']).values;
  const config = runConfig(v);
  return train(config, trainingBatches({ ...config.data, isTrain: true }), events);
}

function same(a: Tensor, b: Tensor): boolean {
  assert.deepEqual(a.shape, b.shape);
  return tidy(() => a.sub(b).abs().max().item()) === 0;
}

test('niter_fix_global 1 with load_pretrain: G1 is the global run\'s during epoch 1 and trains in epoch 2; the enhancer trains in both', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'p2phd-fixglobal-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const data = join(root, 'data');
  const ck = join(root, 'checkpoints');
  await makeSyntheticDataset({ out: data, n: 3, nTest: 1, width: 64, height: 32, seed: 4 });
  const common = ['--dataroot', data, '--checkpoints_dir', ck, '--label_nc', '35', '--resize_or_crop', 'none', '--n_downsample_global', '1',
    '--n_blocks_global', '1', '--ndf', '8', '--num_D', '1', '--n_layers_D', '1', '--no_vgg_loss', '--display_freq', '0', '--print_freq', '0', '--nThreads', '1'];

  // G1 alone; its ngf is twice the local run's (G2's G1 has ngf · 2^n_local_enhancers).
  await runTraining([...common, '--name', 'global', '--netG', 'global', '--ngf', '8', '--niter', '1', '--niter_decay', '0', '--save_latest_freq', '0']);

  const messages: string[] = [];
  const localDir = join(ck, 'local');
  const result = await runTraining([...common, '--name', 'local', '--netG', 'local', '--ngf', '4', '--n_blocks_local', '1', '--niter', '2', '--niter_decay', '0',
    '--niter_fix_global', '1', '--load_pretrain', join(ck, 'global'), '--save_epoch_freq', '1', '--save_latest_freq', '1'], {
    onMessage: (m) => messages.push(m),
    // The latest checkpoint after the first iteration: G after one step of epoch 1.
    onSave: ({ which, totalSteps }) => { if (which === 'latest' && totalSteps === 1) copyFileSync(join(localDir, 'latest_net_G.pth'), join(root, 'step1_net_G.pth')); },
  });
  assert.equal(result.totalSteps, 6, '3 scenes × 2 epochs');
  assert.ok(messages.some((m) => m.startsWith('load_pretrain: G from')), messages.join('\n'));
  assert.ok(messages.some((m) => /epoch 1: G1 now trains/.test(m)), messages.join('\n'));

  const pre = loadTensorDict(join(ck, 'global', 'latest_net_G.pth'));
  const step1 = loadTensorDict(join(root, 'step1_net_G.pth'));
  const epoch1 = loadTensorDict(join(localDir, '1_net_G.pth'));
  const epoch2 = loadTensorDict(join(localDir, '2_net_G.pth'));
  t.after(() => dispose([pre, step1, epoch1, epoch2]));

  // G1's keys in G2 are the global run's without its output conv. With n_downsample_global 1 and one
  // residual block, G1's layers are: 0 pad, 1 conv 7×7, 2 norm, 3 relu, 4 conv down, 5 norm, 6 relu,
  // 7 resnet block, 8 conv transpose, 9 norm, 10 relu, 11 pad, 12 conv 7×7 (output), 13 tanh.
  const g1Keys = [...epoch1.keys()].filter((k) => k.startsWith('model.'));
  const enhancerKeys = [...epoch1.keys()].filter((k) => k.startsWith('model1_'));
  assert.ok(enhancerKeys.length > 0);
  assert.equal(g1Keys.length + enhancerKeys.length, epoch1.size, 'G2 holds G1 (model.*) and one enhancer (model1_*)');
  assert.deepEqual([...pre.keys()].filter((k) => !g1Keys.includes(k)), ['model.12.weight', 'model.12.bias']);

  for (const k of g1Keys) {
    assert.ok(same(step1.get(k)!, pre.get(k)!), `load_pretrain put the global run's ${k} in place`);
    assert.ok(same(epoch1.get(k)!, pre.get(k)!), `${k} unchanged through epoch 1`);
  }
  const g1Weights = g1Keys.filter((k) => k.endsWith('.weight'));
  assert.ok(g1Weights.length >= 5);
  for (const k of g1Weights) assert.ok(!same(epoch2.get(k)!, epoch1.get(k)!), `${k} trains in epoch 2`);
  for (const k of enhancerKeys.filter((k) => k.endsWith('.weight'))) {
    assert.ok(!same(epoch1.get(k)!, step1.get(k)!), `${k} trains in epoch 1`);
    assert.ok(!same(epoch2.get(k)!, epoch1.get(k)!), `${k} trains in epoch 2`);
  }
});
