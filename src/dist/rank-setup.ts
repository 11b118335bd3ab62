// A training run as one rank of a data-parallel job: what the options must satisfy across ranks,
// this rank's device, and the process group, from the launcher's environment.
import type { RunConfig } from '../run/config.js';
import { assertBackendAvailable, distributedAvailable, type DistBackend } from '../torch/index.js';
import { DataParallel } from './data-parallel.js';
import { rankDevice, type LaunchEnv } from './launch-env.js';

/**
 * What data-parallel training cannot do, refused before anything is written: a whole batch that
 * does not split evenly, and batch normalisation, whose statistics would be each rank's own
 * (no silent divergence from single-process training; SyncBatchNorm is not implemented).
 */
export function checkDataParallel(config: Pick<RunConfig, 'network'> & { train: Pick<RunConfig['train'], 'batchSize'> }, worldSize: number): void {
  if (worldSize <= 1) return;
  if (config.train.batchSize % worldSize !== 0) {
    throw new Error(`--batchSize ${config.train.batchSize} is the whole batch of all ${worldSize} ranks and must divide evenly among them: use a multiple of ${worldSize}`);
  }
  if (config.network.norm === 'batch') {
    throw new Error(`--norm batch with ${worldSize} ranks: each rank would normalise with its own batch statistics, which is not single-process training (synchronised batch norm is not implemented); use --norm instance (the default) or one rank`);
  }
}

/** How many ranks the built-in launcher starts: --nproc_per_node, or one per --gpu_ids device; 0 for none. */
export function launcherRanks(config: RunConfig): number {
  const n = config.train.nproc_per_node;
  const gpus = String(config.values.gpu_ids ?? '-1').split(',').map((s) => Number(s.trim())).filter((x) => x >= 0);
  if (n < 0) throw new Error(`--nproc_per_node ${n}: expected 0 (one process) or a number of ranks`);
  if (n > 0 && gpus.length > 1 && n !== gpus.length) {
    throw new Error(`--nproc_per_node ${n} with --gpu_ids ${config.values.gpu_ids}: one rank per listed device, so give ${gpus.length} ranks or list ${n} devices`);
  }
  if (n > 1) return n;
  return gpus.length > 1 ? gpus.length : 0;
}

/** The process group backend: NCCL for CUDA tensors where this build has it, else Gloo. */
export function backendFor(device: string, asked: 'auto' | DistBackend): DistBackend {
  if (asked !== 'auto') return asked;
  return device.startsWith('cuda') && distributedAvailable().nccl ? 'nccl' : 'gloo';
}

/** Joins the job this process is a rank of; returns the group and this rank's device. */
export function joinAsRank(config: RunConfig, env: LaunchEnv): { ranks: DataParallel; device: string; backend: DistBackend } {
  checkDataParallel(config, env.worldSize);
  const device = rankDevice(String(config.values.gpu_ids ?? '-1'), env.localRank);
  const backend = backendFor(device, config.train.dist_backend);
  assertBackendAvailable(backend);
  const ranks = DataParallel.join(env, {
    backend, timeoutSeconds: config.train.dist_timeout, bucketBytes: Math.max(1, Math.round(config.train.bucket_cap_mb * 1024 * 1024)),
  });
  return { ranks, device, backend };
}
