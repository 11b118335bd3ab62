// A run's checkpoints, in the official naming so either implementation can load the other's:
// `{which}_net_G.pth`, `{which}_net_D.pth`, `{which}_net_E.pth` (state dicts) in the run folder.
// Beside them this project writes `{which}_optim_G.pth` / `{which}_optim_D.pth` (Adam states in
// PyTorch's layout) and `{which}_state.json` (where training stands), so `continue_train`
// resumes exactly; the official `iter.txt` is written too.
//
// Crash safety: every file is written to a temporary name and renamed; the state file is renamed
// last, so it never points at files that are not complete.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  type Adam, type AdamHyper, type AdamStateDict, loadTensorDict, tensorFromRaw, tensorToRaw, type nn, type Tensor,
} from '../torch/index.js';
import { isRawTensor, PyDict, PyTuple, pthFileChunks, pyFloat, readPthFile, type PyValue } from '../torch/pth/index.js';
import { stageFileSync, writeFileAtomicSync, type StagedFile } from '../util/atomic-file.js';

export interface TrainingState {
  /** The epoch to continue in (1-based) and the items of it already done. */
  epoch: number;
  epochIter: number;
  totalSteps: number;
  /** True once G1 has joined training after niter_fix_global epochs. */
  globalUnfrozen: boolean;
}

export function netPath(dir: string, which: string, net: 'G' | 'D' | 'E' | 'G_ema'): string {
  return join(dir, `${which}_net_${net}.pth`);
}

function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomicSync(path, JSON.stringify(value, null, 2) + '\n');
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

/**
 * Saves networks, optimizers and the training state under `which` ('latest' or an epoch). Every
 * file is first written whole (and fsynced) under a temporary name; only then are they renamed,
 * one after the other, the state last. A crash while writing, the slow part, leaves the previous
 * checkpoint as it was: its networks, optimizers and state still belong together.
 */
export function saveCheckpoint(dir: string, which: string, parts: CheckpointParts, state?: TrainingState): void {
  const files: [string, () => PyValue][] = [[netPath(dir, which, 'G'), () => stateDictToPy(parts.G)]];
  if (parts.D) files.push([netPath(dir, which, 'D'), () => stateDictToPy(parts.D!)]);
  if (parts.E) files.push([netPath(dir, which, 'E'), () => stateDictToPy(parts.E!)]);
  if (parts.G_ema) files.push([netPath(dir, which, 'G_ema'), () => stateDictToPy(parts.G_ema!)]);
  if (parts.optimizerG) files.push([join(dir, `${which}_optim_G.pth`), () => adamToPy(parts.optimizerG!.stateDict())]);
  if (parts.optimizerD) files.push([join(dir, `${which}_optim_D.pth`), () => adamToPy(parts.optimizerD!.stateDict())]);
  const staged: StagedFile[] = [];
  try {
    for (const [path, value] of files) staged.push(stageFileSync(path, pthFileChunks(path, value(), { archiveName: basename(path, '.pth') })));
  } catch (e) {
    for (const f of staged) f.discard();
    throw e;
  }
  for (const f of staged) f.commit();
  if (state) {
    writeJsonAtomic(join(dir, `${which}_state.json`), state);
    // The official train.py reads iter.txt (epoch, then iteration) on --continue_train.
    writeFileAtomicSync(join(dir, 'iter.txt'), `${state.epoch}\n${state.epochIter}\n`);
  }
}

/** Loads a state dict file into a module strictly; the error names the file on any mismatch. */
export function loadNetwork(module: nn.Module, path: string): void {
  if (!existsSync(path)) throw new Error(`checkpoint not found: ${path}`);
  const tensors = loadTensorDict(path);
  try {
    module.loadStateDict(tensors, { source: path });
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

export function loadOptimizer(opt: Adam, path: string): void {
  const sd = adamFromPy(readPthFile(path), path);
  try {
    opt.loadStateDict(sd, path);
  } finally {
    for (const s of sd.state.values()) { s.expAvg.dispose(); s.expAvgSq.dispose(); }
  }
}

export function loadTrainingState(dir: string, which: string): TrainingState | undefined {
  const path = join(dir, `${which}_state.json`);
  if (existsSync(path)) {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as TrainingState;
    } catch (e) {
      throw new Error(`${path}: unreadable training state (${(e as Error).message})`);
    }
  }
  // A run of the official code: iter.txt holds the epoch and the iteration within it.
  const iterPath = join(dir, 'iter.txt');
  if (!existsSync(iterPath)) return undefined;
  const [epoch, epochIter] = readFileSync(iterPath, 'utf8').split(/[\s,]+/).filter(Boolean).map(Number);
  if (!Number.isInteger(epoch) || !Number.isInteger(epochIter)) throw new Error(`${iterPath}: expected two integers (epoch, iteration)`);
  return { epoch: epoch!, epochIter: epochIter!, totalSteps: 0, globalUnfrozen: false };
}
