// Checkpoints: networks and Adam's moments survive a save/load round trip exactly (so training
// continues as if never stopped), Adam's file is one PyTorch's optimizer accepts, the official
// iter.txt is written, and a checkpoint of another architecture is refused naming the file.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Adam, noGrad, tidy, zerosLike, onesLike, keep, type Tensor, type nn } from '../../src/torch/index.js';
import { GlobalGenerator, initWeights, MultiscaleDiscriminator } from '../../src/models/index.js';
import { checkpointFiles, loadNetwork, loadOptimizer, loadTrainingState, netPath, saveCheckpoint, saveTrainingCheckpoint } from '../../src/run/checkpoint.js';
import { GENERATIONS_DIR, type GenerationRecord } from '../../src/run/generation.js';
import { TrainStep } from '../../src/train/step.js';
import { PY, python, uniform } from '../models/helpers.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'p2phd-ckpt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A tiny G (4 label channels → 3), D, their Adams and a training step. */
function tinyRun(seed: number, lr = 2e-4) {
  const G = initWeights(new GlobalGenerator({ input_nc: 4, output_nc: 3, ngf: 4, n_downsample_global: 1, n_blocks_global: 1 }), { seed });
  const D = initWeights(new MultiscaleDiscriminator({ input_nc: 7, ndf: 4, n_layers_D: 1, num_D: 1 }), { seed: seed + 1 });
  const optimizerG = new Adam(G.parameters(), { lr, betas: [0.5, 0.999] });
  const optimizerD = new Adam(D.parameters(), { lr, betas: [0.5, 0.999] });
  const step = new TrainStep({ G, D, optimizerG, optimizerD }, { num_D: 1, n_layers_D: 1, no_vgg_loss: true });
  const dispose = () => { optimizerG.dispose(); optimizerD.dispose(); G.dispose(); D.dispose(); };
  return { G, D, optimizerG, optimizerD, step, dispose };
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tidy(() => a.sub(b).abs().max().item());
}

function assertSameWeights(a: nn.Module, b: nn.Module, what: string): void {
  const sa = a.stateDict();
  const sb = b.stateDict();
  assert.deepEqual([...sa.keys()], [...sb.keys()]);
  for (const [k, t] of sa) assert.equal(maxAbsDiff(t, sb.get(k)!), 0, `${what}: ${k} differs`);
}

function assertSameAdam(a: Adam, b: Adam, what: string): void {
  assert.equal(a.state.size, b.state.size, `${what}: number of states`);
  assert.ok(a.state.size > 0);
  for (const [i, s] of a.state) {
    const r = b.state.get(i);
    assert.ok(r, `${what}: no state for parameter ${i}`);
    assert.equal(r.step, s.step, `${what}: step of ${i}`);
    assert.equal(maxAbsDiff(s.expAvg, r.expAvg), 0, `${what}: exp_avg of ${i}`);
    assert.equal(maxAbsDiff(s.expAvgSq, r.expAvgSq), 0, `${what}: exp_avg_sq of ${i}`);
  }
  assert.deepEqual(a.paramGroups.map((g) => g.hyper), b.paramGroups.map((g) => g.hyper), `${what}: hyper-parameters`);
}

function batch() {
  const condition = uniform([1, 4, 16, 16], 11, 0, 1);
  return { condition, input: condition, realImage: uniform([1, 3, 16, 16], 12) };
}

test('saveTrainingCheckpoint → loadNetwork/loadOptimizer restores weights and Adam moments; one more step matches the original', (t) => {
  const dir = tempDir(t);
  const a = tinyRun(1);
  const b = tinyRun(50, 0.01); // other weights, another lr: all of it must come from the files
  t.after(() => { a.dispose(); b.dispose(); });
  const data = batch();
  a.step.step(data);
  a.step.step(data);
  saveTrainingCheckpoint(dir, { G: a.G, D: a.D, optimizerG: a.optimizerG, optimizerD: a.optimizerD }, { epoch: 2, epochIter: 5, totalSteps: 9, globalUnfrozen: false }, ['latest']);
  assert.deepEqual(readdirSync(dir).sort(), [GENERATIONS_DIR, 'iter.txt', 'latest_net_D.pth', 'latest_net_G.pth', 'latest_state.json'],
    'final names only: no temporary file is left behind');
  assert.deepEqual(readdirSync(join(dir, GENERATIONS_DIR)), ['step-00000009']);
  assert.deepEqual(readdirSync(join(dir, GENERATIONS_DIR, 'step-00000009')).sort(), ['net_D.pth', 'net_G.pth', 'optim_D.pth', 'optim_G.pth']);

  const files = checkpointFiles(dir, 'latest');
  loadNetwork(b.G, files.G);
  loadNetwork(b.D, files.D);
  loadOptimizer(b.optimizerG, files.optimizerG!);
  loadOptimizer(b.optimizerD, files.optimizerD!);
  assertSameWeights(a.G, b.G, 'G');
  assertSameWeights(a.D, b.D, 'D');
  assertSameAdam(a.optimizerG, b.optimizerG, 'optimizer G');
  assertSameAdam(a.optimizerD, b.optimizerD, 'optimizer D');
  assert.equal(b.optimizerG.paramGroups[0]!.hyper.lr, 2e-4);
  for (const s of b.optimizerG.state.values()) assert.equal(s.step, 2);
  const state = loadTrainingState(dir) as GenerationRecord;
  assert.deepEqual({ ...state, files: undefined }, { epoch: 2, epochIter: 5, totalSteps: 9, globalUnfrozen: false, generation: 'step-00000009', names: ['latest'], files: undefined });
  // The official name is the generation's file itself (a hard link), not a second copy.
  const sb = readFileSync(netPath(dir, 'latest', 'G'));
  assert.ok(sb.equals(readFileSync(files.G)));

  // Continue both by one step on the same batch: the restored run must land on the same weights.
  const la = a.step.step(data).losses;
  const lb = b.step.step(data).losses;
  assert.deepEqual(lb, la, 'the same losses on the restored run');
  assertSameWeights(a.G, b.G, 'G after one more step');
  assertSameWeights(a.D, b.D, 'D after one more step');
  assertSameAdam(a.optimizerG, b.optimizerG, 'optimizer G after one more step');
});

test('the official iter.txt holds the epoch and the iteration, one per line (np.savetxt), and is read back', (t) => {
  const dir = tempDir(t);
  const a = tinyRun(3);
  t.after(() => a.dispose());
  saveTrainingCheckpoint(dir, { G: a.G }, { epoch: 3, epochIter: 7, totalSteps: 31, globalUnfrozen: true }, ['latest']);
  // np.savetxt(iter_path, (epoch, epoch_iter), delimiter=',', fmt='%d') writes "3\n7\n".
  assert.equal(readFileSync(join(dir, 'iter.txt'), 'utf8'), '3\n7\n');

  // A folder of the official code: iter.txt only, no state file.
  const official = tempDir(t);
  writeFileSync(join(official, 'iter.txt'), '12\n340\n');
  assert.deepEqual(loadTrainingState(official), { epoch: 12, epochIter: 340, totalSteps: 0, globalUnfrozen: false });
  assert.equal(loadTrainingState(tempDir(t)), undefined, 'nothing to resume from');

  const numpy = spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf-8' });
  if (numpy.status !== 0) {
    t.diagnostic(`numpy cross-check skipped: ${PY} cannot import numpy`);
    return;
  }
  // The official reader: np.loadtxt(iter_path, delimiter=',', dtype=int).
  const got = python('import sys, json, numpy as np\nprint(json.dumps(np.loadtxt(sys.argv[1], delimiter=",", dtype=int).tolist()))', [join(dir, 'iter.txt')]);
  assert.deepEqual(got, [3, 7]);
});

test('latest_optim_G.pth loads in PyTorch: torch.optim.Adam.load_state_dict accepts it and steps as ours does', (t) => {
  if (!existsSync(PY)) {
    t.skip(`${PY} not found`);
    return;
  }
  const dir = tempDir(t);
  const a = tinyRun(5);
  t.after(() => a.dispose());
  const data = batch();
  for (let i = 0; i < 3; i++) a.step.step(data);
  saveCheckpoint(dir, 'latest', { G: a.G, optimizerG: a.optimizerG });

  // In Python: parameters of the saved shapes set to zero, gradient 1 everywhere, one Adam step.
  const script = `
import sys, json, torch
sd = torch.load(sys.argv[1])
ids = sd['param_groups'][0]['params']
params = [torch.nn.Parameter(torch.zeros_like(sd['state'][i]['exp_avg'])) for i in ids]
opt = torch.optim.Adam(params, lr=1.0, betas=(0.9, 0.9))
opt.load_state_dict(sd)
g = opt.param_groups[0]
for p in params:
    p.grad = torch.ones_like(p)
opt.step()
print(json.dumps({'ids': ids, 'lr': g['lr'], 'betas': list(g['betas']), 'eps': g['eps'],
                  'steps': [float(opt.state[p]['step']) for p in params],
                  'after': [p.detach().flatten().tolist() for p in params]}))
`;
  const run = spawnSync(PY, ['-c', script, join(dir, 'latest_optim_G.pth')], { encoding: 'utf-8', timeout: 300_000 });
  if (run.status !== 0 && /No module named '?torch/.test(run.stderr)) {
    t.skip(`${PY} cannot import torch`);
    return;
  }
  assert.equal(run.status, 0, `PyTorch refused the file:\n${run.stderr}`);
  const py = JSON.parse(run.stdout.trim().split('\n').pop()!) as { ids: number[]; lr: number; betas: number[]; eps: number; steps: number[]; after: number[][] };
  const n = a.G.parameters().length;
  assert.deepEqual(py.ids, Array.from({ length: n }, (_, i) => i));
  assert.equal(py.lr, 2e-4);
  assert.deepEqual(py.betas, [0.5, 0.999]);
  assert.equal(py.eps, 1e-8);
  assert.deepEqual(py.steps, Array(n).fill(4), 'three steps saved, one more in Python');

  // The same here: an Adam over zero parameters restored from the same file, gradient 1, one step.
  const zeros = noGrad(() => a.G.parameters().map((p) => keep(zerosLike(p))));
  const c = new Adam(zeros, { lr: 1, betas: [0.9, 0.9] });
  t.after(() => { c.dispose(); for (const z of zeros) z.dispose(); });
  loadOptimizer(c, join(dir, 'latest_optim_G.pth'));
  for (const z of zeros) z.grad = noGrad(() => onesLike(z));
  c.step();
  zeros.forEach((z, i) => {
    const ours = z.toFloat32Array();
    const theirs = py.after[i]!;
    assert.equal(ours.length, theirs.length);
    for (let k = 0; k < ours.length; k++) {
      assert.ok(Math.abs(ours[k]! - theirs[k]!) <= 1e-6 * Math.max(1e-3, Math.abs(theirs[k]!)), `parameter ${i}[${k}]: ${ours[k]} vs PyTorch ${theirs[k]}`);
    }
  });
});

test('loadNetwork refuses a checkpoint of another architecture, naming the file; a missing file is named too', (t) => {
  const dir = tempDir(t);
  const a = tinyRun(7);
  t.after(() => a.dispose());
  saveCheckpoint(dir, '3', { G: a.G, D: a.D });
  const wider = initWeights(new GlobalGenerator({ input_nc: 4, output_nc: 3, ngf: 8, n_downsample_global: 1, n_blocks_global: 1 }), { seed: 1 });
  t.after(() => wider.dispose());
  const gPath = netPath(dir, '3', 'G');
  const dPath = netPath(dir, '3', 'D');
  assert.equal(gPath, join(dir, '3_net_G.pth'));
  assert.throws(() => loadNetwork(wider, gPath), (e: Error) => e.message.includes(gPath) && /shape/.test(e.message));
  assert.throws(() => loadNetwork(wider, dPath), (e: Error) => e.message.includes(dPath) && /missing keys|unexpected keys/.test(e.message));
  const absent = join(dir, 'latest_net_G.pth');
  assert.throws(() => loadNetwork(wider, absent), (e: Error) => e.message.includes(absent));
});

test('a save that fails part-way leaves the previous generation current and whole, and no temporary files', (t) => {
  const dir = tempDir(t);
  const a = tinyRun(11);
  const b = tinyRun(12);
  t.after(() => { a.dispose(); b.dispose(); });
  const state = { epoch: 1, epochIter: 2, totalSteps: 2, globalUnfrozen: false };
  saveTrainingCheckpoint(dir, { G: a.G, D: a.D, optimizerG: a.optimizerG }, state, ['latest']);
  const before = readdirSync(dir).sort();
  const generationsBefore = readdirSync(join(dir, GENERATIONS_DIR));
  // G and D of run b are written, then the optimizer's state cannot be (as a full disk would).
  const failing = { stateDict: () => { throw new Error('no space left on device'); } } as unknown as Adam;
  assert.throws(() => saveTrainingCheckpoint(dir, { G: b.G, D: b.D, optimizerG: failing }, { ...state, epochIter: 3, totalSteps: 3 }, ['latest']), /no space left/);
  assert.deepEqual(readdirSync(dir).sort(), before, 'no temporary file left, no new file');
  assert.deepEqual(readdirSync(join(dir, GENERATIONS_DIR)), generationsBefore, 'no temporary generation folder left');
  const c = tinyRun(13);
  t.after(() => c.dispose());
  loadNetwork(c.G, netPath(dir, 'latest', 'G'));
  loadNetwork(c.D, checkpointFiles(dir, 'latest').D);
  assertSameWeights(a.G, c.G, 'G is still the previous checkpoint\'s');
  assertSameWeights(a.D, c.D, 'D is still the previous checkpoint\'s');
  assert.equal(loadTrainingState(dir)!.totalSteps, 2);
});

test('a generation with a file missing or cut short is refused before anything loads, naming the file, the step and the way back', (t) => {
  const dir = tempDir(t);
  const a = tinyRun(14);
  t.after(() => a.dispose());
  saveTrainingCheckpoint(dir, { G: a.G, D: a.D, optimizerG: a.optimizerG }, { epoch: 2, epochIter: 0, totalSteps: 4, globalUnfrozen: false }, ['latest', '1']);
  assert.ok(existsSync(join(dir, '1_net_G.pth')) && existsSync(join(dir, '1_net_D.pth')), 'the numbered names of the same generation');
  const optim = checkpointFiles(dir, 'latest').optimizerG!;
  writeFileSync(optim, readFileSync(optim).subarray(0, 100));
  assert.throws(() => checkpointFiles(dir, 'latest'), (e: Error) =>
    e.message.includes(optim) && /step 4/.test(e.message) && /has 100 bytes/.test(e.message) && /--which_epoch N \(this run has epochs 1\)/.test(e.message));
  rmSync(optim);
  assert.throws(() => checkpointFiles(dir, 'latest'), (e: Error) => e.message.includes(optim) && /is missing/.test(e.message));
});
