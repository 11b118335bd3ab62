// A run's generator, built from its options and loaded (strictly) from `{which_epoch}_net_G.pth`;
// its feature encoder likewise from `{which_epoch}_net_E.pth`.
import { existsSync, readdirSync } from 'node:fs';
import type { Encoder } from '../models/encoder.js';
import { buildEncoder, buildGenerator, usesFeatures, type Generator, type NetworkOptions } from '../models/from-options.js';
import { loadNetwork, netPath } from './checkpoint.js';

export function loadGenerator(o: NetworkOptions, dir: string, which: string, device = 'cpu', opts: { ema?: boolean } = {}): Generator {
  const path = netPath(dir, which, opts.ema ? 'G_ema' : 'G');
  if (opts.ema && !existsSync(path)) throw new Error(`--use_ema: no ${path} (the run was trained without --ema, or not to this checkpoint)`);
  if (!existsSync(path)) {
    const available = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('_net_G.pth')) : [];
    throw new Error(
      `no generator checkpoint ${path}` +
      (available.length ? ` (this run has: ${available.join(', ')}; choose one with --which_epoch)` : existsSync(dir) ? ' (the folder holds no *_net_G.pth)' : ` (no folder ${dir}: check --checkpoints_dir and --name)`),
    );
  }
  const G = buildGenerator(o, 0);
  try {
    loadNetwork(G, path);
  } catch (e) {
    G.dispose();
    throw new Error(`${(e as Error).message}\n(the options describe a different network than the checkpoint: give the run's own --netG, --ngf, --n_downsample_global, … or keep opt.json beside the checkpoint)`);
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
  const path = netPath(dir, which, 'E');
  if (!existsSync(path)) {
    const available = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('_net_E.pth')) : [];
    throw new Error(`no encoder checkpoint ${path}` + (available.length ? ` (this run has: ${available.join(', ')}; choose one with --which_epoch)` : ''));
  }
  const E = buildEncoder(o, 0)!;
  try {
    loadNetwork(E, path);
  } catch (e) {
    E.dispose();
    throw new Error(`${(e as Error).message}\n(the options describe a different encoder than the checkpoint: give the run's own --feat_num, --nef, --n_downsample_E, or keep opt.json beside it)`);
  }
  if (device !== 'cpu') E.to(device);
  return E.eval();
}
