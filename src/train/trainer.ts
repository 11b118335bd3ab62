// pix2pixHD training as the official train.py runs it: epochs over the data set, the lr held for
// `niter` epochs then decayed linearly over `niter_decay`, only the outermost local enhancer
// trained for the first `niter_fix_global` epochs (then G1 joins: see README on the official
// code's AMP commit), checkpoints every `save_latest_freq` iterations and `save_epoch_freq`
// epochs, losses logged and samples shown on an HTML page (by the caller, through `events`).
import { existsSync, mkdirSync } from 'node:fs';
import { buildDiscriminator, buildEncoder, buildGenerator, outermostEnhancerPrefix, usesFeatures, type Generator } from '../models/from-options.js';
import type { Encoder, MultiscaleDiscriminator } from '../models/index.js';
import { Vgg19Features } from '../models/vgg19.js';
import { VGGLoss } from '../losses/vgg-loss.js';
import type { RunConfig } from '../run/config.js';
import { checkpointFiles, loadNetwork, loadOptimizer, loadTrainingState, netPath, saveTrainingCheckpoint, type ResumeFiles, type TrainingState } from '../run/checkpoint.js';
import { settleRunFolder } from '../run/generation.js';
import { generatorInput, type FeatureSource } from '../run/generator-input.js';
import { Adam, GradScaler, loadTensorDict, manualSeed, noGrad, type nn, type Tensor } from '../torch/index.js';
import { killPoint } from '../util/fault-injection.js';
import { deriveSeed, randomSource } from '../util/rng.js';
import type { Batch } from '../data/index.js';
import type { BatchSource } from './data-source.js';
import { WeightAverage } from './ema.js';
import { ImagePool } from './image-pool.js';
import { learningRateAt, totalEpochs } from './schedule.js';
import { TrainStep, type GradientAverager, type StepLosses } from './step.js';

/** --fp16 needs CUDA: refused on the CPU, before anything is written. */
export function checkPrecision(config: Pick<RunConfig, 'device'> & { train: Pick<RunConfig['train'], 'fp16'> }): void {
  if (config.train.fp16 && !config.device.startsWith('cuda')) {
    throw new Error('--fp16: mixed precision runs on a CUDA device (--gpu_ids 0), and this run is on the CPU; there, lower the memory with a smaller --ngf/--ndf, --resize_or_crop crop with a smaller --fineSize, or --no_vgg_loss');
  }
}

/**
 * The memory savers (--recompute_blocks, --D_real_first): refused, before anything is written,
 * where a recomputed block would not compute what the kept one did (batch norm's running
 * statistics would be updated twice) or where the backward is the data-parallel one.
 */
export function checkRecompute(config: Pick<RunConfig, 'network'> & { train: Pick<RunConfig['train'], 'recompute_blocks' | 'D_real_first' | 'recompute_vgg'> }, worldSize: number): void {
  if (config.train.D_real_first && worldSize > 1) {
    throw new Error(`--D_real_first trains one process, and this job has ${worldSize} ranks (D's gradients are averaged in one backward of its whole loss); drop one of the two`);
  }
  if (config.train.recompute_vgg && worldSize > 1) {
    throw new Error(`--recompute_vgg trains one process, and this job has ${worldSize} ranks (their gradients are averaged by a backward that does not recompute); drop one of the two`);
  }
  if (!config.train.recompute_blocks) return;
  if (config.network.norm === 'batch') {
    throw new Error('--recompute_blocks with --norm batch: a recomputed block would update batch norm\'s running statistics a second time; use --norm instance, or train without --recompute_blocks');
  }
  if (worldSize > 1) {
    throw new Error(`--recompute_blocks trains one process, and this job has ${worldSize} ranks (their gradients are averaged by a backward that does not recompute); drop one of the two`);
  }
}

/**
 * Whether G1 is frozen during `epoch`: local runs with niter_fix_global train only the outermost
 * enhancer for that many epochs (the one place this condition is written).
 */
export function globalFrozenIn(epoch: number, config: RunConfig): boolean {
  return config.network.netG === 'local' && epoch <= config.train.niter_fix_global;
}

/** What the trainer tells its observers (progress bar, logs, pages). */
export interface TrainEvents {
  onStart?(info: { runDir: string; epochs: number; datasetSize: number; startEpoch: number; startStep: number; parameters: Record<string, number>; resumed: boolean; networks: Record<string, nn.Module> }): void;
  onIteration?(info: { epoch: number; epochIter: number; totalSteps: number; losses: StepLosses; lr: number; seconds: number }): void;
  /** Every display_freq iterations: the batch and what G made of it (tensors freed after the call). */
  onDisplay?(info: { epoch: number; totalSteps: number; batch: Batch; fake: Tensor }): void;
  onSave?(info: { which: string; epoch: number; totalSteps: number }): void;
  /** Awaited before the next epoch starts (an evaluation may run here). */
  onEpochEnd?(info: { epoch: number; seconds: number; lr: number }): void | Promise<void>;
  onMessage?(text: string): void;
}

export interface TrainResult {
  runDir: string;
  totalSteps: number;
  lastLosses: StepLosses | null;
}

interface Networks {
  G: Generator;
  D: MultiscaleDiscriminator;
  E: Encoder | null;
}

function parametersWithPrefix(G: Generator, prefix: string): Tensor[] {
  return G.namedParameters().filter(([k]) => k.startsWith(prefix)).map(([, p]) => p);
}

/**
 * A data-parallel job as the trainer sees it (src/dist's DataParallel): this rank's place, rank 0's
 * weights for everyone, gradients averaged across ranks.
 */
export interface RankGroup extends GradientAverager {
  readonly rank: number;
  readonly worldSize: number;
  /** Rank 0: the one process that writes checkpoints (and, through the CLI, logs and pages). */
  readonly isWriter: boolean;
  broadcastFrom0(modules: readonly (nn.Module | null | undefined)[]): void;
  barrier(): void;
}

/**
 * Trains a run end to end; resolves when the last epoch is done. With `ranks` this process is one
 * rank of a data-parallel job: `data` yields this rank's shard of each whole batch, and only rank 0
 * writes to the run folder.
 */
export async function train(config: RunConfig, data: BatchSource, events: TrainEvents = {}, ranks: RankGroup | null = null): Promise<TrainResult> {
  const { network: net, train: opt, device, dir: runDir } = config;
  checkPrecision(config);
  checkRecompute(config, ranks?.worldSize ?? 1);
  const writer = ranks?.isWriter ?? true;
  const worldSize = ranks?.worldSize ?? 1;
  mkdirSync(runDir, { recursive: true });
  // What a save killed halfway left is never a checkpoint: clear it (and finish what the last
  // committed save had still to do) before anything else; the writer only (rank 0), as another
  // rank must not touch a save rank 0 is making.
  const settled = writer ? settleRunFolder(runDir) : [];
  manualSeed(config.seed);
  const nets: Networks = {
    G: buildGenerator(net, deriveSeed(config.seed, 'G')),
    D: buildDiscriminator(net, deriveSeed(config.seed, 'D')),
    E: buildEncoder(net, deriveSeed(config.seed, 'E')),
  };
  const { G, D, E } = nets;
  const vgg = opt.no_vgg_loss ? null : Vgg19Features.load(opt.vgg_weights || undefined);
  if (device !== 'cpu') for (const m of [G, D, E, vgg]) m?.to(device);
  const vggLoss = vgg ? new VGGLoss(vgg, { lambda_feat: opt.lambda_feat }) : null;
  const message = (t: string) => events.onMessage?.(t);
  for (const m of settled) message(m);

  // Resume, or start from a pretrained (e.g. G1-only) run.
  let state: TrainingState = { epoch: 1, epochIter: 0, totalSteps: 0, globalUnfrozen: false };
  let resumeFrom: ResumeFiles | null = null;
  if (opt.continue_train && config.which_epoch !== 'latest') {
    // As the official code: the networks of epoch N, training on from the epoch after it; the
    // optimizers start afresh (the official code saves none). The way back from a damaged latest.
    const n = Number(config.which_epoch);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--continue_train --which_epoch ${config.which_epoch}: give 'latest' or an epoch number`);
    resumeFrom = { ...checkpointFiles(runDir, String(n)), optimizerG: undefined, optimizerD: undefined };
    if (!existsSync(resumeFrom.G)) throw new Error(`--continue_train --which_epoch ${n}: no ${resumeFrom.G}`);
    state = { epoch: n + 1, epochIter: 0, totalSteps: n * data.size, globalUnfrozen: n >= opt.niter_fix_global };
    message(`continue_train: from the networks of epoch ${n} (${resumeFrom.G}), with fresh optimizers`);
  } else if (opt.continue_train) {
    const saved = loadTrainingState(runDir);
    const files = saved ? checkpointFiles(runDir, 'latest') : null;
    if (saved && files && existsSync(files.G)) {
      // The official iter.txt holds no step count: it is the items of the epochs before and of this one.
      state = saved.totalSteps === 0 && (saved.epoch > 1 || saved.epochIter > 0) ? { ...saved, totalSteps: (saved.epoch - 1) * data.size + saved.epochIter } : saved;
      state = { epoch: state.epoch, epochIter: state.epochIter, totalSteps: state.totalSteps, globalUnfrozen: state.globalUnfrozen };
      resumeFrom = files;
    } else {
      message(`continue_train: no checkpoint in ${runDir} yet; starting from epoch 1`);
    }
  } else if (opt.load_pretrain) {
    loadPretrained(nets, config, message);
  }

  // While G1 is frozen only the outermost enhancer trains; G1's parameters get no gradients at all.
  const frozen = (epoch: number) => globalFrozenIn(epoch, config) && !state.globalUnfrozen;
  const makeOptimizerG = (onlyEnhancer: boolean, lr: number) => {
    const params = onlyEnhancer ? parametersWithPrefix(G, outermostEnhancerPrefix(net)) : G.parameters();
    return new Adam([...params, ...(E ? E.parameters() : [])], { lr, betas: [opt.beta1, 0.999] });
  };
  const setGlobalFrozen = (isFrozen: boolean) => {
    const trainable = new Set(parametersWithPrefix(G, outermostEnhancerPrefix(net)));
    for (const p of G.parameters()) if (!trainable.has(p)) p.requiresGrad_(!isFrozen);
  };
  // D's rate follows the same schedule from its own start (TTUR); equal to G's unless --lr_D.
  const lrOfD = (epoch: number) => learningRateAt(epoch, { ...opt, lr: opt.lr_D });
  let lr = learningRateAt(state.epoch, opt);
  let optimizerG = makeOptimizerG(frozen(state.epoch), lr);
  const optimizerD = new Adam(D.parameters(), { lr: lrOfD(state.epoch), betas: [opt.beta1, 0.999] });
  if (frozen(state.epoch)) {
    setGlobalFrozen(true);
    message(`only the outermost local enhancer trains for the first ${opt.niter_fix_global} epochs`);
  }
  const pool = opt.pool_size > 0 ? new ImagePool(opt.pool_size, randomSource(deriveSeed(config.seed, 'pool'))) : null;
  if (resumeFrom) {
    loadNetwork(G, resumeFrom.G);
    loadNetwork(D, resumeFrom.D);
    if (E) loadNetwork(E, resumeFrom.E);
    if (resumeFrom.optimizerG) loadOptimizer(optimizerG, resumeFrom.optimizerG);
    if (resumeFrom.optimizerD) loadOptimizer(optimizerD, resumeFrom.optimizerD);
    if (pool && resumeFrom.pool) pool.restore([...loadTensorDict(resumeFrom.pool, device).values()]);
    optimizerG.setLr(lr);
    optimizerD.setLr(lrOfD(state.epoch));
  }
  const resumed = resumeFrom !== null;

  // Every rank starts from rank 0's weights (fresh, pretrained or resumed: the same files on every
  // rank already, but a rank on another machine might have read another copy).
  ranks?.broadcastFrom0([G, D, E]);
  const stepper = new TrainStep(
    { G, D, vggLoss, optimizerG, optimizerD, fakePool: pool, amp: opt.fp16 ? { deviceType: 'cuda', scaler: new GradScaler() } : null, gradients: ranks },
    { num_D: net.num_D, n_layers_D: net.n_layers_D, lambda_feat: opt.lambda_feat, no_ganFeat_loss: opt.no_ganFeat_loss, no_vgg_loss: opt.no_vgg_loss, no_lsgan: net.no_lsgan,
      gan_mode: opt.gan_mode === 'hinge' ? 'hinge' : '', recompute_blocks: opt.recompute_blocks, D_real_first: opt.D_real_first, recompute_vgg: opt.recompute_vgg },
  );
  // E trains with G: its forward is part of G's input, inside the step.
  const features: FeatureSource | null = !usesFeatures(net) ? null : net.load_features ? { kind: 'precomputed' } : { kind: 'encoder', E: E!, training: true };

  const epochs = totalEpochs(opt);
  events.onStart?.({
    runDir, epochs, datasetSize: data.size, startEpoch: state.epoch, startStep: state.totalSteps, resumed,
    parameters: { G: G.parameterCount(), D: D.parameterCount(), ...(E ? { E: E.parameterCount() } : {}) },
    networks: { G, D, ...(E ? { E } : {}) },
  });
  // --ema: a second generator holding the moving average of G's weights, resumed with the run.
  const ema = opt.ema > 0 ? new WeightAverage(buildGenerator(net, 0), opt.ema, G) : null;
  if (ema) {
    if (device !== 'cpu') ema.average.to(device);
    if (resumeFrom?.G_ema) loadNetwork(ema.average, resumeFrom.G_ema);
  }
  const G_ema = ema?.average;
  const checkpointParts = () => ({ G, D, E: E ?? undefined, G_ema, optimizerG, optimizerD, pool: pool ? [...pool.images()] : undefined });
  const savesEpoch = (epoch: number) => (opt.save_epoch_freq > 0 && epoch % opt.save_epoch_freq === 0) || epoch === epochs;
  let lastLosses: StepLosses | null = null;

  for (let epoch = state.epoch; epoch <= epochs; epoch++) {
    const epochStart = performance.now();
    lr = learningRateAt(epoch, opt);
    optimizerG.setLr(lr);
    optimizerD.setLr(lrOfD(epoch));
    let epochIter = epoch === state.epoch ? state.epochIter : 0;
    for await (const batch of data.epoch(epoch, epochIter)) {
      const t0 = performance.now();
      // Steps count the whole batch, every rank's shard of it.
      const items = batch.size * worldSize;
      const display = writer && opt.display_freq > 0 && (state.totalSteps + items) % opt.display_freq < items;
      // Each rank pools its own fakes with its own random stream, as each rank of a DDP job would.
      pool?.reseed(randomSource(ranks ? deriveSeed(config.seed, 'pool', state.totalSteps, ranks.rank) : deriveSeed(config.seed, 'pool', state.totalSteps)));
      const { losses, fake } = stepper.step(() => generatorInput(batch, net, features, device), { keepFake: display });
      ema?.update(G);
      state.totalSteps += items;
      epochIter += items;
      lastLosses = losses;
      events.onIteration?.({ epoch, epochIter, totalSteps: state.totalSteps, losses, lr, seconds: (performance.now() - t0) / 1000 });
      if (fake) {
        try {
          events.onDisplay?.({ epoch, totalSteps: state.totalSteps, batch, fake });
        } finally {
          fake.dispose();
        }
      }
      // A save due on an epoch's last iteration is left to the epoch's own save, a moment later.
      const epochSaveFollows = epochIter >= data.size && savesEpoch(epoch);
      if (writer && opt.save_latest_freq > 0 && state.totalSteps % opt.save_latest_freq < items && !epochSaveFollows) {
        saveTrainingCheckpoint(runDir, checkpointParts(), { ...state, epoch, epochIter }, ['latest']);
        events.onSave?.({ which: 'latest', epoch, totalSteps: state.totalSteps });
      }
      killPoint(state.totalSteps);
    }

    // End of epoch: G1 joins after niter_fix_global, numbered checkpoint, lr decays.
    if (frozen(epoch) && !frozen(epoch + 1)) {
      setGlobalFrozen(false);
      optimizerG.dispose();
      optimizerG = makeOptimizerG(false, lr);
      stepper.setOptimizerG(optimizerG);
      state.globalUnfrozen = true;
      message(`epoch ${epoch}: G1 now trains with the local enhancer`);
    }
    const next: TrainingState = { ...state, epoch: epoch + 1, epochIter: 0 };
    if (writer && savesEpoch(epoch)) {
      // One generation is both `latest` and the numbered checkpoint: no crash can keep one without the other.
      saveTrainingCheckpoint(runDir, checkpointParts(), next, ['latest', String(epoch)]);
      events.onSave?.({ which: String(epoch), epoch, totalSteps: state.totalSteps });
    }
    state = next;
    await events.onEpochEnd?.({ epoch, seconds: (performance.now() - epochStart) / 1000, lr });
  }

  // No rank leaves while another may still need it (and a rank lost at the very end is reported).
  ranks?.barrier();
  pool?.dispose();
  ema?.dispose();
  optimizerG.dispose();
  optimizerD.dispose();
  vgg?.dispose();
  E?.dispose();
  D.dispose();
  G.dispose();
  return { runDir, totalSteps: state.totalSteps, lastLosses };
}

/**
 * load_pretrain, as the official model: the networks of another run start this one. A G1-only run
 * (netG global, twice this run's ngf per enhancer) starts this run's G1, its output layer left
 * out (not part of G2); D and E are taken when their shapes fit (E always is in the official code
 * when the run uses features: a feature run started from another keeps the encoder it learned).
 */
function loadPretrained({ G, D, E }: Networks, config: RunConfig, message: (t: string) => void): void {
  const dir = config.train.load_pretrain;
  const which = config.which_epoch;
  const gPath = netPath(dir, which, 'G');
  if (!existsSync(gPath)) throw new Error(`load_pretrain: ${gPath} not found (expected a run folder holding ${which}_net_G.pth)`);
  noGrad(() => {
    const saved = loadTensorDict(gPath);
    try {
      const own = G.stateDict();
      // Only names that match are taken, so a G saved with another --spectral_norm would be
      // skipped whole and this run's G1 would start fresh without a word.
      const normalised = (keys: Iterable<string>) => [...keys].some((k) => k.endsWith('.weight_orig'));
      if (normalised(saved.keys()) !== normalised(own.keys())) {
        throw new Error(`load_pretrain: ${gPath} holds a G ${normalised(saved.keys()) ? 'with' : 'without'} spectral normalisation, ` +
          `but this run's G is ${normalised(own.keys()) ? 'normalised' : 'not'} (give --spectral_norm as the pretrained run was trained: G or both, or none/D)`);
      }
      const usable = new Map([...saved].filter(([k]) => own.has(k)));
      const { missing } = G.loadStateDict(usable, { strict: false, source: gPath });
      message(`load_pretrain: G from ${gPath} (${usable.size} tensors; ${missing.length} new: the local enhancer)`);
    } finally {
      for (const t of saved.values()) t.dispose();
    }
  });
  for (const [name, module] of [['D', D], ['E', E]] as const) {
    if (!module) continue;
    const path = netPath(dir, which, name);
    if (!existsSync(path)) {
      if (name === 'E') message(`load_pretrain: no ${path}; E starts fresh`);
      continue;
    }
    try {
      loadNetwork(module, path);
      message(`load_pretrain: ${name} from ${path}`);
    } catch (e) {
      message(`load_pretrain: ${name} in ${path} does not fit this run's ${name}, which starts fresh (${(e as Error).message.split('\n')[0]})`);
    }
  }
}
