// `pix2pixhd fid PATH1 PATH2`: pytorch-fid's command. Each path is a folder of images or a .npz of
// statistics (mu, sigma); prints `FID: <value>` and, when both are folders, the KID. With
// --save_stats, PATH1 is a folder and PATH2 the .npz to write (pytorch-fid's --save-stats).
import { existsSync, statSync } from 'node:fs';
import { FID_DIMS, FidInceptionV3, defaultInceptionPath, type FidDims } from '../../models/inception-fid.js';
import {
  activationStatistics, fidImageFiles, frechetDistance, inceptionFeatures, kernelInceptionDistance, loadStatistics, saveStatistics,
  type ActivationStatistics, type KernelInceptionDistance,
} from '../../eval/fid/index.js';
import type { OptionDef } from '../../options/definitions.js';
import { helpText, OptionError, parseOptions } from '../../options/parse.js';
import { applyThreads, deviceFor } from '../../run/index.js';
import type { Tensor } from '../../torch/index.js';

const EXTRA: OptionDef[] = [
  { name: 'inception_weights', kind: 'string', default: '', help: `pytorch-fid's pt_inception-2015-12-05-6726825d.pth (default: ${defaultInceptionPath()}); nothing is downloaded`, groups: [] },
  { name: 'batch_size', kind: 'int', default: 50, help: 'images per Inception forward pass', groups: [] },
  { name: 'dims', kind: 'int', default: 2048, help: 'feature size: 64, 192, 768 or 2048 (the pool features every paper uses)', groups: [], choices: FID_DIMS.map(String) },
  { name: 'save_stats', kind: 'flag', default: false, help: 'write the statistics of the folder PATH1 to the .npz PATH2 instead of comparing', groups: [] },
  { name: 'kid_subsets', kind: 'int', default: 100, help: 'KID: number of random subsets (torch-fidelity\'s default)', groups: [] },
  { name: 'kid_subset_size', kind: 'int', default: 1000, help: 'KID: images per subset, capped at the smaller folder', groups: [] },
  { name: 'gpu_ids', kind: 'string', default: '-1', help: "'-1' for the CPU, '0' for the first CUDA device", groups: [] },
  { name: 'threads', kind: 'int', default: 0, help: 'libtorch threads; 0 = all cores', groups: [] },
  { name: 'seed', kind: 'int', default: 2020, help: 'seed of the KID subsets', groups: [] },
];
export const FID_USAGE = 'pix2pixhd fid PATH1 PATH2 [--inception_weights W] [--batch_size 50] [--dims 2048] [--save_stats]';
export const FID_HELP = () => helpText(FID_USAGE,
  'The Fréchet Inception Distance between two image sets, as pytorch-fid computes it (its FID Inception-v3,\n' +
  'images resized bilinearly to 299×299, 2048-d pool features). PATH1 and PATH2 are folders of images or\n' +
  '.npz statistics files (mu, sigma: pytorch-fid\'s own files load here and ours there). Between two folders\n' +
  'the KID (torch-fidelity\'s unbiased polynomial-kernel MMD over random subsets) is printed too.', [], EXTRA);

export interface FidReport {
  fid?: number;
  kid?: KernelInceptionDistance;
  saved?: string;
}

export async function fidCommand(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<FidReport> {
  const { values: v, positionals } = parseOptions(argv, [], { extra: EXTRA, allowPositionals: true });
  if (positionals.length !== 2) throw new OptionError(`fid takes two paths (usage: ${FID_USAGE})`);
  const [path1, path2] = positionals as [string, string];
  const dims = Number(v.dims) as FidDims;
  const device = deviceFor(String(v.gpu_ids));
  applyThreads(Number(v.threads));
  for (const p of v.save_stats ? [path1] : [path1, path2]) {
    if (!existsSync(p)) throw new OptionError(`${p} does not exist`);
  }
  const isFolder = (p: string) => statSync(p).isDirectory();
  let net: FidInceptionV3 | null = null;
  const features = async (folder: string): Promise<Tensor> => {
    if (!net) {
      net = FidInceptionV3.load(String(v.inception_weights) || undefined);
      if (device !== 'cpu') net.to(device);
    }
    const files = fidImageFiles(folder);
    if (files.length < 2) throw new Error(`${folder} holds ${files.length} image${files.length === 1 ? '' : 's'}; FID needs at least 2`);
    return inceptionFeatures(net, files, { dims, batchSize: Number(v.batch_size), device });
  };
  const owned: Tensor[] = [];
  try {
    if (v.save_stats) {
      if (!isFolder(path1)) throw new OptionError(`--save_stats: ${path1} must be a folder of images`);
      const f = await features(path1);
      owned.push(f);
      saveStatistics(path2, activationStatistics(f));
      out.write(`saved the statistics of ${f.size(0)} images of ${path1} to ${path2}\n`);
      return { saved: path2 };
    }
    const sides: { stats: ActivationStatistics; features?: Tensor }[] = [];
    for (const p of [path1, path2]) {
      if (isFolder(p)) {
        const f = await features(p);
        owned.push(f);
        sides.push({ stats: activationStatistics(f), features: f });
      } else {
        const stats = loadStatistics(p);
        if (stats.dims !== dims) throw new OptionError(`${p} holds ${stats.dims}-d statistics; give --dims ${stats.dims} or a file made with --dims ${dims}`);
        sides.push({ stats });
      }
    }
    const fid = frechetDistance(sides[0]!.stats, sides[1]!.stats);
    out.write(`FID: ${fid}\n`);
    const [f1, f2] = [sides[0]!.features, sides[1]!.features];
    if (!f1 || !f2) return { fid };
    const kid = kernelInceptionDistance(f1, f2, { subsets: Number(v.kid_subsets), subsetSize: Number(v.kid_subset_size), seed: Number(v.seed) });
    out.write(`KID: ${kid.mean} ± ${kid.std} (${kid.subsets} subsets of ${kid.subsetSize})\n`);
    return { fid, kid };
  } finally {
    for (const t of owned) t.dispose();
    (net as FidInceptionV3 | null)?.dispose();
  }
}
