// A run's generator, built from its options and loaded (strictly) from `{which_epoch}_net_G.pth`.
import { existsSync, readdirSync } from 'node:fs';
import { buildGenerator, type Generator, type NetworkOptions } from '../models/from-options.js';
import { loadNetwork, netPath } from '../train/checkpoint.js';

export function loadGenerator(o: NetworkOptions, dir: string, which: string, device = 'cpu'): Generator {
  const path = netPath(dir, which, 'G');
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
