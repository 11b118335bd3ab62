// Where this process sits in a distributed job, from the environment the launchers set: torchrun
// (and this project's --nproc_per_node launcher) sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR
// and MASTER_PORT; Slurm's srun sets SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID and the job's node
// list, whose first host serves the rendezvous (as PyTorch's Slurm recipes do).

export interface LaunchEnv {
  rank: number;
  worldSize: number;
  /** The rank among this machine's ranks: picks the GPU. */
  localRank: number;
  masterAddr: string;
  masterPort: number;
  /** Which launcher's variables these are, for messages. */
  source: 'torchrun' | 'slurm';
  /**
   * torchrun's agent already serves the rendezvous store at MASTER_PORT (its static rendezvous,
   * TORCHELASTIC_USE_AGENT_STORE=True): every rank connects to it, none serves one.
   */
  agentStore: boolean;
}

export const DEFAULT_MASTER_PORT = 29500;

type Env = Record<string, string | undefined>;

function intVar(env: Env, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}=${raw}: expected an integer ≥ ${min}`);
  return n;
}

/**
 * The first host of a Slurm node list: "gpu[07-09,12],cpu3" → "gpu07", "a,b" → "a",
 * "node-[1-3]" → "node-1", "r[001-004]n[01-02]" → "r001n01" (zero padding kept as written).
 */
export function firstSlurmHost(nodeList: string): string {
  let depth = 0;
  let end = nodeList.length;
  for (let i = 0; i < nodeList.length; i++) {
    const c = nodeList[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === ',' && depth === 0) { end = i; break; }
  }
  // Every bracket of the first entry ("r[001-004]n[01-02]") stands for its first value.
  return nodeList.slice(0, end).trim().replace(/\[([^\]]*)\]/g, (_, inner: string) => inner.split(',')[0]!.split('-')[0]!);
}

/**
 * The job this process belongs to, or null when it runs alone (no launcher variables, or a world
 * of one). torchrun's variables take precedence over Slurm's (torchrun inside an srun step).
 */
export function launchEnvFrom(env: Env = process.env): LaunchEnv | null {
  const port = intVar(env, 'MASTER_PORT', 1) ?? DEFAULT_MASTER_PORT;
  if (env.WORLD_SIZE !== undefined && env.WORLD_SIZE !== '') {
    const worldSize = intVar(env, 'WORLD_SIZE', 1)!;
    const rank = intVar(env, 'RANK', 0);
    if (rank === undefined) throw new Error('WORLD_SIZE is set but RANK is not: start every rank through torchrun (or set RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT as it does)');
    if (rank >= worldSize) throw new Error(`RANK=${rank} is not a rank of WORLD_SIZE=${worldSize}`);
    if (worldSize === 1) return null;
    return {
      rank, worldSize, localRank: intVar(env, 'LOCAL_RANK', 0) ?? 0, masterAddr: env.MASTER_ADDR || '127.0.0.1', masterPort: port, source: 'torchrun',
      agentStore: env.TORCHELASTIC_USE_AGENT_STORE === 'True',
    };
  }
  const ntasks = intVar(env, 'SLURM_NTASKS', 1);
  const procId = intVar(env, 'SLURM_PROCID', 0);
  if (ntasks !== undefined && procId !== undefined && ntasks > 1) {
    if (procId >= ntasks) throw new Error(`SLURM_PROCID=${procId} is not a rank of SLURM_NTASKS=${ntasks}`);
    const nodeList = env.SLURM_JOB_NODELIST || env.SLURM_NODELIST;
    const masterAddr = env.MASTER_ADDR || (nodeList ? firstSlurmHost(nodeList) : '');
    if (!masterAddr) throw new Error('Slurm: neither MASTER_ADDR nor SLURM_JOB_NODELIST/SLURM_NODELIST is set, so the rendezvous host is unknown');
    return { rank: procId, worldSize: ntasks, localRank: intVar(env, 'SLURM_LOCALID', 0) ?? 0, masterAddr, masterPort: port, source: 'slurm', agentStore: false };
  }
  return null;
}

/**
 * The device of a rank: the CPU for --gpu_ids -1; with several ids, the id at this rank's local
 * rank (one rank per listed device); with one id, the CUDA device numbered by the local rank (as
 * torchrun scripts use LOCAL_RANK).
 */
export function rankDevice(gpuIds: string, localRank: number): string {
  const ids = gpuIds.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number).filter((n) => n >= 0);
  if (ids.length === 0) return 'cpu';
  if (ids.length === 1) return `cuda:${localRank}`;
  const id = ids[localRank];
  if (id === undefined) throw new Error(`--gpu_ids ${gpuIds} lists ${ids.length} devices, but this is local rank ${localRank}: start at most one rank per listed device`);
  return `cuda:${id}`;
}
