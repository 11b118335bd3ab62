// A run's checkpoints, in the official naming so either implementation can load the other's:
// `{which}_net_G.pth`, `{which}_net_D.pth`, `{which}_net_E.pth` (state dicts) in the run folder.
// Training saves go through generation.ts: each save is one generation (networks, Adam states in
// PyTorch's layout, the image pool) made current by one rename of `latest_state.json`, and the
// official names (and `iter.txt`) are hard links to it. This file turns modules and optimizers
// into those files and back.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  type Adam, type AdamHyper, type AdamStateDict, readRawStateDict, tensorFromRaw, tensorToRaw, type nn, type Tensor,
} from '../torch/index.js';
import { isRawTensor, PyDict, PyTuple, pthFileChunks, pyFloat, readPthFile, type PyValue } from '../torch/pth/index.js';
import { stageFileSync, type StagedFile } from '../util/atomic-file.js';
import {
  checkGeneration, generationPath, isGenerationRecord, readStateFile, saveGeneration,
  type GenerationContent, type GenerationFile, type GenerationRecord, type TrainingState,
} from './generation.js';

export type { TrainingState } from './generation.js';

export function netPath(dir: string, which: string, net: 'G' | 'D' | 'E' | 'G_ema'): string {
  return join(dir, `${which}_net_${net}.pth`);
}

/** Adam's state as PyTorch writes it: {'state': {i: {step, exp_avg, exp_avg_sq}}, 'param_groups': […]}. */
export function adamToPy(sd: AdamStateDict): PyDict {
  const state = new PyDict();
  for (const [i, s] of sd.state) {
    state.set(i, PyDict.fromObject({
      step: { kind: 'tensor', dtype: 'float32', shape: [], data: Float32Array.of(s.step) },
      exp_avg: tensorToRaw(s.expAvg),
      exp_avg_sq: tensorToRaw(s.expAvgSq),
    }));
  }
  const groups = sd.paramGroups.map((g) => PyDict.fromObject({
    lr: pyFloat(g.hyper.lr), betas: new PyTuple([pyFloat(g.hyper.betas[0]), pyFloat(g.hyper.betas[1])]), eps: pyFloat(g.hyper.eps),
    weight_decay: pyFloat(g.hyper.weightDecay), amsgrad: false, maximize: false, foreach: null, capturable: false, params: g.params,
  }));
  return PyDict.fromObject({ state, param_groups: groups });
}

function num(v: PyValue | undefined, what: string, file: string): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'valueOf' in v && typeof (v as { valueOf(): unknown }).valueOf() === 'number') return (v as { valueOf(): number }).valueOf();
  if (isRawTensor(v) && v.data.length === 1) return Number(v.data[0]);
  throw new Error(`${file}: ${what} is not a number`);
}

/** Reads an Adam state written by adamToPy or by PyTorch's optimizer.state_dict(). Caller owns the tensors. */
export function adamFromPy(value: PyValue, file: string): AdamStateDict {
  if (!(value instanceof PyDict) || !(value.get('state') instanceof PyDict) || !Array.isArray(value.get('param_groups'))) {
    throw new Error(`${file}: not an optimizer state (expected a dict with 'state' and 'param_groups')`);
  }
  const state = new Map<number, { step: number; expAvg: Tensor; expAvgSq: Tensor }>();
  for (const [k, v] of value.get('state') as PyDict) {
    if (!(v instanceof PyDict) || !isRawTensor(v.get('exp_avg')) || !isRawTensor(v.get('exp_avg_sq'))) {
      throw new Error(`${file}: state of parameter ${String(k)} lacks exp_avg / exp_avg_sq (not an Adam state)`);
    }
    state.set(Number(k), {
      step: num(v.get('step'), `step of parameter ${String(k)}`, file),
      expAvg: tensorFromRaw(v.get('exp_avg') as never),
      expAvgSq: tensorFromRaw(v.get('exp_avg_sq') as never),
    });
  }
  const paramGroups = (value.get('param_groups') as PyValue[]).map((g, gi) => {
    if (!(g instanceof PyDict)) throw new Error(`${file}: param_groups[${gi}] is not a dict`);
    const betas = g.get('betas');
    const b = betas instanceof PyTuple ? betas.items : Array.isArray(betas) ? betas : [];
    const hyper: AdamHyper = {
      lr: num(g.get('lr'), 'lr', file), betas: [num(b[0], 'betas[0]', file), num(b[1], 'betas[1]', file)],
      eps: num(g.get('eps'), 'eps', file), weightDecay: num(g.get('weight_decay') ?? 0, 'weight_decay', file),
    };
    const params = g.get('params');
    if (!Array.isArray(params)) throw new Error(`${file}: param_groups[${gi}].params is not a list`);
    return { hyper, params: params.map((p) => Number(p)) };
  });
  return { state, paramGroups };
}

export interface CheckpointParts {
  G: nn.Module;
  D?: nn.Module;
  E?: nn.Module;
  /** The moving average of G's weights (--ema). */
  G_ema?: nn.Module;
  optimizerG?: Adam;
  optimizerD?: Adam;
}

const stateDictToPy = (m: nn.Module): PyDict => PyDict.ordered([...m.stateDict()].map(([k, t]) => [k, tensorToRaw(t)] as [string, PyValue]));

/** What a save writes of `parts`, each as its file's stem (`net_G`, `optim_D`, …) and its content, made when written. */
function partValues(parts: CheckpointParts): [GenerationFile, () => PyValue][] {
  const values: [GenerationFile, () => PyValue][] = [['net_G', () => stateDictToPy(parts.G)]];
  if (parts.D) values.push(['net_D', () => stateDictToPy(parts.D!)]);
  if (parts.E) values.push(['net_E', () => stateDictToPy(parts.E!)]);
  if (parts.G_ema) values.push(['net_G_ema', () => stateDictToPy(parts.G_ema!)]);
  if (parts.optimizerG) values.push(['optim_G', () => adamToPy(parts.optimizerG!.stateDict())]);
  if (parts.optimizerD) values.push(['optim_D', () => adamToPy(parts.optimizerD!.stateDict())]);
  return values;
}

/**
 * Writes networks (and optimizers) under `which` with their official names (`{which}_net_G.pth`,
 * …), each file whole before it is renamed into place; for tools and tests. Training saves use
 * `saveTrainingCheckpoint`.
 */
export function saveCheckpoint(dir: string, which: string, parts: CheckpointParts): void {
  const staged: StagedFile[] = [];
  try {
    for (const [stem, value] of partValues(parts)) {
      const path = join(dir, `${which}_${stem}.pth`);
      staged.push(stageFileSync(path, pthFileChunks(path, value(), { archiveName: basename(path, '.pth') })));
    }
  } catch (e) {
    for (const f of staged) f.discard();
    throw e;
  }
  for (const f of staged) f.commit();
}

/**
 * One training save: a generation holding G, D, E, both optimizers and the image pool's images,
 * made current atomically with `state`; `names` are the official names it provides ('latest', and
 * the epoch number at a numbered save).
 */
export function saveTrainingCheckpoint(dir: string, parts: CheckpointParts & { pool?: Tensor[] }, state: TrainingState, names: string[]): GenerationRecord {
  const values = partValues(parts);
  if (parts.pool) values.push(['pool', () => PyDict.ordered(parts.pool!.map((t, i) => [String(i), tensorToRaw(t)] as [string, PyValue]))]);
  const content: GenerationContent = {};
  for (const [stem, value] of values) content[stem] = () => pthFileChunks(stem, value(), { archiveName: stem });
  return saveGeneration(dir, content, state, names);
}

/** The files a resume loads: from the current generation, or the official names of older layouts. */
export interface ResumeFiles {
  G: string;
  D: string;
  E: string;
  /** The moving average of G's weights (--ema), where the checkpoint has one. */
  G_ema?: string;
  optimizerG?: string;
  optimizerD?: string;
  pool?: string;
}

/** Where `which`'s files are: the current generation's for 'latest' when the state names one. */
export function checkpointFiles(dir: string, which: string): ResumeFiles {
  const state = which === 'latest' ? readStateFile(dir) : undefined;
  if (state && isGenerationRecord(state)) {
    checkGeneration(dir, state);
    const at = (f: Parameters<typeof generationPath>[2]) => (state.files[f] !== undefined ? generationPath(dir, state, f) : undefined);
    return {
      G: at('net_G')!, D: at('net_D') ?? netPath(dir, which, 'D'), E: at('net_E') ?? netPath(dir, which, 'E'), G_ema: at('net_G_ema'),
      optimizerG: at('optim_G'), optimizerD: at('optim_D'), pool: at('pool'),
    };
  }
  // Earlier versions of this project kept the optimizers beside the networks; the official code keeps none.
  const optimizer = (n: 'G' | 'D') => (existsSync(join(dir, `${which}_optim_${n}.pth`)) ? join(dir, `${which}_optim_${n}.pth`) : undefined);
  const ema = netPath(dir, which, 'G_ema');
  return {
    G: netPath(dir, which, 'G'), D: netPath(dir, which, 'D'), E: netPath(dir, which, 'E'), G_ema: existsSync(ema) ? ema : undefined,
    optimizerG: optimizer('G'), optimizerD: optimizer('D'),
  };
}

/** Loads a state dict file into a module strictly; the error names the file on any mismatch. */
export function loadNetwork(module: nn.Module, path: string): void {
  if (!existsSync(path)) throw new Error(`checkpoint not found: ${path}`);
  // Each tensor goes from the file's bytes straight into its parameter.
  module.loadStateDict(readRawStateDict(path), { source: path });
}

export function loadOptimizer(opt: Adam, path: string): void {
  const sd = adamFromPy(readPthFile(path), path);
  try {
    opt.loadStateDict(sd, path);
  } finally {
    for (const s of sd.state.values()) { s.expAvg.dispose(); s.expAvgSq.dispose(); }
  }
}

/**
 * Where training stands in a run folder: the state of its current generation (or of an earlier
 * version's state file), or the official iter.txt (no step count: the caller rebuilds it), or
 * undefined when nothing was saved yet.
 */
export function loadTrainingState(dir: string): TrainingState | undefined {
  const saved = readStateFile(dir);
  if (saved) return saved;
  // A run of the official code: iter.txt holds the epoch and the iteration within it.
  const iterPath = join(dir, 'iter.txt');
  if (!existsSync(iterPath)) return undefined;
  const [epoch, epochIter] = readFileSync(iterPath, 'utf8').split(/[\s,]+/).filter(Boolean).map(Number);
  if (!Number.isInteger(epoch) || !Number.isInteger(epochIter)) throw new Error(`${iterPath}: expected two integers (epoch, iteration)`);
  return { epoch: epoch!, epochIter: epochIter!, totalSteps: 0, globalUnfrozen: false };
}
