// Loading a run's generator: the hint under a checkpoint that does not fit is given only where the
// options can be the cause, and says which options fit when the checkpoint shows it (the local
// enhancer's model1_* tensors of the published models).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildGenerator, type NetworkOptions } from '../../src/models/from-options.js';
import { saveCheckpoint } from '../../src/run/checkpoint.js';
import { loadGenerator } from '../../src/run/networks.js';
import { saveRunOptions } from '../../src/run/options-file.js';

const base: NetworkOptions = {
  label_nc: 0, input_nc: 3, output_nc: 3, netG: 'global', ngf: 4, n_downsample_global: 1, n_blocks_global: 1, n_blocks_local: 1, n_local_enhancers: 1,
  norm: 'instance', no_instance: true, instance_feat: false, label_feat: false, feat_num: 3, nef: 4, n_downsample_E: 1, load_features: false,
  ndf: 4, n_layers_D: 1, num_D: 1, no_lsgan: false,
};

function runFolder(t: { after(fn: () => void): void }, o: NetworkOptions): string {
  const dir = mkdtempSync(join(tmpdir(), 'p2phd-nets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const G = buildGenerator(o, 1);
  saveCheckpoint(dir, 'latest', { G });
  G.dispose();
  return dir;
}

function loadError(o: NetworkOptions, dir: string): string {
  try {
    loadGenerator(o, dir, 'latest').dispose();
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail('the checkpoint loaded');
}

test('an official local checkpoint loaded as global (no saved options) hints --netG local, and the enhancer count', (t) => {
  const local = runFolder(t, { ...base, netG: 'local' });
  const asGlobal = loadError(base, local);
  assert.match(asGlobal, /model1_1/, 'the loader names the tensors that do not fit');
  assert.match(asGlobal, /\(this checkpoint is a local generator with 1 local enhancer .*: give --netG local \(and the run's --ngf/);

  const two = runFolder(t, { ...base, netG: 'local', n_local_enhancers: 2 });
  assert.match(loadError({ ...base, netG: 'local' }, two), /local generator with 2 local enhancers .*give --netG local --n_local_enhancers 2/);
  assert.match(loadError(base, two), /give --netG local --n_local_enhancers 2/);

  const global = runFolder(t, base);
  assert.match(loadError({ ...base, netG: 'local' }, global), /no local enhancer \(no model1_\* tensors\): it is a global generator, --netG global/);
  assert.match(loadError({ ...base, ngf: 8 }, global), /\(the options describe a different network than the checkpoint: give the run's own --netG/);
});

test('a corrupt checkpoint is not blamed on the options; with saved options a misfit says the checkpoint differs', (t) => {
  const dir = runFolder(t, base);
  saveRunOptions(dir, { ...base } as unknown as Record<string, string | number | boolean>);
  const path = join(dir, 'latest_net_G.pth');

  assert.match(loadError({ ...base, ngf: 8 }, dir), /the run's saved options in .* do not describe this checkpoint's network: was the file replaced/);
  assert.doesNotMatch(loadError({ ...base, ngf: 8 }, dir), /the options describe a different network/);

  writeFileSync(path, Buffer.from('PK\x03\x04 this is not a whole zip archive'));
  const corrupt = loadError(base, dir);
  assert.ok(corrupt.includes(path), `names the file: ${corrupt}`);
  assert.doesNotMatch(corrupt, /options describe|--netG/, 'a file that cannot be read is not an options problem');
  rmSync(join(dir, 'opt.json'));
  rmSync(join(dir, 'opt.txt'));
  assert.doesNotMatch(loadError(base, dir), /options describe|--netG/, 'nor without saved options');
});
