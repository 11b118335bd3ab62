// A run's generator, built from its options and loaded (strictly) from `{which_epoch}_net_G.pth`
// (for 'latest', the current checkpoint generation's G); its feature encoder likewise.
import { existsSync, readdirSync } from 'node:fs';
import type { Encoder } from '../models/encoder.js';
import { buildEncoder, buildGenerator, usesFeatures, type Generator, type NetworkOptions } from '../models/from-options.js';
import { readRawStateDict, type nn } from '../torch/index.js';
import { checkpointFiles, netPath } from './checkpoint.js';
import { loadRunOptions } from './options-file.js';

/**
 * Loads a checkpoint into a module strictly. A file that cannot be read is reported as it is; a
 * file whose tensors do not fit gets `hint` only when the options can be the cause: when they were
 * given by hand because the folder keeps no saved options (opt.json / opt.txt). With saved options
 * the options are the run's own, so the checkpoint is what differs.
 */
function loadStrictly(module: nn.Module, path: string, dir: string, hint: (keys: string[]) => string): void {
  // Each tensor goes from the file's bytes straight into its parameter.
  const tensors = readRawStateDict(path);
  try {
    module.loadStateDict(tensors, { source: path });
  } catch (e) {
    const why = loadRunOptions(dir) === undefined
      ? hint([...tensors.keys()])
      : `the run's saved options in ${dir} (opt.json / opt.txt) do not describe this checkpoint's network: was the file replaced, or copied from another run?`;
    throw new Error(`${(e as Error).message}\n(${why})`);
  }
}

/**
 * Why G's checkpoint may not fit the options given by hand. The published local models (e.g.
 * label2city_1024p) hold `model1_1.*`, `model1_2.*` (the local enhancer) beside G1's `model.*`:
 * loaded with the default --netG global they need --netG local and their enhancer count.
 */
function generatorHint(o: NetworkOptions, keys: string[]): string {
  const enhancers = Math.max(0, ...keys.map((k) => /^model(\d+)_[12]\./.exec(k)).filter((m) => m !== null).map((m) => Number(m[1])));
  const generic = "give the run's own --netG, --ngf, --n_downsample_global, … or keep opt.json beside the checkpoint";
  if (enhancers > 0 && (o.netG !== 'local' || o.n_local_enhancers !== enhancers)) {
    return `this checkpoint is a local generator with ${enhancers} local enhancer${enhancers === 1 ? '' : 's'} (its model${enhancers}_1.* / model${enhancers}_2.* tensors): ` +
      `give --netG local${enhancers === 1 ? '' : ` --n_local_enhancers ${enhancers}`} (and the run's --ngf, --n_downsample_global, …)`;
  }
  if (enhancers === 0 && o.netG === 'local') return `this checkpoint has no local enhancer (no model1_* tensors): it is a global generator, --netG global; ${generic}`;
  return `the options describe a different network than the checkpoint: ${generic}`;
}

export function loadGenerator(o: NetworkOptions, dir: string, which: string, device = 'cpu', opts: { ema?: boolean } = {}): Generator {
  // 'latest' of a training run: its current generation, whose G, G_ema and E always belong together.
  const files = checkpointFiles(dir, which);
  if (opts.ema && !files.G_ema) throw new Error(`--use_ema: no ${netPath(dir, which, 'G_ema')} (the run was trained without --ema, or not to this checkpoint)`);
  const path = opts.ema ? files.G_ema! : files.G;
  if (!existsSync(path)) {
    const available = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('_net_G.pth')) : [];
    throw new Error(
      `no generator checkpoint ${path}` +
      (available.length ? ` (this run has: ${available.join(', ')}; choose one with --which_epoch)` : existsSync(dir) ? ' (the folder holds no *_net_G.pth)' : ` (no folder ${dir}: check --checkpoints_dir and --name)`),
    );
  }
  const G = buildGenerator(o, 0);
  try {
    loadStrictly(G, path, dir, (keys) => generatorHint(o, keys));
  } catch (e) {
    G.dispose();
    throw e;
  }
  if (device !== 'cpu') G.to(device);
  return G.eval();
}

/** The run's feature encoder E, loaded strictly from `{which}_net_E.pth`. */
export function loadEncoder(o: NetworkOptions, dir: string, which: string, device = 'cpu'): Encoder {
  if (!usesFeatures(o)) throw new Error('this run does not use features (trained without --instance_feat / --label_feat): it has no encoder');
  if (o.load_features) {
    throw new Error('this run was trained on precomputed feature maps (--load_features): it has no encoder of its own; use clusters (--cluster_path), or the run whose E made the maps');
  }
  const path = checkpointFiles(dir, which).E;
  if (!existsSync(path)) {
    const available = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('_net_E.pth')) : [];
    throw new Error(`no encoder checkpoint ${path}` + (available.length ? ` (this run has: ${available.join(', ')}; choose one with --which_epoch)` : ''));
  }
  const E = buildEncoder(o, 0)!;
  try {
    loadStrictly(E, path, dir, () => "the options describe a different encoder than the checkpoint: give the run's own --feat_num, --nef, --n_downsample_E, or keep opt.json beside it");
  } catch (e) {
    E.dispose();
    throw e;
  }
  if (device !== 'cpu') E.to(device);
  return E.eval();
}
