// --recompute_blocks: G's residual blocks are recomputed in the backward instead of kept (activation
// checkpointing). The recomputed blocks run the same kernels on the same inputs in the same order,
// and every gradient is summed in the same order (each tensor that changes hands between the
// backward's portions gets its gradient from at most two places, and a + b = b + a exactly), so
// training with it must give bitwise the same losses and weights as training without it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Adam, cat, dispose, liveTensorCount, noGrad, tensor, tidy, type Tensor, type nn } from '../../src/torch/index.js';
import { Encoder, initWeights, LocalEnhancer, MultiscaleDiscriminator, ResnetBlock, Vgg19Features } from '../../src/models/index.js';
import { VGGLoss } from '../../src/losses/index.js';
import { TrainStep, type StepLosses, type StepOptimizer } from '../../src/train/step.js';
import { checkRecompute } from '../../src/train/trainer.js';
import { uniform } from '../models/helpers.js';

interface Trained {
  losses: StepLosses[];
  weights: Map<string, Tensor>;
  /** Forwards of G's residual blocks' layers over the run. */
  blockForwards: number;
  /** Forwards of the VGG loss network's slices over the run. */
  vggForwards: number;
  /** Tensors alive after the 2nd and after the 3rd iteration. */
  live: [number, number];
}

function residualBlocks(m: nn.Module): ResnetBlock[] {
  return m.namedChildren().flatMap(([, c]) => (c instanceof ResnetBlock ? [c] : residualBlocks(c)));
}

/**
 * Three iterations of a local G (two G1 blocks, two enhancer blocks) with an encoder inside G's
 * input (E's parameters are reached from two of the backward's portions), feature matching and
 * the VGG loss. `inBackward` false: G's optimizer leaves gradients in .grad and steps after.
 */
function train(savers: { recompute_blocks?: boolean; D_real_first?: boolean; recompute_vgg?: boolean }, inBackward: boolean): Trained {
  const G = initWeights(new LocalEnhancer({ input_nc: 4 + 3, output_nc: 3, ngf: 4, n_downsample_global: 2, n_blocks_global: 2, n_local_enhancers: 1, n_blocks_local: 2 }), { seed: 1 });
  const E = initWeights(new Encoder({ input_nc: 3, output_nc: 3, nef: 4, n_downsample_E: 1 }), { seed: 2 });
  const D = initWeights(new MultiscaleDiscriminator({ input_nc: 4 + 3, ndf: 4, n_layers_D: 2, num_D: 2 }), { seed: 3 });
  const vgg = initWeights(new Vgg19Features(), { seed: 4 }).requiresGrad_(false);
  const adamG = new Adam([...G.parameters(), ...E.parameters()], { lr: 1e-3, betas: [0.5, 0.999] });
  const optimizerG: StepOptimizer = inBackward ? adamG : { zeroGrad: (n) => adamG.zeroGrad(n), step: () => adamG.step(), paramGroups: adamG.paramGroups };
  const optimizerD = new Adam(D.parameters(), { lr: 1e-3, betas: [0.5, 0.999] });
  let blockForwards = 0;
  for (const block of residualBlocks(G)) {
    const inner = block.conv_block.forward.bind(block.conv_block);
    block.conv_block.forward = (x: Tensor) => { blockForwards++; return inner(x); };
  }
  let vggForwards = 0;
  for (const slice of vgg.slices) {
    const inner = slice.forward.bind(slice);
    slice.forward = (x: Tensor) => { vggForwards++; return inner(x); };
  }
  const inputLabel = uniform([1, 4, 32, 32], 1, 0, 1);
  const realImage = uniform([1, 3, 32, 32], 2);
  const inst = tensor(Array.from({ length: 1024 }, (_, i) => (i % 32 < 16 ? 1 : 2)), [1, 1, 32, 32], { dtype: 'int64' });
  try {
    const step = new TrainStep({ G, D, vggLoss: new VGGLoss(vgg), optimizerG, optimizerD }, { num_D: 2, n_layers_D: 2, ...savers });
    const batch = () => ({ condition: inputLabel, input: cat([inputLabel, E.forward(realImage, inst)], 1), realImage });
    const losses: StepLosses[] = [];
    const live: number[] = [];
    for (let i = 0; i < 3; i++) {
      losses.push(step.step(batch).losses);
      if (i > 0) live.push(liveTensorCount());
    }
    const weights = noGrad(() => new Map([...G.stateDict(), ...[...E.stateDict()].map(([k, t]) => [`E.${k}`, t] as const), ...[...D.stateDict()].map(([k, t]) => [`D.${k}`, t] as const)]
      .map(([k, t]) => [k, t.clone()])));
    return { losses, weights, blockForwards, vggForwards, live: live as [number, number] };
  } finally {
    dispose([inputLabel, realImage, inst]);
    adamG.dispose();
    optimizerD.dispose();
    for (const m of [G, E, D, vgg]) m.dispose();
  }
}

function assertSameTraining(a: Trained, b: Trained): void {
  assert.deepEqual(b.losses, a.losses, 'the same losses, to the last bit');
  assert.deepEqual([...b.weights.keys()], [...a.weights.keys()]);
  for (const [k, t] of a.weights) {
    const d = tidy(() => t.sub(b.weights.get(k)!).abs().max().item());
    assert.equal(d, 0, `${k}: differs by up to ${d}`);
  }
}

for (const inBackward of [true, false]) {
  test(`recomputing G's residual blocks trains bitwise the same as keeping them (G ${inBackward ? 'updated inside its backward' : 'stepped from .grad'})`, () => {
    const kept = train({}, inBackward);
    const recomputed = train({ recompute_blocks: true }, inBackward);
    try {
      // 4 blocks × 3 iterations: once each without, once more in each backward with the option.
      assert.equal(kept.blockForwards, 12);
      assert.equal(recomputed.blockForwards, 24, 'every block is recomputed once per step');
      assertSameTraining(kept, recomputed);
      assert.equal(recomputed.live[1], recomputed.live[0], 'nothing recorded outlives its step');
    } finally {
      dispose([[...kept.weights.values()], [...recomputed.weights.values()]]);
    }
  });
}

test('--D_real_first (alone and with --recompute_blocks) trains bitwise the same as the official order', () => {
  const plain = train({}, true);
  const realFirst = train({ D_real_first: true }, true);
  const both = train({ D_real_first: true, recompute_blocks: true }, true);
  try {
    assertSameTraining(plain, realFirst);
    assertSameTraining(plain, both);
    assert.equal(both.blockForwards, 24);
    assert.equal(realFirst.live[1], realFirst.live[0], 'nothing of the real pass outlives its step');
  } finally {
    dispose([[...plain.weights.values()], [...realFirst.weights.values()], [...both.weights.values()]]);
  }
});

for (const inBackward of [true, false]) {
  test(`recomputing the VGG loss's network (and G's blocks) trains bitwise the same as keeping them (G ${inBackward ? 'updated inside its backward' : 'stepped from .grad'})`, () => {
    const kept = train({}, inBackward);
    const vgg = train({ recompute_vgg: true }, inBackward);
    const all = train({ recompute_vgg: true, recompute_blocks: true, D_real_first: true }, inBackward);
    try {
      assertSameTraining(kept, vgg);
      assertSameTraining(kept, all);
      assert.equal(vgg.blockForwards, 12, 'the blocks are not recomputed without --recompute_blocks');
      // 5 slices on the fake and 5 on the real image a step; the fake's once more with the option.
      assert.equal(kept.vggForwards, 30);
      assert.equal(vgg.vggForwards, 45, 'every slice of the fake\'s pass is recomputed once per step');
      assert.equal(vgg.live[1], vgg.live[0], 'nothing recorded outlives its step');
    } finally {
      dispose([[...kept.weights.values()], [...vgg.weights.values()], [...all.weights.values()]]);
    }
  });
}

test('--recompute_blocks refuses what a recomputed block would compute differently, and data-parallel gradients', () => {
  // G is a single residual block here: 4 channels in and out, D sees 4 + 4.
  const D = initWeights(new MultiscaleDiscriminator({ input_nc: 4 + 4, ndf: 4, n_layers_D: 1, num_D: 1 }), { seed: 3 });
  const x = uniform([1, 4, 8, 8], 6);
  const stepWith = (G: ResnetBlock, opts: { recompute_blocks?: boolean; gradients?: boolean } = {}) => new TrainStep(
    { G, D, optimizerG: new Adam(G.parameters(), { lr: 1e-3 }), optimizerD: new Adam(D.parameters(), { lr: 1e-3 }), gradients: opts.gradients ? { averageGradients: () => undefined } : null },
    { num_D: 1, n_layers_D: 1, no_vgg_loss: true, recompute_blocks: opts.recompute_blocks ?? true });
  const batchNorm = new ResnetBlock(4, { norm: 'batch' });
  const dropout = new ResnetBlock(4, { use_dropout: true });
  try {
    assert.throws(() => stepWith(batchNorm).step({ condition: x, input: x, realImage: x }), /--recompute_blocks: batch norm updates its running statistics/);
    assert.throws(() => stepWith(dropout).step({ condition: x, input: x, realImage: x }), /--recompute_blocks: dropout/);
    assert.throws(() => stepWith(new ResnetBlock(4), { gradients: true }), /--recompute_blocks trains one process/);
    assert.throws(() => new TrainStep({ G: batchNorm, D, optimizerG: new Adam(batchNorm.parameters()), optimizerD: new Adam(D.parameters()), gradients: { averageGradients: () => undefined } },
      { num_D: 1, n_layers_D: 1, no_vgg_loss: true, D_real_first: true }), /--D_real_first trains one process/);
    // The refusals are the option's: without it the batch-norm block trains.
    stepWith(batchNorm, { recompute_blocks: false }).step({ condition: x, input: x, realImage: x });
  } finally {
    x.dispose();
    for (const m of [D, batchNorm, dropout]) m.dispose();
  }
});

test('the trainer refuses --recompute_blocks with --norm batch or several ranks, --D_real_first and --recompute_vgg with several ranks, before anything is written', () => {
  const config = (norm: string, recompute_blocks: boolean, D_real_first = false, recompute_vgg = false) => ({ network: { norm } as never, train: { recompute_blocks, D_real_first, recompute_vgg } });
  assert.throws(() => checkRecompute(config('batch', true), 1), /--recompute_blocks with --norm batch/);
  assert.throws(() => checkRecompute(config('instance', true), 2), /--recompute_blocks trains one process, and this job has 2 ranks/);
  checkRecompute(config('instance', true), 1);
  checkRecompute(config('batch', false), 2);
  assert.throws(() => checkRecompute(config('instance', false, true), 2), /--D_real_first trains one process/);
  checkRecompute(config('batch', false, true), 1);
  assert.throws(() => checkRecompute(config('instance', false, false, true), 2), /--recompute_vgg trains one process/);
  checkRecompute(config('batch', false, false, true), 1);
});
