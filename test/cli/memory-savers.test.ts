// The memory savers through the command line: `train --recompute_blocks --D_real_first` prints an
// estimate that knows them and ends with the same weights as a run without them; a combination
// they cannot honour is refused before anything is written.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTensorDict, tidy } from '../../src/torch/index.js';
import { cli, tempDir, tinyTrainArgs } from './helpers.js';

test('train --recompute_blocks --D_real_first: the estimate says so, and the weights equal those of a run without them', (t) => {
  const root = tempDir(t);
  const data = join(root, 'data');
  const ck = join(root, 'checkpoints');
  assert.equal(cli(['make-dataset', 'synthetic', '--out', data, '--n', '2', '--n_test', '1', '--size', '64x32', '--seed', '4']).status, 0);
  const run = (name: string, savers: string[]) => {
    const r = cli(['train', ...tinyTrainArgs(data, ck, name), '--niter', '1', '--niter_decay', '0', '--netG', 'local', '--n_blocks_local', '2', ...savers]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const plain = run('plain', []);
  const saving = run('saving', ['--recompute_blocks', '--D_real_first']);
  assert.match(saving, /G's residual blocks recomputed in the backward \(--recompute_blocks\), D's real pass back-propagated first \(--D_real_first\)/);
  assert.match(plain, /lower it with --recompute_blocks, --D_real_first,/);
  for (const net of ['G', 'D']) {
    const a = loadTensorDict(join(ck, 'plain', `latest_net_${net}.pth`));
    const b = loadTensorDict(join(ck, 'saving', `latest_net_${net}.pth`));
    assert.deepEqual([...b.keys()], [...a.keys()]);
    for (const [k, x] of a) assert.equal(tidy(() => x.sub(b.get(k)!).abs().max().item()), 0, `${net} ${k}`);
  }
});

test('train --recompute_blocks with --norm batch is refused with its reason, before anything is written', (t) => {
  const dir = tempDir(t);
  const r = cli(['train', '--name', 'p', '--checkpoints_dir', dir, '--dataroot', dir, '--norm', 'batch', '--recompute_blocks']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--recompute_blocks with --norm batch: a recomputed block would update batch norm's running statistics a second time/);
  assert.ok(!existsSync(join(dir, 'p')) || readdirSync(join(dir, 'p')).length === 0, 'no run folder was started');
});
